"""Compile a ``conveyor.ir.PipelineSpec`` into an Argo ``Workflow`` (or ``CronWorkflow``) with Hera's models.

Reads only ``conveyor.ir`` and a profile (``conveyor.profile.Profile`` or any object with the
same attributes); never the DSL or the executor, so one pipeline means the same thing locally
and on the cluster.

Public API::

    from conveyor.compiler.argo import compile_workflow, to_yaml, CompileOptions
    manifest = compile_workflow(spec, profile, CompileOptions(run_id="r-1"))   # dict, schema-valid
    cron = compile_cron_workflow(spec, "0 3 * * *", profile)                 # for `conveyor schedule`

Mapping
-------
* tasks -> DAG tasks of the scope holding them; ``dependencies`` lifted to the nearest common scope;
* ParallelFor -> a wrapper DAG template (``parallelism``) with one fan-out node over a body DAG
  template: ``withItems`` (small literal lists), ``withSequence`` (integer ranges, and big literal
  lists by index), ``withParam`` (pipeline parameters and upstream outputs: dynamic fan-out);
* ``Collected`` -> the loop wrapper's aggregated output parameter (a JSON list per loop level);
* If/Elif/Else -> ``when`` on the group's DAG node, strings quoted, numbers and booleans bare;
* ``dsl.OneOf`` -> each branch DAG exports the producer's output and phase; the consumer's argument is
  an expression tag picking the branch that succeeded, and its ``when`` skips it if none ran;
* ``.ignore_upstream_failure()`` -> ``depends`` on every end state; an input read from an upstream is
  an expression tag (the output when that upstream succeeded) plus ``--omitted`` for the pod
  (see :mod:`branches`);
* ExitHandler -> ``spec.onExit``; the exit task gets ``{{workflow.status}}``/``{{workflow.failures}}``;
* retries -> ``retryStrategy`` (policy ``Always``, backoff, ``expression`` that never retries the
  runtime's permanent exit code 3); timeouts -> ``activeDeadlineSeconds``;
* resources -> requests/limits incl. ``nvidia.com/gpu``; GPU pools from the profile give node
  selectors and tolerations; a spot pool gets a ``podSpecPatch`` keyed on ``{{retries}}`` that moves
  retries to the pool's on-demand fallback;
* env ``secret:NAME/KEY`` values and ``options.secret_env`` -> ``secretKeyRef``; the metadata URL
  always comes from a Secret; the profile's ``pod_env_secret`` -> ``envFrom`` on every pod (storage
  endpoint/keys where there is no workload identity); service account, podGC, TTL and labels.

Runtime argv contract (``conveyor.runtime.pod``)
------------------------------------------------
Each pod runs ``python -m conveyor.runtime.pod`` (after an optional ``sh -c`` install prelude that
forwards ``"$@"``) with::

    --spec SPEC            "env:CONVEYOR_SPEC" (base64 of gzip of the spec JSON, see decode_spec)
                           or a URI (s3://, gs://, file://) of the spec JSON uploaded by the launcher
    --task NAME            the IR task name
    --run-id RUN_ID        also in $CONVEYOR_RUN_ID
    --outputs-dir DIR      write each output to DIR/<output name> as text; Argo reads them as
                           output parameters (artifacts: the runtime's JSON reference to the stored object)
    --input NAME=TEXT      repeated; TEXT is the text form: str raw, other types JSON; a Collected
                           input is a JSON list (nested per loop level) whose leaves are text forms;
                           a final-status input is JSON {"state", "pipeline_job_resource_name",
                           "pipeline_task_name"}
    --loop-index LOOP=I    repeated; the item of a big literal ParallelFor is items[I] of that
                           loop's Constant in the spec (LoopItem arguments of that loop get no --input)
    --omitted NAME=BOOL    repeated, .ignore_upstream_failure() inputs read from upstream tasks only: true when
                           an upstream did not succeed; the input is then left to the component's default
    --no-cache             the task has caching disabled
    --workflow-failures J  exit tasks only: Argo's {{workflow.failures}} (a JSON list, possibly
                           JSON-quoted once more) for the final status's error message

Environment: CONVEYOR_RUN_ID, CONVEYOR_PIPELINE, CONVEYOR_ARTIFACT_ROOT, CONVEYOR_PUSHGATEWAY_URL,
CONVEYOR_METADATA_URL (from a Secret), CONVEYOR_SPEC (embedded spec), plus task env and secret env.
Exit codes: 0 ok, 3 permanent (never retried), 143 preempted (SIGTERM), others transient.

Images: a component's ``base_image`` runs the prelude, which installs ``conveyor-ml`` when
``import conveyor`` fails and then ``packages_to_install`` (pip cache on ``pip_cache_claim``).
Pre-build images to skip it: ``FROM python:3.11-slim`` + ``pip install conveyor-ml <packages>`` +
``ENV CONVEYOR_PREINSTALLED=1``.
"""

from __future__ import annotations

from typing import Any

import yaml

from conveyor.compiler.argo.cron import build_cron_workflow
from conveyor.compiler.argo.environment import SPEC_PARAM
from conveyor.compiler.argo.options import CompileError, CompileOptions, SecretKeyRef
from conveyor.compiler.argo.workflow import build_workflow
from conveyor.ir import PipelineSpec
from conveyor.profile import Profile
from conveyor.runtime.protocol.codec import decode_spec, encode_spec


def to_dict(model: Any) -> dict[str, Any]:
    """A Hera model as the plain dict Kubernetes expects (camelCase keys, no nulls)."""
    return model.model_dump(by_alias=True, exclude_none=True, mode="json")


def compile_workflow(
    spec: PipelineSpec, profile: Profile | None = None, options: CompileOptions | None = None
) -> dict[str, Any]:
    """The Workflow manifest for ``spec`` as a dict."""
    return to_dict(build_workflow(spec, profile, options))


def compile_cron_workflow(
    spec: PipelineSpec,
    schedule: str,
    profile: Profile | None = None,
    options: CompileOptions | None = None,
    **kw: Any,
) -> dict[str, Any]:
    """The CronWorkflow manifest for ``conveyor schedule`` as a dict."""
    return to_dict(build_cron_workflow(spec, schedule, profile, options, **kw))


def to_yaml(manifest: dict[str, Any]) -> str:
    """Stable, readable YAML (key order as Argo documents it, long strings kept whole)."""
    return yaml.safe_dump(manifest, sort_keys=False, width=1_000_000, allow_unicode=True)


__all__ = [
    "SPEC_PARAM",
    "CompileError",
    "CompileOptions",
    "SecretKeyRef",
    "build_cron_workflow",
    "build_workflow",
    "compile_cron_workflow",
    "compile_workflow",
    "decode_spec",
    "encode_spec",
    "to_dict",
    "to_yaml",
]
