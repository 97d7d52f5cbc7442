"""Text forms shared by every place a value crosses a process or an Argo boundary.

One definition each, used by the compiler (Workflow arguments, the embedded spec), the launcher
(injected cached outputs, ``-p`` arguments), the pod (its ``--outputs-dir`` files) and the local
executor (run ids):

- :func:`text_form`: strings raw, everything else compact sorted JSON;
- :func:`artifact_ref` / :func:`decode_artifact`: an artifact output as text - its stored dict
  (uri + digest), or, when its metadata is large, a reference to the producer's recorded row;
- :func:`encode_spec` / :func:`decode_spec`: the spec as gzip+base64 (compact, and free of the
  ``{{`` Argo would substitute);
- :func:`new_run_id`: ``<pipeline>-<UTC stamp>-<hex>``, also a valid Workflow name.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import re
import secrets
import time
from typing import Any

from conveyor.ir.errors import PermanentError
from conveyor.ir.spec import PipelineSpec
from conveyor.stores.metadata.api import MetadataStore, MetadataStoreError

MAX_INLINE_REF = 4096  # bytes of JSON; bigger artifact references point at the metadata store
ARTIFACT_KEYS = ("type", "name", "uri", "digest", "size", "metadata")
_NON_DNS = re.compile(r"[^a-z0-9-]+")


class SpecCodecError(PermanentError):
    """An embedded spec that is not base64 of gzip of the spec JSON (never fixed by a retry)."""


def text_form(value: Any) -> str:
    """Strings raw, everything else compact sorted JSON."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, separators=(",", ":"))


def parse_json_leniently(text: Any) -> Any:
    """Argo quotes some variables once more across versions: unwrap up to two JSON layers."""
    value = text
    for _ in range(2):
        if not isinstance(value, str):
            break
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            break
    return value


def artifact_ref(art: dict[str, Any], run_id: str | None = None, task_id: str | None = None,
                 output: str | None = None) -> str:
    """An artifact output as text for Argo: inline when small, else a reference to its producer's row."""
    data = {k: art.get(k) for k in ARTIFACT_KEYS}
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    if len(text) <= MAX_INLINE_REF or not (run_id and task_id and output):
        return text
    data.pop("metadata")
    data["ref"] = {"run_id": run_id, "task_id": task_id, "output": output}
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def decode_artifact(value: Any, store: MetadataStore | None, what: str) -> dict[str, Any]:
    """Inverse of :func:`artifact_ref`; a reference is looked up (and digest-checked) in the store."""
    data = parse_json_leniently(value) if isinstance(value, str) else value
    if not isinstance(data, dict) or not data.get("uri") or not data.get("digest"):
        raise PermanentError(f"{what}: {str(value)[:120]!r} is not an artifact reference (uri + digest)")
    ref = data.get("ref")
    if ref is None:
        return {k: data.get(k) for k in ARTIFACT_KEYS} | {"metadata": data.get("metadata") or {}}
    if store is None:
        raise PermanentError(f"{what}: a referenced artifact needs the metadata store")
    try:
        outputs = store.get_task(ref["run_id"], ref["task_id"]).outputs or {}
        art = outputs["artifacts"][ref["output"]]
    except (KeyError, TypeError, MetadataStoreError) as exc:
        raise PermanentError(f"{what}: the producer's recorded output {ref} cannot be read: {exc}") from None
    if art.get("digest") != data["digest"]:
        raise PermanentError(f"{what}: the recorded output {ref} has digest {art.get('digest')}, "
                             f"the reference says {data['digest']}")
    return {k: art.get(k) for k in ARTIFACT_KEYS} | {"metadata": art.get("metadata") or {}}


def encode_spec(spec: PipelineSpec) -> str:
    """gzip+base64 of the canonical spec JSON (mtime 0: the same spec gives the same text)."""
    return base64.b64encode(gzip.compress(spec.to_json().encode(), mtime=0)).decode()


def decode_spec(text: str) -> PipelineSpec:
    """Inverse of :func:`encode_spec`; ``SpecCodecError`` names what is wrong with the text."""
    try:
        raw = gzip.decompress(base64.b64decode(text.strip(), validate=True))
    except (ValueError, OSError, binascii.Error) as exc:
        raise SpecCodecError(f"the embedded spec is not base64 of gzip: {exc}") from None
    return PipelineSpec.from_json(raw.decode())


def new_run_id(pipeline: str) -> str:
    """``<pipeline, DNS-safe, at most 40 chars>-<YYYYmmdd-HHMMSS>-<6 hex>``: unique, sortable by time,
    and a valid Kubernetes name, so a cluster run's Workflow is named after its run."""
    safe = re.sub(r"-{2,}", "-", _NON_DNS.sub("-", pipeline.lower()))[:40].strip("-")
    return f"{safe or 'run'}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
