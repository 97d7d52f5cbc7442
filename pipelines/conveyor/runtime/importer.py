"""Run a `dsl.importer` task: copy the object at its URI into the output, with the resolved metadata.

The bytes are stored in the artifact store like any output (so consumers, the cache and the pod all
read them the usual way); the artifact keeps the imported URI, which consumers see as `.uri`, as in kfp.
With ``download_to_workspace`` the bytes are also copied to ``<workspace>/.artifacts/<name>``, where
kfp puts them, for tasks that read the workspace instead of their inputs.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from conveyor.ir.errors import PermanentError
from conveyor.ir.importer import OUTPUT, URI_INPUT, ImporterImplementation, resolve_metadata
from conveyor.ir.spec import ComponentSpec
from conveyor.stores.artifacts import ArtifactNotFoundError, ArtifactStoreError, fetch_uri


def run_importer(component: ComponentSpec, params: dict[str, Any], outputs: dict[str, Any],
                 workspace: str | None = None) -> None:
    impl = component.implementation
    assert isinstance(impl, ImporterImplementation)
    uri = params.get(URI_INPUT)
    if not isinstance(uri, str) or not uri:
        raise PermanentError(f"importer: artifact_uri must be a non-empty string, got {uri!r}")
    art = outputs[OUTPUT]
    try:
        fetch_uri(uri, art.path)
    except ArtifactNotFoundError as exc:
        raise PermanentError(f"importer: cannot import {uri}: {exc}") from None
    except ArtifactStoreError as exc:
        raise PermanentError(f"importer: cannot import {uri}: {exc}") from None
    try:
        art.metadata = resolve_metadata(impl.metadata, params)
    except ValueError as exc:
        raise PermanentError(f"importer: {exc}") from None
    art.source_uri = uri
    if impl.download_to_workspace:
        if not workspace:  # the validator refuses this pipeline; a hand-made request lands here
            raise PermanentError("importer: download_to_workspace needs the run's workspace (dsl.PipelineConfig)")
        target = Path(workspace) / ".artifacts" / (uri.rstrip("/").rsplit("/", 1)[-1] or "artifact")
        target.parent.mkdir(parents=True, exist_ok=True)
        if Path(art.path).is_dir():
            shutil.copytree(art.path, target, dirs_exist_ok=True)
        else:
            shutil.copyfile(art.path, target)
