"""Read a pipeline package file (what `create_run_from_pipeline_package` is given) into a PipelineSpec.

Accepted: the Argo Workflow (or CronWorkflow) YAML that `conveyor compile` writes, which embeds the
spec as the `conveyor-spec` parameter; a conveyor spec JSON; and KFP's pipeline IR YAML when
`conveyor.components` can load it as a component. Anything else is refused with what was found.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from conveyor.compiler.argo import SPEC_PARAM, decode_spec
from conveyor.ir.spec import PipelineSpec


class PackageError(ValueError):
    """The file is not a pipeline package conveyor can run; the message says what it holds."""


def _embedded_spec(doc: dict[str, Any], path: Path) -> PipelineSpec:
    spec = doc.get("spec") or {}
    if doc.get("kind") == "CronWorkflow":
        spec = spec.get("workflowSpec") or {}
    params = (spec.get("arguments") or {}).get("parameters") or []
    for param in params:
        if param.get("name") == SPEC_PARAM and param.get("value"):
            return decode_spec(param["value"])
    raise PackageError(f"{path}: this {doc.get('kind')} has no embedded conveyor spec (parameter {SPEC_PARAM!r}); "
                       "compile it with `conveyor compile FILE -o workflow.yaml` (no spec upload)")


def _kfp_ir(path: Path) -> PipelineSpec:
    try:
        from conveyor.components import load_component_from_file  # type: ignore[import-not-found,attr-defined]
    except ImportError:
        raise PackageError(f"{path}: a KFP pipeline IR file, and this conveyor cannot load KFP IR; "
                           "pass the pipeline function, or the Argo YAML from `conveyor compile`") from None
    component = load_component_from_file(str(path))
    spec = getattr(component, "pipeline_spec", None)
    if spec is None:
        raise PackageError(f"{path}: loaded as a component but it has no pipeline spec")
    return spec


def load_package(path: str | Path) -> PipelineSpec:
    path = Path(path)
    if not path.is_file():
        raise PackageError(f"pipeline package {path} does not exist")
    text = path.read_text()
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        raise PackageError(f"{path}: not YAML or JSON ({exc})") from None
    if len(docs) != 1 or not isinstance(docs[0], dict):
        raise PackageError(f"{path}: expected one YAML/JSON document with a pipeline, found {len(docs)}")
    doc = docs[0]
    if doc.get("kind") in ("Workflow", "CronWorkflow"):
        return _embedded_spec(doc, path)
    if "schema_version" in doc and "tasks" in doc and "components" in doc:
        return PipelineSpec.from_dict(doc)
    if "pipelineInfo" in doc or "deploymentSpec" in doc or "root" in doc:
        return _kfp_ir(path)
    raise PackageError(f"{path}: neither an Argo Workflow from `conveyor compile`, a conveyor spec JSON, nor KFP "
                       f"pipeline IR (top-level keys: {', '.join(sorted(map(str, doc))[:8])})")
