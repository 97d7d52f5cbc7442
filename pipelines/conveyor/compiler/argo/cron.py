"""``conveyor schedule``: the compiled Workflow wrapped in an Argo ``CronWorkflow``.

Every scheduled run must be its own run, so unless a run id is forced the
runtime gets ``{{workflow.name}}`` (unique per spawned Workflow) as its run id.
"""

from __future__ import annotations

import re
from dataclasses import replace

import hera.workflows.models as m

from conveyor.compiler.argo.naming import dns_name
from conveyor.compiler.argo.options import CompileError, CompileOptions
from conveyor.compiler.argo.workflow import build_workflow
from conveyor.ir import PipelineSpec
from conveyor.profile import Profile

_CRON_FIELD = re.compile(r"^[\d*/,\-A-Za-z?LW#]+$")


def build_cron_workflow(
    spec: PipelineSpec,
    schedule: str,
    profile: Profile | None = None,
    options: CompileOptions | None = None,
    *,
    name: str | None = None,
    timezone: str | None = None,
    concurrency_policy: str = "Forbid",
    starting_deadline_seconds: int | None = None,
) -> m.CronWorkflow:
    """A CronWorkflow running ``spec`` on ``schedule`` (5-field cron or ``@daily``-style).

    Each scheduled run gets its own run id, ``{{workflow.name}}``, unless ``options.run_id`` is set.
    """
    text = schedule.strip()
    fields = text.split()
    if not (text.startswith("@") and len(fields) == 1) and (
        len(fields) != 5 or not all(map(_CRON_FIELD.match, fields))
    ):
        raise CompileError(
            f"schedule {schedule!r} is not a 5-field cron expression (e.g. '0 3 * * *') or @daily"
        )
    if concurrency_policy not in ("Allow", "Forbid", "Replace"):
        raise CompileError(f"concurrency policy {concurrency_policy!r} is not one of Allow, Forbid, Replace")
    options = options or CompileOptions()
    if options.run_id is None:
        options = replace(options, run_id="{{workflow.name}}")
    workflow = build_workflow(spec, profile, options)
    return m.CronWorkflow(
        api_version="argoproj.io/v1alpha1",
        kind="CronWorkflow",
        metadata=m.ObjectMeta(
            name=name or dns_name(spec.name),
            namespace=getattr(profile, "namespace", None),
            labels=workflow.metadata.labels,
            annotations=workflow.metadata.annotations,
        ),
        spec=m.CronWorkflowSpec(
            schedules=[text],
            timezone=timezone,
            concurrency_policy=concurrency_policy,
            starting_deadline_seconds=starting_deadline_seconds,
            workflow_metadata=m.ObjectMeta(labels=workflow.metadata.labels),
            workflow_spec=workflow.spec,
        ),
    )
