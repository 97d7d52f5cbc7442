"""Run a container component's command: in its image with podman/docker, or on the host.

The task protocol (`conveyor.runtime.task.execute`) calls `run_container` where a Python component
calls its function: inputs are already materialised and output paths prepared, and the outputs are
collected the same way afterwards. Where the command runs:

* ``CONVEYOR_CONTAINER_ENGINE=host`` (what the Argo compiler sets: the pod *is* the image), or
  ``docker`` / ``podman`` to force one;
* otherwise the first of podman, docker that is installed *and* answers ``info``;
* otherwise, when the command is one the host can run (``sh``, ``echo``, ``python``...), on the host,
  with a note saying so;
* otherwise a PermanentError saying what is needed.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from conveyor.ir.container import ContainerImplementation
from conveyor.ir.errors import PermanentError
from conveyor.ir.spec import ComponentSpec
from conveyor.runtime.placeholders import PlaceholderContext, resolve_command

ENGINE_ENV = "CONVEYOR_CONTAINER_ENGINE"
ENGINES = ("podman", "docker")
HOST_COMMANDS = frozenset({
    "sh", "bash", "dash", "zsh", "echo", "printf", "cat", "true", "false", "test", "env", "ls", "cp", "mv",
    "mkdir", "touch", "sleep", "python", "python3", "tee", "head", "tail", "wc", "grep", "sed", "awk", "date",
})


class ContainerCommandFailed(RuntimeError):
    """The command ran and exited non-zero (retried only if the task has retries)."""


@functools.cache
def engine_works(engine: str) -> bool:
    """Installed and talking to its daemon/runtime (a docker CLI without a daemon does not count)."""
    if shutil.which(engine) is None:
        return False
    try:
        return subprocess.run([engine, "info"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def host_runnable(argv: list[str]) -> bool:
    return bool(argv) and os.path.basename(argv[0]) in HOST_COMMANDS and shutil.which(argv[0]) is not None


def choose_engine(argv: list[str], image: str, component: str, environ: Mapping[str, str]) -> str:
    """'host', 'podman' or 'docker' for this command, or a PermanentError saying what is missing."""
    forced = environ.get(ENGINE_ENV, "").strip()
    if forced:
        if forced not in ("host", *ENGINES):
            raise PermanentError(f"{ENGINE_ENV}={forced!r}: allowed values are host, podman, docker")
        if forced != "host" and not engine_works(forced):
            raise PermanentError(f"{ENGINE_ENV}={forced}: `{forced} info` fails; start {forced} or unset it")
        return forced
    for engine in ENGINES:
        if engine_works(engine):
            return engine
    if host_runnable(argv):
        return "host"
    found = [e for e in ENGINES if shutil.which(e)]
    why = (f"{' and '.join(found)} installed but not working (`{found[0]} info` fails)" if found
           else "neither podman nor docker is installed")
    raise PermanentError(
        f"container component {component!r} needs image {image!r} to run {argv[:1]}: {why}, and "
        f"{argv[0] if argv else '(empty command)'!r} is not a command this host can run in its place. "
        f"Install and start podman or docker, or run it on the cluster (conveyor submit)")


def engine_argv(engine: str, image: str, argv: list[str], workdir: str, env: Mapping[str, str]) -> list[str]:
    """`podman|docker run` with the task's scratch folder mounted at the same path (inputs, outputs)."""
    cmd = [engine, "run", "--rm", "-v", f"{workdir}:{workdir}", "-w", workdir]
    for key, value in sorted(env.items()):
        cmd += ["-e", f"{key}={value}"]
    if argv:
        cmd += ["--entrypoint", argv[0], image, *argv[1:]]
    else:
        cmd.append(image)
    return cmd


def placeholder_context(component: ComponentSpec, kwargs: dict[str, Any], outputs: dict[str, Any],
                        request: Mapping[str, Any], environ: Mapping[str, str]) -> PlaceholderContext:
    output_names = {o.name for o in component.outputs}
    run_id = str(request.get("run_id") or environ.get("CONVEYOR_RUN_ID", ""))
    task_id = str(request.get("task_id") or environ.get("CONVEYOR_TASK_ID", ""))
    return PlaceholderContext(
        component=component.name,
        inputs={k: v for k, v in kwargs.items() if k not in output_names},
        outputs=outputs,
        job_name=run_id, job_id=run_id, task_name=str(request.get("task_name") or task_id), task_id=task_id,
        pipeline_root=str(request.get("artifact_root", "")),
        workspace=request.get("workspace") or environ.get("CONVEYOR_WORKSPACE_PATH"),
    )


def run_container(component: ComponentSpec, kwargs: dict[str, Any], outputs: dict[str, Any],
                  request: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> None:
    """Resolve the placeholders, run the command, raise ContainerCommandFailed on a non-zero exit."""
    environ = os.environ if environ is None else environ
    impl = component.implementation
    assert isinstance(impl, ContainerImplementation)
    ctx = placeholder_context(component, kwargs, outputs, request, environ)
    argv = resolve_command((*impl.command, *impl.args), ctx)
    engine = choose_engine(argv, impl.image, component.name, environ)
    for path in outputs.values():  # the command writes these; their folders must exist
        Path(getattr(path, "path", path)).parent.mkdir(parents=True, exist_ok=True)
    if engine == "host":
        if environ.get(ENGINE_ENV) != "host":
            print(f"conveyor: note: no working podman/docker; running {argv[0]!r} of container component "
                  f"{component.name!r} on this host instead of in image {impl.image!r}", file=sys.stderr, flush=True)
        cmd, env = argv, {**environ, **impl.env}
    else:
        cmd, env = engine_argv(engine, impl.image, argv, str(request["workdir"]), impl.env), dict(environ)
    sys.stdout.flush()
    try:
        code = subprocess.run(cmd, env=env, cwd=str(request["workdir"])).returncode
    except FileNotFoundError:
        raise PermanentError(f"container component {component.name!r}: command {cmd[0]!r} not found") from None
    if code != 0:
        raise ContainerCommandFailed(f"container component {component.name!r}: {argv[:3]} exited with code {code}")
