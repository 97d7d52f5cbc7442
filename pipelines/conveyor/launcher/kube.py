"""Kubernetes clients for a profile, and one-line errors that never carry the kubeconfig.

The profile's ``kubeconfig`` is a secret (it usually embeds a token or client key). It is parsed
in memory and handed to the kubernetes client as a dict - never written by us, never logged, and
never part of an error message: a malformed kubeconfig is reported by shape, not content.
"""

from __future__ import annotations

import contextlib
import json

from conveyor.profile import Profile

GROUP = "argoproj.io"
VERSION = "v1alpha1"
WORKFLOWS = "workflows"
CRON_WORKFLOWS = "cronworkflows"


class LaunchError(RuntimeError):
    """Submitting or watching failed; the message names the namespace/object and the cause."""


def api_client(profile: Profile):
    """A kubernetes ``ApiClient`` for the profile's cluster (its kubeconfig, else the default config)."""
    try:
        from kubernetes import config
    except ImportError:
        raise LaunchError("the kubernetes client is not installed; install conveyor-ml[cluster]") from None
    secret = profile.kubeconfig
    try:
        if secret is None:
            try:
                config.load_incluster_config()
                from kubernetes import client

                return client.ApiClient()
            except config.ConfigException:
                return config.new_client_from_config(persist_config=False)
        import yaml

        try:
            data = yaml.safe_load(secret.get_secret_value())
        except yaml.YAMLError:
            data = None
        if not isinstance(data, dict):
            raise LaunchError("profile kubeconfig: not a kubeconfig (expected a YAML mapping with clusters/users)")
        return config.new_client_from_config_dict(data, persist_config=False)
    except LaunchError:
        raise
    except Exception as exc:  # noqa: BLE001 - the loader's messages may quote the config: say only what failed
        raise LaunchError(f"profile kubeconfig: cannot build a client ({type(exc).__name__}); "
                          "check `current-context`, clusters and users") from None


def custom_objects(profile: Profile):
    from kubernetes import client

    return client.CustomObjectsApi(api_client(profile))


def core_v1(profile: Profile):
    from kubernetes import client

    return client.CoreV1Api(api_client(profile))


def api_error(exc: BaseException, what: str) -> LaunchError:
    """A LaunchError for a failed API call: HTTP status, reason and the server's message."""
    status = getattr(exc, "status", None)
    if status is None:
        return LaunchError(f"{what}: {type(exc).__name__}: {str(exc)[:300]}")
    message = ""
    with contextlib.suppress(ValueError, AttributeError):
        message = json.loads(getattr(exc, "body", "") or "{}").get("message", "")
    hint = {401: " (the kubeconfig's credentials were rejected)", 403: " (the service account may not do this)",
            404: " (is Argo Workflows installed in this cluster and namespace?)"}.get(status, "")
    return LaunchError(f"{what}: HTTP {status} {getattr(exc, 'reason', '') or ''}{hint} {message[:300]}".rstrip())
