"""`conveyor.client.Client`: kfp 2.x's `kfp.client.Client`, backed by conveyor instead of a KFP API server.

With no profile it runs pipelines with the local runner (in the background, like a KFP server
would); with `profile=PATH`/`Profile` or `stack=NAME` (or `CONVEYOR_PROFILE` / `CONVEYOR_STACK` in
the environment, so an unchanged `Client()` call can target a cluster) it submits to that stack's
Argo with `conveyor.launcher`. Runs, their state and their tasks are read from the profile's
metadata store, so `conveyor runs` / `conveyor show` list the same runs. KFP-server-only concepts
(uploaded pipelines and versions, `host`, auth tokens) are refused with a message saying what to use.
"""

from __future__ import annotations

import datetime
import inspect
import os
import time
from pathlib import Path
from typing import Any

from conveyor.client.backends import ClusterBackend, LocalBackend, background_run
from conveyor.client.experiments import DEFAULT_EXPERIMENT, ExperimentRegistry
from conveyor.client.models import (
    FINISHED_STATES,
    LABEL_DISPLAY_NAME,
    LABEL_EXPERIMENT,
    LABEL_SERVICE_ACCOUNT,
    Experiment,
    ListExperimentsResponse,
    ListRunsResponse,
    RecurringRun,
    Run,
    RunError,
    RunPipelineResult,
    RuntimeConfig,
    run_from_record,
    timestamp,
)
from conveyor.client.packages import load_package
from conveyor.client.schedules import concurrency_policy, cron_from_kfp
from conveyor.compiler.argo.naming import dns_name
from conveyor.profile import PROFILE_ENV, STACK_ENV, Profile, conveyor_home, resolve_profile
from conveyor.stores.metadata.api import NotFoundError

_SORTS = {"created_at": "created_at", "created_at asc": "created_at", "created_at desc": "-created_at",
          "": "-created_at"}


def _seconds(timeout: float | datetime.timedelta | None) -> float | None:
    if isinstance(timeout, datetime.timedelta):
        return None if timeout >= datetime.timedelta(days=36500) else timeout.total_seconds()
    return None if timeout is None else float(timeout)


def _preload(pipeline_func: Any) -> list[str]:
    func = getattr(pipeline_func, "python_func", pipeline_func)
    try:
        return [inspect.getfile(func)]
    except (TypeError, OSError):
        return []


