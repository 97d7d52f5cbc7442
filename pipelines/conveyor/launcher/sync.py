"""``conveyor sync``: record how Workflows ended when nobody was watching them.

A scheduled (CronWorkflow) run has no launcher process: its first pod creates the run row and
every pod records its own task, but nothing records how the *Workflow* ended, so the run would
say ``running`` forever. The same holds for ``submit`` without ``--watch``. ``sync`` lists the
conveyor Workflows in the profile's namespace and, for each one that has ended while its run is
not terminal in the metadata store, applies :func:`conveyor.launcher.watch.mirror` - the very
code ``submit --watch`` uses - so the run, its vanished pods and its never-started tasks read
exactly as if someone had watched. A run whose pods never got to record it (the first pod failed
to start, or every task was skipped) gets its row created from the Workflow first.

Terminal runs are never touched again, so running ``sync`` repeatedly (from a CronJob, or a CI
step) is idempotent. Workflows are deleted by their TTL (7 days by default), so sync more often
than that.

Which Workflows: those carrying the ``conveyor.dev/pipeline`` label. The run-id label alone is
not enough: a CronWorkflow's runs get their run id (``{{workflow.name}}``) only when Argo spawns
them, so their labels carry no run id. The run id is read the way the pods read it - the
``CONVEYOR_RUN_ID`` the compiler put in each container, with ``{{workflow.name}}`` substituted.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import hera.workflows.models as m

from conveyor.compiler.argo.environment import SPEC_PARAM
from conveyor.compiler.argo.naming import LABEL_KEY_PIPELINE, LABEL_KEY_RUN
from conveyor.ir.spec import PipelineSpec
from conveyor.launcher.kube import GROUP, VERSION, WORKFLOWS, api_error
from conveyor.launcher.watch import DONE_PHASES, as_workflow, mirror, phase_of
from conveyor.profile import Profile
from conveyor.runtime.protocol.codec import decode_spec
from conveyor.stores.metadata.api import (
    TERMINAL_RUN_STATUSES,
    MetadataStore,
    MetadataStoreError,
    NotFoundError,
)

CRON_LABEL = "workflows.argoproj.io/cron-workflow"  # Argo labels every Workflow a CronWorkflow spawns
RUN_ID_ENV = "CONVEYOR_RUN_ID"


@dataclass(frozen=True)
class SyncedRun:
    """What sync found for one Workflow and what it did.

    ``action``: ``closed`` (final state recorded), ``created`` (row created, then closed),
    ``unchanged`` (the run was already terminal), ``running`` (the Workflow has not ended),
    ``unreadable`` (no spec to mirror against; ``error`` says why).
    """

    workflow: str
    run_id: str
    phase: str
    action: str
    status: str | None  # the run's status after sync; None: no row (yet)
    error: str | None = None
    schedule: str | None = None  # the CronWorkflow that spawned it

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _created(workflow: m.Workflow) -> str:
    stamp = workflow.metadata.creation_timestamp
    return stamp.root.isoformat() if stamp else ""


def list_workflows(client: Any, namespace: str, page: int = 200) -> list[m.Workflow]:
    """Every conveyor Workflow in ``namespace``, oldest first, following the API's pagination."""
    items: list[m.Workflow] = []
    token = None
    while True:
        kwargs: dict[str, Any] = {"label_selector": LABEL_KEY_PIPELINE, "limit": page}
        if token:
            kwargs["_continue"] = token
        try:
            answer = client.list_namespaced_custom_object(GROUP, VERSION, namespace, WORKFLOWS, **kwargs)
        except Exception as exc:  # noqa: BLE001 - one readable line
            raise api_error(exc, f"listing Workflows in {namespace}") from None
        items.extend(as_workflow(w, f"listing Workflows in {namespace}") for w in answer.get("items") or [])
        token = m.ListMeta.model_validate(answer.get("metadata") or {}).continue_
        if not token:
            return sorted(items, key=lambda w: (_created(w), w.metadata.name or ""))


