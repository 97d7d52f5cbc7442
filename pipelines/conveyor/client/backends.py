"""Where a Client's runs go: the local runner (in a background thread) or the profile's Argo cluster.

kfp's `create_run_*` returns as soon as the run exists. Locally the run executes in a non-daemon
thread of this process (each with its own LocalRunner, so its own store connection and worker
pool): the call returns at once, `wait_for_run_completion` joins it, and a script that ends
without waiting still lets its runs finish before the interpreter exits. Arguments are bound and
the spec validated before the thread starts, so bad input raises at the call, like kfp's server.
On a cluster, `conveyor.launcher.submit` creates the Workflow unwatched and reading a run mirrors
the Workflow's state into the metadata store with the code `conveyor sync` uses.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conveyor.executor.run import LocalRunner, RunOptions, new_run_id
from conveyor.ir.spec import PipelineSpec
from conveyor.ir.validate import validate
from conveyor.profile import Profile
from conveyor.runtime.protocol.binding import bind_arguments
from conveyor.stores.metadata import MetadataStore, open_metadata_store


@dataclass
class BackgroundRun:
    spec: PipelineSpec
    labels: dict[str, str]
    arguments: dict[str, Any]
    thread: threading.Thread | None = None
    error: str | None = None  # the run could not even start (its record may be missing)
    result: Any = None


_RUNS: dict[str, BackgroundRun] = {}  # process-wide, so every Client() in this process sees them
_RUNS_LOCK = threading.Lock()


def background_run(run_id: str) -> BackgroundRun | None:
    with _RUNS_LOCK:
        return _RUNS.get(run_id)


@dataclass
class LocalBackend:
    home: Path | None = None
    _runner: LocalRunner | None = field(default=None, repr=False)

    @property
    def store(self) -> MetadataStore:
        if self._runner is None:
            self._runner = LocalRunner(home=self.home)
        return self._runner.store

    @property
    def kind(self) -> str:
        return "local"

    def start(self, spec: PipelineSpec, arguments: dict[str, Any], *, labels: dict[str, str],
              use_cache: bool, service_account: str | None, preload: list[str]) -> str:
        validate(spec)
        bound = bind_arguments(spec, arguments)
        run_id = new_run_id(spec.name)
        entry = BackgroundRun(spec, labels, bound)
        options = RunOptions(use_cache=use_cache, labels=labels)
        entry.thread = threading.Thread(target=self._execute, args=(entry, run_id, options, preload),
                                        name=f"conveyor-run-{run_id}", daemon=False)
        with _RUNS_LOCK:
            _RUNS[run_id] = entry
        entry.thread.start()
        return run_id

    def _execute(self, entry: BackgroundRun, run_id: str, options: RunOptions, preload: list[str]) -> None:
        try:
            with LocalRunner(home=self.home) as runner:
                entry.result = runner.run(entry.spec, entry.arguments, options=options, preload=preload, run_id=run_id)
        except BaseException as exc:  # noqa: BLE001 - kept for get_run; the thread must not die silently
            entry.error = f"{type(exc).__name__}: {exc}"

    def refresh(self, run_id: str) -> None:
        """Nothing to mirror: the local run writes its own record."""

    def join(self, run_id: str, timeout: float | None) -> None:
        entry = background_run(run_id)
        if entry is not None and entry.thread is not None:
            entry.thread.join(timeout)

    def schedule(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self.check_can_schedule()
        return {}

    def check_can_schedule(self) -> None:
        raise ValueError("recurring runs need a cluster: conveyor schedules them as Argo CronWorkflows. Create the "
                         "Client with profile=PATH or stack=NAME (or set CONVEYOR_PROFILE / CONVEYOR_STACK); "
                         "locally, run `conveyor run FILE` from cron")

    def close(self) -> None:
        if self._runner is not None:
            self._runner.close()
            self._runner = None


@dataclass
class ClusterBackend:
    profile: Profile
    custom_objects_api: Any = None
    _store: MetadataStore | None = field(default=None, repr=False)

    @property
    def kind(self) -> str:
        return "cluster"

    @property
    def store(self) -> MetadataStore:
        if self._store is None:
            self._store = open_metadata_store(self.profile.metadata_url.get_secret_value())
        return self._store

    @property
    def api(self) -> Any:
        if self.custom_objects_api is None:
            from conveyor.launcher.kube import custom_objects

            self.custom_objects_api = custom_objects(self.profile)
        return self.custom_objects_api

    def _profile_for(self, service_account: str | None) -> Profile:
        if service_account and service_account != self.profile.service_account:
            return self.profile.model_copy(update={"service_account": service_account})
        return self.profile

    def start(self, spec: PipelineSpec, arguments: dict[str, Any], *, labels: dict[str, str],
              use_cache: bool, service_account: str | None, preload: list[str]) -> str:
        from conveyor.launcher import submit

        run = submit(spec, arguments, self._profile_for(service_account), client=self.api, watch=False,
                     use_cache=use_cache, labels=labels, store=self.store)
        return run.run_id

    def refresh(self, run_id: str) -> None:
        """Mirror the Workflow's state into the store while the run is not terminal."""
        from conveyor.launcher.kube import GROUP, VERSION, WORKFLOWS, api_error
        from conveyor.launcher.sync import sync_workflow
        from conveyor.stores.metadata.api import TERMINAL_RUN_STATUSES

        record = self.store.get_run(run_id)
        name = record.labels.get("workflow")
        if record.status in TERMINAL_RUN_STATUSES or not name:
            return
        namespace = record.labels.get("namespace") or self.profile.namespace
        try:
            workflow = self.api.get_namespaced_custom_object(GROUP, VERSION, namespace, WORKFLOWS, name)
        except Exception as exc:  # noqa: BLE001 - one readable line
            raise api_error(exc, f"reading Workflow {namespace}/{name}") from None
        sync_workflow(self.store, workflow, self.profile.environment)

    def join(self, run_id: str, timeout: float | None) -> None:
        """Cluster runs are polled, not joined."""

    def check_can_schedule(self) -> None:
        """A cluster profile can."""

    def schedule(self, spec: PipelineSpec, cron: str, *, arguments: dict[str, Any], name: str,
                 concurrency_policy: str, service_account: str | None, suspend: bool) -> dict[str, Any]:
        from conveyor.compiler.argo import CompileOptions
        from conveyor.launcher import schedule

        created = schedule(spec, cron, self._profile_for(service_account), arguments=arguments, client=self.api,
                           name=name, concurrency_policy=concurrency_policy, options=CompileOptions())
        if suspend:
            from conveyor.launcher.kube import CRON_WORKFLOWS, GROUP, VERSION

            created = self.api.patch_namespaced_custom_object(GROUP, VERSION, self.profile.namespace, CRON_WORKFLOWS,
                                                              created["metadata"]["name"], {"spec": {"suspend": True}})
        return created

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
