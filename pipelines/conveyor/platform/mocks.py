"""Run any Pulumi Python program offline under mocks that record every resource it declares.

Why: these machines (and CI) have no Pulumi CLI, no cloud credentials and no Kubernetes API, yet
reviewers (`conveyor plan`), the policy pack (`conveyor policy check`) and the component tests all
need to see exactly what `pulumi up` would register. `run_program` executes the program's
`__main__.py` with the stack's config and returns a `RecordedProgram`: every resource with its
URN, type, name, parent, inputs, mocked outputs and resource options (protect, aliases, provider,
...). Secrets stay wrapped in `Secret` and unknowns stay `UNKNOWN`, so a policy can tell a
secret-marked password from a plain one.

Pulumi's runtime settings are process-global ContextVars. `run_program` resets them before each
run and serialises runs with a lock; pass `isolated=True` to run in a fresh interpreter instead
(slower, but immune to a program that leaves global state behind).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import runpy
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from conveyor.platform.recording import (  # noqa: F401 (re-exported: the public API of this module)
    _SECRET_SIG,
    _SIG,
    UNKNOWN,
    RecordedProgram,
    RecordedResource,
    ResourceRef,
    Secret,
    decode_struct,
    decode_value,
    unwrap,
)
from conveyor.platform.stack_files import StackSettings, load_stack  # noqa: F401 (re-exported)

_RUN_LOCK = threading.Lock()


def _options(request: Any) -> dict[str, Any]:
    from google.protobuf import json_format

    timeouts = request.customTimeouts
    return {
        "protect": bool(request.protect),
        "retain_on_delete": bool(request.retainOnDelete),
        "delete_before_replace": bool(request.deleteBeforeReplace),
        "ignore_changes": list(request.ignoreChanges),
        "replace_on_changes": list(request.replaceOnChanges),
        "additional_secret_outputs": list(request.additionalSecretOutputs),
        "aliases": [json_format.MessageToDict(a) for a in request.aliases] + list(request.aliasURNs),
        "depends_on": list(request.dependencies),
        "provider": request.provider or None,
        "providers": dict(request.providers),
        "version": request.version or None,
        "plugin_download_url": request.pluginDownloadURL or None,
        "import_id": request.importId or None,
        "deleted_with": request.deletedWith or None,
        "remote": bool(request.remote),
        "custom_timeouts": {
            k: v
            for k, v in (
                ("create", timeouts.create),
                ("update", timeouts.update),
                ("delete", timeouts.delete),
            )
            if v
        },
    }


def _new_monitor(mocks: Any) -> Any:
    """Build a MockMonitor subclass instance that records what the stock monitor throws away."""
    from pulumi.runtime.mocks import MockMonitor

    class RecordingMonitor(MockMonitor):
        def __init__(self, inner: Any) -> None:
            super().__init__(inner)
            self.recorded: list[RecordedResource] = []
            self.registered_outputs: dict[str, dict[str, Any]] = {}
            self.stack_urn = ""
            self.thread_loops: list[asyncio.AbstractEventLoop] = []

        def _thread_loop(self) -> None:
            """Pulumi gives each executor thread an event loop it never closes; make it ours to close."""
            try:
                asyncio.get_event_loop()
            except RuntimeError:
                loop = asyncio.new_event_loop()
                asyncio.set_event_loop(loop)
                self.thread_loops.append(loop)

        def make_urn(self, parent: str, type_: str, name: str) -> str:
            """URNs as the real engine makes them (checked against it by tests/cluster/test_pulumi_e2e.py).

            The SDK's mock prefixes only the parent's own type, and also the root stack's; the engine
            prefixes the parent's whole qualified type, except for children of the root stack.
            """
            if parent:
                qualified = parent.split("::")[2]
                if qualified != "pulumi:pulumi:Stack":
                    type_ = f"{qualified}${type_}"
            return super().make_urn("", type_, name)

        def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
            self._thread_loop()
            urn = self.make_urn(request.parent, request.type, request.name)
            if request.type == "pulumi:pulumi:Stack":
                self.stack_urn = urn
                return super().RegisterResource(request)
            inputs = decode_struct(request.object)
            self.mocks.pending_secret_outputs = list(request.additionalSecretOutputs)
            response = super().RegisterResource(request)
            self.recorded.append(
                RecordedResource(
                    urn=urn,
                    type=request.type,
                    name=request.name,
                    parent=request.parent or None,
                    custom=bool(request.custom),
                    inputs=inputs,
                    outputs=decode_struct(response.object),
                    options=_options(request),
                    id=response.id or None,
                )
            )
            return response

        def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802
            self.registered_outputs[request.urn] = decode_struct(request.outputs)
            return super().RegisterResourceOutputs(request)

    return RecordingMonitor(mocks)


def make_mocks(project: str = "project") -> Any:
    """A `pulumi.runtime.Mocks` whose outputs look like the clouds' (ids, ARNs, endpoints, emails)."""
    from pulumi.runtime import Mocks

    from conveyor.platform.mock_outputs import mock_call, mock_outputs

    class RecordingMocks(Mocks):
        def __init__(self) -> None:
            self.pending_secret_outputs: list[str] = []
            self.calls: list[tuple[str, dict[str, Any]]] = []

        def new_resource(self, args: Any) -> tuple[str, dict[str, Any]]:
            state = mock_outputs(args.typ, args.name, dict(args.inputs), project)
            for key in self.pending_secret_outputs:
                if key in state:
                    state[key] = {_SIG: _SECRET_SIG, "value": state[key]}
            self.pending_secret_outputs = []
            return (args.resource_id or f"{args.name}-id", state)

        def call(self, args: Any) -> tuple[dict[str, Any], list[Any]]:
            self.calls.append((args.token, dict(args.args)))
            return (mock_call(args.token, dict(args.args)), [])

    return RecordingMocks()


