"""The local DAG walker: decide, cache, pack, launch, retry — one event loop, one thread.

Everything that can happen (a task process exits, a retry timer fires, another run finishes a
cache key we were waiting on) arrives on one queue, so the loop never polls and never races
with itself. Cache decisions happen before scheduling: a cached task never gets a process.
"""

from __future__ import annotations

import heapq
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conveyor.executor.admission import loop_allows
from conveyor.executor.backoff import retry_delay
from conveyor.executor.graph import COMPLETED, TERMINAL, Instance, RunGraph
from conveyor.executor.isolation import ensure_venv, package_report
from conveyor.executor.options import SchedulerOptions
from conveyor.executor.pool import ProcessExit, WorkerPool
from conveyor.executor.recorder import RunRecorder
from conveyor.executor.resources import Capacity, Ledger, Request, fit_requests, runtime_request
from conveyor.executor.sweeper import Sweeper
from conveyor.ir.errors import ConditionEvaluationError
from conveyor.runtime import kube_local
from conveyor.runtime.loader import preload_items
from conveyor.runtime.outcome import RETRYABLE, classify_exit, describe_failure
from conveyor.runtime.protocol.gate import CacheGate, Claimed, Decision, Hit
from conveyor.runtime.protocol.keys import task_key
from conveyor.runtime.protocol.messages import TaskRequest, TaskResult
from conveyor.runtime.protocol.record import Usage
from conveyor.runtime.protocol.tasklog import persist_log
from conveyor.runtime.protocol.workdir import AttemptDir
from conveyor.stores.artifacts.api import ArtifactStore
from conveyor.stores.metadata.api import CacheEntry, MetadataStore


@dataclass(frozen=True)
class CacheWaitDone:
    id: str
    entry: CacheEntry | None


@dataclass
class _Running:
    inst: Instance
    attempt_id: int
    started_at: float
    request: TaskRequest
    paths: AttemptDir
    cache_key: str | None
    deadline: float | None
    timed_out: bool = False