def workflow_run_id(workflow: m.Workflow) -> str:
    """The run id its pods record under (see the module docstring for why not just the label)."""
    meta = workflow.metadata
    for template in workflow.spec.templates or []:
        for var in (template.container.env if template.container else None) or []:
            if var.name == RUN_ID_ENV and var.value:
                return var.value.replace("{{workflow.name}}", meta.name or "")
    return (meta.labels or {}).get(LABEL_KEY_RUN) or meta.name or ""


def _workflow_params(workflow: m.Workflow) -> dict[str, str]:
    params = (workflow.spec.arguments.parameters if workflow.spec.arguments else None) or []
    return {p.name: p.value for p in params if p.value is not None}


def _create_run(store: MetadataStore, run_id: str, workflow: m.Workflow, environment: str) -> PipelineSpec:
    """The row a pod would have created (``PodAttempt.ensure_run``), plus the Workflow's arguments."""
    params = _workflow_params(workflow)
    if SPEC_PARAM not in params:
        raise LookupError("no run row and no embedded spec (it was uploaded by a submit whose row is gone)")
    spec = decode_spec(params[SPEC_PARAM])
    arguments = {i.name: params[i.name] for i in spec.inputs if i.name in params}
    labels = {"executor": "argo", "namespace": workflow.metadata.namespace or "",
              "workflow": workflow.metadata.name or ""}
    if schedule := (workflow.metadata.labels or {}).get(CRON_LABEL):
        labels["schedule"] = schedule
    with contextlib.suppress(MetadataStoreError):  # a late pod created it meanwhile: fine, same row
        store.create_run(run_id, spec.name, spec.digest(), spec.to_json(), arguments, environment, labels,
                         status="running")
    store.set_run_status(run_id, "running")
    return spec


def sync_workflow(store: MetadataStore, workflow: m.Workflow | Mapping[str, Any],
                  environment: str = "cluster") -> SyncedRun:
    """Record one Workflow's final state if it has ended and its run is not terminal yet."""
    workflow = as_workflow(workflow)
    name = workflow.metadata.name or ""
    run_id = workflow_run_id(workflow)
    phase = phase_of(workflow) or "Pending"
    schedule = (workflow.metadata.labels or {}).get(CRON_LABEL)
    try:
        row = store.get_run(run_id)
    except NotFoundError:
        row = None
    if row is not None and row.status in TERMINAL_RUN_STATUSES:
        return SyncedRun(name, run_id, phase, "unchanged", row.status, row.error, schedule)
    if phase not in DONE_PHASES:
        return SyncedRun(name, run_id, phase, "running", row.status if row else None, None, schedule)
    try:
        spec = PipelineSpec.from_json(row.spec_json) if row else _create_run(store, run_id, workflow, environment)
    except (LookupError, ValueError, OSError) as exc:  # OSError: a corrupt gzip
        return SyncedRun(name, run_id, phase, "unreadable", row.status if row else None, str(exc), schedule)
    status, error = mirror(store, spec, run_id, workflow)
    return SyncedRun(name, run_id, phase, "closed" if row else "created", status, error, schedule)


def sync(profile: Profile, *, client: Any = None, store: MetadataStore | None = None) -> list[SyncedRun]:
    """Sync every conveyor Workflow in the profile's namespace; ``client`` is a ``CustomObjectsApi``
    (built from the profile's kubeconfig when None), ``store`` the profile's metadata store."""
    if client is None:
        from conveyor.launcher.kube import custom_objects

        client = custom_objects(profile)
    workflows = list_workflows(client, profile.namespace)
    own_store = store is None
    if store is None:
        from conveyor.stores.metadata import open_metadata_store

        store = open_metadata_store(profile.metadata_url.get_secret_value())
    try:
        environment = profile.environment or "cluster"
        return [sync_workflow(store, workflow, environment) for workflow in workflows]
    finally:
        if own_store:
            store.close()
