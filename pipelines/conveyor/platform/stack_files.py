"""Read a Pulumi project and one stack's config file the way the Pulumi CLI would, without the CLI.

`conveyor plan` and the policy runner must see the same config a real `pulumi up` sees, so this
mirrors the CLI's rules: keys without a namespace belong to the project, structured values reach
the program as JSON strings, project-level `config:` defaults fill unset keys, and `secure:` values
(which need the stack's secrets provider to decrypt) become marked placeholder secrets.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SECRET_PLACEHOLDER = "[secret]"


class StackFileError(ValueError):
    """A project or stack file is missing or malformed; the message names the file and key."""


@dataclass(frozen=True)
class StackSettings:
    """Everything the Pulumi runtime needs to run one stack offline."""

    project: str
    stack: str
    program_dir: Path
    main: Path
    config: dict[str, str] = field(default_factory=dict)
    secret_keys: list[str] = field(default_factory=list)
    config_file: Path | None = None


def load_project(program_dir: Path) -> dict[str, Any]:
    """Parse `Pulumi.yaml` (or `.yml`) in `program_dir`."""
    for name in ("Pulumi.yaml", "Pulumi.yml"):
        path = program_dir / name
        if path.exists():
            data = yaml.safe_load(path.read_text()) or {}
            if not isinstance(data, dict) or "name" not in data:
                raise StackFileError(f"{path}: key 'name' is required (the Pulumi project name)")
            return data
    raise StackFileError(f"{program_dir}: no Pulumi.yaml found; pass the directory of a Pulumi program")


def _main_file(program_dir: Path, project: dict[str, Any]) -> Path:
    main = project.get("main")
    base = program_dir / main if main else program_dir
    if base.is_file():
        return base
    candidate = base / "__main__.py"
    if not candidate.exists():
        raise StackFileError(f"{base}: no __main__.py; key 'main' in Pulumi.yaml must point at the program")
    return candidate


def _encode(value: Any) -> str:
    """Encode a YAML value as the string the CLI hands to the language host."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, sort_keys=True)


def _contains_secure(value: Any) -> bool:
    if isinstance(value, dict):
        return set(value) == {"secure"} or any(_contains_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_secure(v) for v in value)
    return False


def _strip_secure(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return SECRET_PLACEHOLDER
        return {k: _strip_secure(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_secure(v) for v in value]
    return value


def _qualify(key: str, project: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def stack_file_path(program_dir: Path, project: dict[str, Any], stack: str) -> Path:
    """Where the CLI looks for `Pulumi.<stack>.yaml`, honouring `stackConfigDir`."""
    config_dir = program_dir / project.get("stackConfigDir", ".")
    return config_dir / f"Pulumi.{stack}.yaml"


def load_stack(program_dir: Path, stack: str | Path) -> StackSettings:
    """Resolve `stack` (a stack name or a path to a `Pulumi.<name>.yaml`) into runtime settings."""
    program_dir = Path(program_dir).resolve()
    project = load_project(program_dir)
    name = project["name"]
    stack_path = Path(stack)
    if stack_path.suffix in (".yaml", ".yml") and stack_path.exists():
        config_file = stack_path.resolve()
        stack_name = config_file.name.removeprefix("Pulumi.").rsplit(".", 1)[0]
    else:
        stack_name = str(stack)
        config_file = stack_file_path(program_dir, project, stack_name)
        if not config_file.exists():
            known = sorted(
                p.name.removeprefix("Pulumi.").rsplit(".", 1)[0]
                for p in config_file.parent.glob("Pulumi.*.yaml")
            )
            raise StackFileError(f"stack {stack_name!r}: no file {config_file}; known stacks: {known}")
    raw = yaml.safe_load(config_file.read_text()) or {}
    if not isinstance(raw, dict):
        raise StackFileError(f"{config_file}: top level must be a mapping with key 'config'")
    values = raw.get("config") or {}
    if not isinstance(values, dict):
        raise StackFileError(f"{config_file}: key 'config' must be a mapping, got {type(values).__name__}")

    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, spec in (project.get("config") or {}).items():
        if isinstance(spec, dict) and "default" in spec:
            config[_qualify(key, name)] = _encode(spec["default"])
        elif not isinstance(spec, dict):
            config[_qualify(key, name)] = _encode(spec)
    for key, value in values.items():
        full = _qualify(str(key), name)
        if _contains_secure(value):
            secret_keys.append(full)
            value = _strip_secure(value)
        config[full] = _encode(value)
    # The CLI refuses to run a stack that leaves a declared key without a default unset.
    missing = sorted(k for k in (project.get("config") or {}) if _qualify(k, name) not in config)
    if missing:
        raise StackFileError(f"{config_file}: stack {stack_name!r} is missing configuration values {missing} "
                             "(declared in Pulumi.yaml without a default)")
    return StackSettings(
        project=name,
        stack=stack_name,
        program_dir=program_dir,
        main=_main_file(program_dir, project),
        config=config,
        secret_keys=sorted(secret_keys),
        config_file=config_file,
    )


def list_stacks(program_dir: Path) -> list[str]:
    """Stack names that have a config file in the project's stack config directory."""
    program_dir = Path(program_dir).resolve()
    project = load_project(program_dir)
    config_dir = program_dir / project.get("stackConfigDir", ".")
    return sorted(p.name.removeprefix("Pulumi.").rsplit(".", 1)[0] for p in config_dir.glob("Pulumi.*.yaml"))