@dataclass
class Scheduler:
    graph: RunGraph
    store: MetadataStore
    artifacts: ArtifactStore
    artifact_root: str
    home: Path  # CONVEYOR_HOME: attempt folders and isolated venvs live under it
    recorder: RunRecorder
    pool_factory: Callable[[queue.Queue], WorkerPool]
    options: SchedulerOptions = field(default_factory=SchedulerOptions)
    observer: Callable[[str, Instance], None] = lambda event, inst: None
    resumed: dict[str, Any] = field(default_factory=dict)  # task_id -> TaskRecord completed earlier
    prior_attempts: dict[str, int] = field(default_factory=dict)  # task_id -> attempts before a resume
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.spec = self.graph.spec
        self.events: queue.Queue = queue.Queue()
        capacity = Capacity.detect()
        self.requests, capped = fit_requests(self.spec, capacity, self.options.strict_resources)
        self.warnings.extend(capped)
        self.ledger = Ledger(capacity)
        self.parallelism = self.options.parallelism or int(capacity.cpu)
        self.unmet_packages = package_report(self.spec)
        for name, unmet in self.unmet_packages.items():
            if self.options.isolate:
                self.warnings.append(f"component {name!r} runs in an isolated env for: {', '.join(unmet)}")
            else:
                self.warnings.append(f"component {name!r}: packages_to_install not met here: {', '.join(unmet)}; "
                                     "running in this environment (--isolate builds a venv for it)")
        self.ready: list[str] = []
        self.running: dict[str, _Running] = {}
        self.timers: list[tuple[float, str]] = []
        self.cache = CacheGate(self.store, self.artifacts, self.options.max_cache_staleness_s)
        self.first_error: str | None = None
        self.failing = False
        self._pool: WorkerPool | None = None
        self._sweeper = Sweeper()

    # -- main loop ---------------------------------------------------------------------------
    def run(self) -> None:
        try:
            while True:
                self._settle()
                self._launch()
                if not (self.running or self.ready or self.timers or self._waiting_on_cache()):
                    if self.failing and self._drain():
                        continue
                    break
                self._wait_for_event()
        except BaseException:
            self._abort("the runner was interrupted")
            raise
        finally:
            if self._pool is not None:
                self._pool.close()
            self.cache.close()
            self._sweeper.close()
        for inst in self.graph.instances.values():
            if inst.status not in TERMINAL:
                self._skip(inst, "not started: the run failed first")

    def _drain(self) -> bool:
        """After a failure: give up on what cannot start so exit handlers can run; True if one can."""
        if self.graph.draining:
            return False
        self.graph.draining = True
        for inst in self.graph.instances.values():
            if inst.status == "waiting" and not self.graph.rules.runs_after_failure(inst.task):
                self._skip(inst, "not started: the run failed first")
        return any(i.status == "waiting" for i in self.graph.instances.values())

    def _waiting_on_cache(self) -> bool:
        return any(i.status == "cache_wait" for i in self.graph.instances.values())

    def _wait_for_event(self) -> None:
        now = time.monotonic()
        horizon = [t for t, _ in self.timers[:1]] + [r.deadline for r in self.running.values() if r.deadline]
        horizon.append(self.cache.leases.next_renew)
        timeout = max(0.0, min(horizon) - now) if horizon else None
        try:
            event = self.events.get(timeout=timeout)
        except queue.Empty:
            event = None
        while event is not None:
            if isinstance(event, ProcessExit):
                self._on_exit(event)
            elif isinstance(event, CacheWaitDone):
                self._on_cache_wait(event)
            try:
                event = self.events.get_nowait()
            except queue.Empty:
                event = None
        self._fire_timers()

    def _fire_timers(self) -> None:
        now = time.monotonic()
        while self.timers and self.timers[0][0] <= now:
            _, iid = heapq.heappop(self.timers)
            inst = self.graph.instances[iid]
            if self.failing:
                self._fail(inst, inst.error or "retry cancelled: the run failed")
            else:
                inst.status, inst.ready_at = "ready", time.monotonic()
                self.ready.append(iid)
        for run in list(self.running.values()):
            if run.deadline and now >= run.deadline and not run.timed_out:
                run.timed_out = True
                self._get_pool().kill(run.inst.id)
        self.cache.leases.renew_if_due(now)

    # -- deciding ----------------------------------------------------------------------------
    def _settle(self) -> None:
        """Expand loops and move waiting instances forward until nothing changes."""
        changed = True
        while changed:
            changed = False
            try:
                for inst in self.graph.expand():
                    self._adopt(inst)
                    changed = True
            except ConditionEvaluationError as exc:
                self._fail_run(str(exc))
                return
            for inst in list(self.graph.instances.values()):
                if inst.status != "waiting":
                    continue
                if self.failing and not self.graph.rules.runs_after_failure(inst.task):
                    continue
                verdict, why = self.graph.readiness(inst)
                if verdict == "wait":
                    continue
                changed = True
                if verdict == "skip":
                    self._skip(inst, why or "skipped")
                elif verdict == "fail":
                    self._fail(inst, why or "failed")
                else:
                    self._decide(inst)

    def _adopt(self, inst: Instance) -> None:
        record = self.resumed.get(inst.id)
        if record is not None:
            inst.status = record.status
            inst.outputs = record.outputs or {"parameters": {}, "artifacts": {}}
            inst.attempts = record.attempts
            inst.reason = "completed before resume"
            self.observer("resumed", inst)
        else:
            inst.attempt_offset = self.prior_attempts.get(inst.id, 0)
            self.observer("queued", inst)

    def _decide(self, inst: Instance) -> None:
        params, arts = self.graph.inputs(inst)
        inst.request = {"parameters": params, "artifacts": arts}
        inst.cache_key = task_key(self.spec, inst.task, params, arts, self.options.use_cache)
        if inst.cache_key is None:
            self._ready(inst)
        else:
            self._apply(inst, self.cache.decide(inst.cache_key, self._owner(inst)))

    def _owner(self, inst: Instance) -> str:
        return f"{self.graph.run_id}/{inst.id}"

    def _ready(self, inst: Instance) -> None:
        inst.status, inst.ready_at = "ready", time.monotonic()
        self.ready.append(inst.id)

    def _apply(self, inst: Instance, decision: Decision) -> None:
        """Hit: cached, never scheduled. Claimed: ready to run. Wait: the one waiter posts back."""
        if isinstance(decision, Hit):
            inst.status = "cached"
            inst.outputs = decision.entry.outputs
            inst.saved_s, inst.saved_usd = decision.entry.duration_s, decision.entry.cost_usd
            self.recorder.cached(inst, decision.entry, inst.cache_key)
            self.observer("cached", inst)
        elif isinstance(decision, Claimed):
            self._ready(inst)
        else:
            if inst.status != "cache_wait":
                inst.status = "cache_wait"
                self.observer("cache_wait", inst)
            self.cache.waiter.wait(inst.id, inst.cache_key, lambda iid, entry: self.events.put(CacheWaitDone(iid, entry)),
                                   self.options.max_cache_staleness_s)

    def _on_cache_wait(self, event: CacheWaitDone) -> None:
        if self.cache.waiter.errors:
            raise self.cache.waiter.errors[0]
        inst = self.graph.instances[event.id]
        self._apply(inst, self.cache.decide(inst.cache_key, self._owner(inst), event.entry))

    def _launch(self) -> None:
        if not self.ready:
            return
        waiting: list[str] = []
        memo: dict = {}
        for pos, iid in enumerate(self.ready):
            if len(self.running) >= self.parallelism:  # full: the rest keep their places, unexamined
                waiting.extend(self.ready[pos:])
                break
            inst = self.graph.instances[iid]
            req: Request = self.requests[inst.task]
            task = self.spec.tasks[inst.task]
            if task.resource_args:
                req = runtime_request(task.resources, {f: self.graph.resolve(a, inst.ctx)  # checked when ready
                                                       for f, a in task.resource_args.items()}, self.ledger.capacity)
            running = (r.inst.ctx for r in self.running.values())
            if not loop_allows(self.spec, inst, running, memo) or not self.ledger.fits(req):
                waiting.append(iid)
                continue
            self._start(inst, req)
            memo.clear()
        self.ready = waiting

    def _get_pool(self) -> WorkerPool:
        if self._pool is None:
            self._pool = self.pool_factory(self.events)
            self._pool.start()
            self.warnings.extend(self._pool.warnings)
        return self._pool

    def _start(self, inst: Instance, req: Request) -> None:
        task = self.spec.tasks[inst.task]
        inst.attempts += 1
        paths = AttemptDir.prepare(self.home, self.graph.run_id, inst.id, inst.attempt_offset + inst.attempts)
        gpus = self.ledger.acquire(inst.id, req)
        parameters = dict(inst.request["parameters"])
        for name, arg in task.arguments.items():
            if getattr(arg, "kind", None) == "task_final_status":
                parameters[name] = self.graph.resolve(arg, inst.ctx)
        request = TaskRequest(run_id=self.graph.run_id, task_id=inst.id, component=self.spec.component_of(inst.task),
                              parameters=parameters, artifacts=inst.request["artifacts"],
                              artifact_root=self.artifact_root, workdir=str(paths.work), result=str(paths.result),
                              workspace=AttemptDir.ensure_workspace(self.home, self.graph.run_id) if self.spec.workspace else None)
        request.write(paths.request)
        env = {**task.env, "CONVEYOR_RUN_ID": self.graph.run_id, "CONVEYOR_TASK_ID": inst.id}
        env.update(kube_local.prepare(task.kubernetes, task.name, inst.id, AttemptDir.run_root(self.home, self.graph.run_id), self.home,
                                      lambda arg: self.graph.resolve(arg, inst.ctx)))  # secrets: env only, never disk
        if req.gpu or self.ledger.capacity.gpu:
            env["CUDA_VISIBLE_DEVICES"] = ",".join(map(str, gpus))
        started = time.time()
        inst.queue_wait_s = time.monotonic() - inst.ready_at if inst.ready_at else None
        attempt_id = self.recorder.running(inst, inst.cache_key, started, None)
        inst.status = "running"
        run = _Running(inst, attempt_id, started, request, paths, inst.cache_key, None)
        self.running[inst.id] = run
        self.observer("running", inst)
        component = self.spec.component_of(inst.task)
        python = None
        if self.options.isolate and component.name in self.unmet_packages:
            python = ensure_venv(component, self.home)
        self._get_pool().spawn(inst.id, str(paths.request), str(paths.log), env=env,
                               preload=preload_items(self.spec.component_of(inst.task).implementation), python=python)
        # the task's timeout counts from its process, not from a fork server start or a venv build
        run.deadline = time.monotonic() + task.timeout_s if task.timeout_s else None

    # -- completing --------------------------------------------------------------------------
    def _on_exit(self, event: ProcessExit) -> None:
        run = self.running.pop(event.id, None)
        if run is None:
            return
        self.ledger.release(event.id)
        inst = run.inst
        kube_local.release(self.spec.tasks[inst.task].kubernetes, AttemptDir.run_root(self.home, self.graph.run_id), inst.id)
        rss = event.maxrss_kb / 1024 if event.maxrss_kb else None
        usage = Usage(rss, event.cpu_s)
        result = TaskResult.read(run.paths.result)
        persist_log(self.store, self.artifacts, self.graph.run_id, inst.id, inst.attempt_offset + inst.attempts,
                    run.paths.log)
        if classify_exit(event.code, event.signal, run.timed_out) is None and result and result.succeeded:
            if not self.failing:  # refill the freed slot first: what is queued does not depend on this task
                self._launch()
            inst.outputs = result.outputs
            ttl = self.spec.component_of(inst.task).cache_ttl_seconds
            release = self.cache.leases.hand_back(run.cache_key)
            inst.cost_usd = self.recorder.succeeded(inst, run.attempt_id, result, run.request, usage, run.started_at,
                                                    run.cache_key, ttl, release)
            if release is not None:
                self.cache.waiter.poke()  # siblings waiting on this key: the entry is there now
            inst.peak_rss_mb, inst.duration_s = rss, time.time() - run.started_at
            inst.status = "succeeded"
            self.observer("succeeded", inst)
            if not self.options.keep_workdirs:
                self._sweeper.remove(run.paths.work)
            return
        failure, error = describe_failure(result.model_dump() if result else None, event.code, event.signal, run.timed_out,
                                          self.spec.tasks[inst.task].timeout_s)
        retry = self.spec.tasks[inst.task].retry
        will_retry = failure in RETRYABLE and inst.attempts <= retry.num_retries and not self.failing
        inst.error, inst.failure_class = error, failure
        inst.peak_rss_mb, inst.duration_s = rss, time.time() - run.started_at
        self.recorder.attempt_failed(inst, run.attempt_id, failure, error, event.code, usage, will_retry)
        if will_retry:
            inst.status = "retry_wait"
            heapq.heappush(self.timers, (time.monotonic() + retry_delay(retry, inst.attempts), inst.id))
            self.observer("retrying", inst)
            return
        self.cache.leases.release(run.cache_key)
        self.cache.waiter.poke()
        self._fail(inst, error, run.started_at)

    def _skip(self, inst: Instance, reason: str) -> None:
        inst.status, inst.reason = "skipped", reason
        self.recorder.skipped(inst, reason)
        self.observer("skipped", inst)

    def _fail(self, inst: Instance, error: str, started_at: float | None = None) -> None:
        inst.status, inst.error = "failed", error
        self.recorder.failed(inst, error, started_at)
        self.observer("failed", inst)
        if not self.graph.rules.is_exit(inst.task):
            self._fail_run(f"task {inst.id}: {error}", inst.id)

    def _fail_run(self, error: str, task: str = "") -> None:
        if self.first_error is None:
            self.first_error = error
            self.graph.final_status.update(state="FAILED", error_code=1, error_message=error,
                                           pipeline_task_name=task)
        self.failing = True
        for iid in self.ready:
            inst = self.graph.instances[iid]
            if not self.graph.rules.runs_after_failure(inst.task):
                inst.status = "waiting"
        self.ready = [i for i in self.ready if self.graph.rules.runs_after_failure(self.graph.instances[i].task)]

    def _abort(self, why: str) -> None:
        for iid in list(self.running):
            if self._pool is not None:
                self._pool.kill(iid)
            run = self.running.pop(iid)
            self.recorder.attempt_failed(run.inst, run.attempt_id, "killed", why, None, Usage(), False)
            self._fail(run.inst, why, run.started_at)

    def succeeded(self) -> bool:
        return self.first_error is None and all(
            i.status in COMPLETED or i.status == "skipped" for i in self.graph.instances.values())