def _purge_modules(program_dir: Path) -> None:
    """Forget modules loaded from the program dir so the next run re-executes them from scratch."""
    root = str(program_dir)
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None) or ""
        if file.startswith(root + "/") and "/.venv/" not in file and "/pipelines/" not in file:
            del sys.modules[name]


@contextlib.contextmanager
def _own_event_loop(monitor: Any) -> Iterator[None]:
    """Give Pulumi's runtime a fresh event loop for one program and close it afterwards.

    Why: Pulumi's `_sync_await` creates a loop for the thread and never closes it, so at exit the
    garbage collector finds it open and prints `Exception ignored in BaseEventLoop.__del__` (and
    unclosed self-pipe sockets) after the command's own output; the same for the loop of each
    executor thread that registered resources (`monitor.thread_loops`). A loop already running
    in this thread is the caller's and is left alone."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        yield
        return
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        yield
    finally:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        with contextlib.suppress(Exception):
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        asyncio.set_event_loop(None)
        loop.close()
        for thread_loop in monitor.thread_loops:
            thread_loop.close()
        monitor.thread_loops.clear()


def _run_in_process(settings: StackSettings, preview: bool) -> RecordedProgram:
    import pulumi.runtime.settings as rt_settings
    from pulumi.runtime import config as rt_config
    from pulumi.runtime import mocks as rt_mocks
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    mocks = make_mocks(settings.project)
    monitor = _new_monitor(mocks)
    program_dir = str(settings.program_dir)
    with _RUN_LOCK, _own_event_loop(monitor):
        _purge_modules(settings.program_dir)
        rt_settings.ROOT.set(None)
        rt_config.set_all_config(dict(settings.config), list(settings.secret_keys))
        rt_mocks.set_mocks(
            mocks, project=settings.project, stack=settings.stack, preview=preview, monitor=monitor
        )
        rt_settings.SETTINGS.rpc_manager.clear()
        rt_settings.SETTINGS.outputs.clear()
        sys.path.insert(0, program_dir)
        try:

            def program() -> None:
                runpy.run_path(str(settings.main), run_name="__main__")
                # set_mocks already "finished" the root stack with no outputs; register the real ones.
                stack = rt_settings.get_root_resource()
                stack._outputs_registered = False
                stack._finish()

            _sync_await(run_pulumi_func(program))
        finally:
            sys.path.remove(program_dir)
            rt_settings.ROOT.set(None)
            rt_config.set_all_config({}, [])
    for res in monitor.recorded:
        if res.urn in monitor.registered_outputs and not res.custom:
            res.outputs = monitor.registered_outputs[res.urn]
    return RecordedProgram(
        project=settings.project,
        stack=settings.stack,
        resources=monitor.recorded,
        outputs=monitor.registered_outputs.get(monitor.stack_urn, {}),
        stack_urn=monitor.stack_urn,
        config=dict(settings.config),
    )


def run_program(
    program_dir: Path | str,
    stack: str | Path,
    *,
    config_overrides: dict[str, str] | None = None,
    secret_overrides: dict[str, str] | None = None,
    preview: bool = False,
    isolated: bool = False,
) -> RecordedProgram:
    """Run `program_dir/__main__.py` for `stack` (a name or a `Pulumi.<name>.yaml` path) under mocks.

    `config_overrides` maps config keys (`project:key` or bare `key`) to string values, as
    `pulumi config set` would; `secret_overrides` likewise, as `pulumi config set --secret` would. `preview=True` mimics `pulumi preview` (mock outputs become unknown
    where the program reads them). Raises whatever the program raises, e.g. a config validation error.
    """
    settings = load_stack(Path(program_dir), stack)
    if config_overrides or secret_overrides:
        merged, secret_keys = dict(settings.config), list(settings.secret_keys)
        for key, value in {**(config_overrides or {}), **(secret_overrides or {})}.items():
            merged[key if ":" in key else f"{settings.project}:{key}"] = value
        for key in secret_overrides or {}:
            secret_keys.append(key if ":" in key else f"{settings.project}:{key}")
        settings = replace(settings, config=merged, secret_keys=sorted(set(secret_keys)))
    if not isolated:
        return _run_in_process(settings, preview)
    cmd = [sys.executable, "-m", "conveyor.platform.mocks", str(settings.program_dir), str(stack)]
    if preview:
        cmd.append("--preview")
    if secret_overrides:
        raise ValueError("secret_overrides is not supported with isolated=True")
    env_overrides = json.dumps(config_overrides or {})
    pythonpath = os.pathsep.join([str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": pythonpath}
    proc = subprocess.run(cmd, input=env_overrides, capture_output=True, text=True, check=False, env=env)
    if proc.returncode != 0:
        raise RuntimeError(
            f"program {settings.main} failed for stack {settings.stack}:\n{proc.stderr[-4000:]}"
        )
    return RecordedProgram.from_dict(json.loads(proc.stdout))


def _main(argv: list[str]) -> int:
    program_dir, stack = argv[0], argv[1]
    overrides = json.loads(sys.stdin.read() or "{}")
    recorded = run_program(program_dir, stack, config_overrides=overrides, preview="--preview" in argv)
    sys.stdout.write(json.dumps(recorded.to_dict()))
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