class Client:
    """Same constructor as kfp's; conveyor adds `profile`, `stack` and `home` (keyword only)."""

    def __init__(self, host: str | None = None, client_id: str | None = None, namespace: str = "kubeflow",
                 other_client_id: str | None = None, other_client_secret: str | None = None,
                 existing_token: str | None = None, cookies: str | None = None, proxy: str | None = None,
                 ssl_ca_cert: str | None = None, kube_context: str | None = None, credentials: Any = None,
                 ui_host: str | None = None, verify_ssl: bool | None = None, *, profile: str | Path | Profile | None = None,
                 stack: str | None = None, home: str | Path | None = None, custom_objects_api: Any = None) -> None:
        if host is not None and not any((profile, stack, os.environ.get(PROFILE_ENV), os.environ.get(STACK_ENV))):
            raise ValueError(f"conveyor's Client does not talk to a KFP API server (host={host!r}): it runs locally "
                             "by default, or on a stack's Argo with profile=PATH or stack=NAME "
                             f"(or {PROFILE_ENV} / {STACK_ENV}); drop host=")
        prof = resolve_profile(profile, stack)  # a ProfileError is a ValueError, as kfp's argument errors are
        self.home = Path(home) if home is not None else conveyor_home()
        self.namespace = namespace
        self._backend: LocalBackend | ClusterBackend = (
            ClusterBackend(prof, custom_objects_api) if prof is not None else LocalBackend(self.home))
        self._experiments = ExperimentRegistry(self.home)

    # -- runs -------------------------------------------------------------------------------------
    def create_run_from_pipeline_func(self, pipeline_func: Any, arguments: dict[str, Any] | None = None,
                                      run_name: str | None = None, experiment_name: str | None = None,
                                      namespace: str | None = None, pipeline_root: str | None = None,
                                      enable_caching: bool | None = None, cache_key: str | None = None,
                                      service_account: str | None = None,
                                      experiment_id: str | None = None) -> RunPipelineResult | None:
        """Start a run of a `@dsl.pipeline` (or anything with `.pipeline_spec`) and return at once.

        Returns None without running inside a task worker that imports the pipeline's file (as
        `conveyor.run` does), so a script calling this at top level does not start runs from its tasks."""
        if os.environ.get("CONVEYOR_PRELOADING") == "1":
            return None
        spec = getattr(pipeline_func, "pipeline_spec", None)
        if spec is None:
            raise TypeError(f"create_run_from_pipeline_func takes a @dsl.pipeline (or a component), got {pipeline_func!r}")
        return self._start(spec, arguments, run_name, experiment_name, experiment_id, enable_caching,
                           service_account, _preload(pipeline_func))

    def create_run_from_pipeline_package(self, pipeline_file: str, arguments: dict[str, Any] | None = None,
                                         run_name: str | None = None, experiment_name: str | None = None,
                                         namespace: str | None = None, pipeline_root: str | None = None,
                                         enable_caching: bool | None = None, cache_key: str | None = None,
                                         service_account: str | None = None,
                                         experiment_id: str | None = None) -> RunPipelineResult:
        """Start a run of a compiled package: `conveyor compile`'s Argo YAML, a spec JSON, or KFP IR."""
        spec = load_package(pipeline_file)
        return self._start(spec, arguments, run_name, experiment_name, experiment_id, enable_caching,
                           service_account, [])

    def run_pipeline(self, experiment_id: str | None = None, job_name: str | None = None,
                     pipeline_package_path: str | None = None, params: dict[str, Any] | None = None,
                     pipeline_id: str | None = None, version_id: str | None = None, pipeline_root: str | None = None,
                     enable_caching: bool | None = None, cache_key: str | None = None,
                     service_account: str | None = None) -> Run:
        """kfp's lower-level call; returns the `Run` itself. Only packages: conveyor has no uploaded pipelines."""
        if pipeline_id is not None or version_id is not None:
            raise ValueError("conveyor has no pipeline registry (pipeline_id/version_id); pass "
                             "pipeline_package_path= (a file from `conveyor compile`) instead")
        if pipeline_package_path is None:
            raise ValueError("run_pipeline needs pipeline_package_path=")
        result = self._start(load_package(pipeline_package_path), params, job_name, None, experiment_id,
                             enable_caching, service_account, [])
        return result.run_info

    def _start(self, spec: Any, arguments: dict[str, Any] | None, run_name: str | None, experiment_name: str | None,
               experiment_id: str | None, enable_caching: bool | None, service_account: str | None,
               preload: list[str]) -> RunPipelineResult:
        if experiment_id is not None:
            experiment = self._experiments.get(experiment_id=experiment_id)
        else:
            experiment = self._experiments.ensure(experiment_name or DEFAULT_EXPERIMENT)
        display = run_name or f"{spec.name} {time.strftime('%Y-%m-%d %H-%M-%S')}"
        labels = {LABEL_DISPLAY_NAME: display, LABEL_EXPERIMENT: experiment["experiment_id"]}
        if service_account:
            labels[LABEL_SERVICE_ACCOUNT] = service_account
        run_id = self._backend.start(spec, dict(arguments or {}), labels=labels,
                                     use_cache=enable_caching is not False, service_account=service_account,
                                     preload=preload)
        return RunPipelineResult(self, self.get_run(run_id))

    def get_run(self, run_id: str) -> Run:
        try:
            self._backend.refresh(run_id)
            record = self._backend.store.get_run(run_id)
        except NotFoundError:
            return self._not_recorded(run_id)
        entry = background_run(run_id)
        run = run_from_record(record, self._backend.store.list_tasks(run_id))
        if entry is not None and entry.error and run.state not in FINISHED_STATES:
            run.state, run.error = "FAILED", RunError(entry.error)
        return run

    def _not_recorded(self, run_id: str) -> Run:
        """A local run whose thread has not written its record yet (PENDING), or failed before it could."""
        entry = background_run(run_id)
        if entry is None:
            raise LookupError(f"no run {run_id!r} in the metadata store of this client's profile "
                              f"({self._backend.kind}); `conveyor runs` lists the runs there")
        state = "FAILED" if entry.error else "PENDING"
        return Run(run_id=run_id, display_name=entry.labels.get(LABEL_DISPLAY_NAME, entry.spec.name), state=state,
                   experiment_id=entry.labels.get(LABEL_EXPERIMENT), pipeline_spec=entry.spec.to_dict(),
                   runtime_config=RuntimeConfig(parameters=dict(entry.arguments)),
                   service_account=entry.labels.get(LABEL_SERVICE_ACCOUNT),
                   error=RunError(entry.error) if entry.error else None)

    def wait_for_run_completion(self, run_id: str, timeout: float | datetime.timedelta | None = None,
                                sleep_duration: float = 5) -> Run:
        """Block until the run ends; TimeoutError (naming the run and its state) after `timeout` seconds."""
        limit = _seconds(timeout)
        deadline = None if limit is None else time.monotonic() + limit
        while True:
            run = self.get_run(run_id)
            if run.state in FINISHED_STATES:
                return run
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise TimeoutError(f"run {run_id} ({run.display_name}) did not finish within {limit:g} s; it is "
                                   f"{run.state}. Wait again, or follow it with `conveyor show {run_id}`")
            if background_run(run_id) is not None:
                self._backend.join(run_id, left)  # a local run: wake the moment it ends
                time.sleep(0.01)
            else:
                time.sleep(max(0.01, min(sleep_duration, left) if left is not None else sleep_duration))

    def list_runs(self, page_token: str = "", page_size: int = 10, sort_by: str = "",
                  experiment_id: str | None = None, namespace: str | None = None, filter: str | None = None) -> ListRunsResponse:  # noqa: A002
        if filter:
            raise ValueError("list_runs(filter=...) is not supported by conveyor; filter the returned runs in Python "
                             "(e.g. on run.state or run.display_name)")
        order = _SORTS.get(sort_by.strip().lower())
        if order is None:
            raise ValueError(f"sort_by {sort_by!r} is not supported; use one of {sorted(k for k in _SORTS if k)}")
        try:
            offset = int(page_token or 0)
        except ValueError:
            raise ValueError(f"page_token {page_token!r} is not one this client returned") from None
        records = self._backend.store.list_runs(limit=1_000_000, order_by=order)
        if experiment_id is not None:
            records = [r for r in records if r.labels.get(LABEL_EXPERIMENT) == experiment_id]
        page = records[offset:offset + page_size]
        more = offset + page_size < len(records)
        return ListRunsResponse(runs=[run_from_record(r) for r in page] or None, total_size=len(records),
                                next_page_token=str(offset + page_size) if more else None)

    # -- experiments ----------------------------------------------------------------------------
    def create_experiment(self, name: str, description: str | None = None, namespace: str | None = None) -> Experiment:
        return self._experiment(self._experiments.ensure(name, description, namespace or self.namespace))

    def get_experiment(self, experiment_id: str | None = None, experiment_name: str | None = None,
                       namespace: str | None = None) -> Experiment:
        return self._experiment(self._experiments.get(experiment_id, experiment_name))

    def list_experiments(self, page_token: str = "", page_size: int = 10, sort_by: str = "",
                         namespace: str | None = None, filter: str | None = None) -> ListExperimentsResponse:  # noqa: A002
        if filter:
            raise ValueError("list_experiments(filter=...) is not supported by conveyor; filter in Python")
        found = [self._experiment(e) for e in self._experiments.all()]
        offset = int(page_token or 0)
        page = found[offset:offset + page_size]
        return ListExperimentsResponse(experiments=page or None, total_size=len(found),
                                       next_page_token=str(offset + page_size) if offset + page_size < len(found) else None)

    def _experiment(self, data: dict[str, Any]) -> Experiment:
        return Experiment(experiment_id=data["experiment_id"], display_name=data["display_name"],
                          description=data.get("description"), created_at=timestamp(data.get("created_at")),
                          namespace=data.get("namespace"))

    # -- schedules ------------------------------------------------------------------------------
    def create_recurring_run(self, experiment_id: str, job_name: str, description: str | None = None,
                             start_time: str | None = None, end_time: str | None = None,
                             interval_second: int | None = None, cron_expression: str | None = None,
                             max_concurrency: int | None = 1, no_catchup: bool | None = None,
                             params: dict[str, Any] | None = None, pipeline_package_path: str | None = None,
                             pipeline_id: str | None = None, version_id: str | None = None, enabled: bool = True,
                             pipeline_root: str | None = None, enable_caching: bool | None = None,
                             cache_key: str | None = None, service_account: str | None = None) -> RecurringRun:
        """An Argo CronWorkflow on the profile's cluster (kfp's 6-field cron: seconds must be 0)."""
        if pipeline_id is not None or version_id is not None:
            raise ValueError("conveyor has no pipeline registry (pipeline_id/version_id); pass pipeline_package_path=")
        if start_time is not None or end_time is not None:
            raise ValueError("start_time/end_time are not supported: an Argo CronWorkflow has no active window; "
                             "create the recurring run when it should start and delete it when it should end")
        if pipeline_package_path is None:
            raise ValueError("create_recurring_run needs pipeline_package_path=")
        self._backend.check_can_schedule()
        experiment = self._experiments.get(experiment_id=experiment_id)
        cron = cron_from_kfp(cron_expression, interval_second)
        spec = load_package(pipeline_package_path)
        created = self._backend.schedule(spec, cron, arguments=dict(params or {}), name=dns_name(job_name),
                                         concurrency_policy=concurrency_policy(max_concurrency),
                                         service_account=service_account, suspend=not enabled)
        meta = created.get("metadata") or {}
        return RecurringRun(recurring_run_id=meta.get("name", dns_name(job_name)), display_name=job_name,
                            cron_schedule=cron, experiment_id=experiment["experiment_id"], description=description,
                            namespace=meta.get("namespace"), max_concurrency=max_concurrency or 1,
                            status="ENABLED" if enabled else "DISABLED", created_at=timestamp(time.time()),
                            service_account=service_account, manifest=created)

    def close(self) -> None:
        self._backend.close()
