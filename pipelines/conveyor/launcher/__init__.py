"""Submit compiled workflows to Argo, watch them, and mirror their state into the metadata store.

Public API::

    from conveyor.launcher import submit, schedule
    run = submit(spec, {"lr": 0.1}, profile, watch=True)      # ClusterRun, shaped like RunResult
    schedule(spec, "0 3 * * *", profile)                      # a CronWorkflow
    sync(profile)                    # record how unwatched (e.g. scheduled) Workflows ended

Before anything is created, the cached prefix of the run is resolved against the profile's
metadata and artifact stores (``resolve.py``): a fully cached run creates no Workflow, a
partially cached one submits only what is left. Kubernetes access goes through
``CustomObjectsApi`` (``kube.py``); tests pass a recording client with the same methods.
"""

from conveyor.launcher.kube import LaunchError, api_client, core_v1, custom_objects
from conveyor.launcher.resolve import Resolution, resolve_cached
from conveyor.launcher.submit import ClusterRun, bind, build_manifest, new_run_id, schedule, submit
from conveyor.launcher.sync import SyncedRun, sync
from conveyor.launcher.watch import NodeEvent, Watcher, mirror

__all__ = ["ClusterRun", "LaunchError", "NodeEvent", "Resolution", "Watcher", "api_client", "bind", "build_manifest",
           "core_v1", "custom_objects", "mirror", "new_run_id", "resolve_cached", "schedule", "submit",
           "sync", "SyncedRun"]
