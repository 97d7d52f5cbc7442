"""The pod's argv (the contract documented in ``conveyor.compiler.argo``) and where the spec comes from.

A malformed argv is a compile/launcher bug, never something a retry fixes, so it raises
``PodUsageError`` (exit code 3, permanent) instead of argparse's exit code 2, which Argo's
retryStrategy would treat as transient.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from conveyor.ir.errors import PermanentError
from conveyor.ir.spec import PipelineSpec
from conveyor.runtime.protocol.codec import decode_spec
from conveyor.stores.artifacts import open_artifact_store


class PodUsageError(PermanentError):
    """The argv or environment does not follow the runtime contract."""


@dataclass(frozen=True)
class PodArgs:
    spec: str
    task: str
    run_id: str
    outputs_dir: str
    inputs: dict[str, str] = field(default_factory=dict)
    loop_indices: dict[str, int] = field(default_factory=dict)
    no_cache: bool = False
    workflow_failures: str | None = None
    # ignore_upstream_failure inputs whose upstream did not succeed: left to the input's default, as
    # the local scheduler leaves them (``--omitted NAME=true``; Argo decides the value at run time)
    omitted: frozenset[str] = frozenset()
    workspace: str | None = None  # where the run's workspace PVC is mounted (dsl.PipelineConfig)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # noqa: D401 - argparse hook
        raise PodUsageError(f"conveyor.runtime.pod: {message}")


def _pairs(values: Sequence[str] | None, flag: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values or ():
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise PodUsageError(f"{flag} {item[:80]!r}: expected NAME=VALUE")
        out[name] = value
    return out


def parse_args(argv: Sequence[str]) -> PodArgs:
    parser = _Parser(prog="python -m conveyor.runtime.pod", add_help=False)
    parser.add_argument("--spec", required=True)
    parser.add_argument("--task", required=True)
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--outputs-dir", required=True)
    parser.add_argument("--input", action="append")
    parser.add_argument("--loop-index", action="append")
    parser.add_argument("--no-cache", action="store_true")
    parser.add_argument("--workflow-failures")
    parser.add_argument("--omitted", action="append")
    parser.add_argument("--workspace")
    ns = parser.parse_args(list(argv))
    flags = _pairs(ns.omitted, "--omitted")
    if bad := {n: v for n, v in flags.items() if v not in ("true", "false")}:
        raise PodUsageError(f"--omitted {bad}: expected NAME=true or NAME=false")
    indices: dict[str, int] = {}
    for loop, text in _pairs(ns.loop_index, "--loop-index").items():
        try:
            indices[loop] = int(text)
        except ValueError:
            raise PodUsageError(f"--loop-index {loop}={text[:40]!r}: the index must be an integer") from None
    return PodArgs(spec=ns.spec, task=ns.task, run_id=ns.run_id, outputs_dir=ns.outputs_dir,
                   inputs=_pairs(ns.input, "--input"), loop_indices=indices, no_cache=ns.no_cache,
                   workflow_failures=ns.workflow_failures,
                   omitted=frozenset(n for n, v in flags.items() if v == "true"), workspace=ns.workspace)


def load_spec(ref: str, environ: Mapping[str, str], artifact_root: str | None) -> PipelineSpec:
    """``env:VAR`` (embedded), a local path / ``file://`` URI, or an object in the artifact store."""
    if ref.startswith("env:"):
        name = ref[len("env:"):]
        if not environ.get(name):
            raise PodUsageError(f"--spec {ref}: ${name} is not set")
        return decode_spec(environ[name])
    parsed = urlparse(ref)
    if parsed.scheme in ("", "file"):
        path = Path(unquote(parsed.path) if parsed.scheme else ref)
        return PipelineSpec.from_json(path.read_text())
    if not artifact_root:
        raise PodUsageError(f"--spec {ref}: CONVEYOR_ARTIFACT_ROOT is not set, so the spec cannot be fetched")
    store = open_artifact_store(artifact_root)
    with tempfile.TemporaryDirectory(prefix="conveyor-spec-") as tmp:
        path = store.materialize(ref, Path(tmp) / "spec.json")  # digest-checked download
        return PipelineSpec.from_json(path.read_text())
