"""Evaluate the `policies/` CrossGuard pack offline against a program run under recording mocks.

Why: CI has no Pulumi CLI and no cloud credentials, yet every platform change must pass the pack.
`pulumi preview --policy-pack policies` would send each resource's inputs to the pack's analyzer
server; here `conveyor.platform.mocks.run_program` records the same registrations and this module
feeds them to the *same* Policy objects (`policies/rules/catalog.py`, loaded by path), after
putting the inputs through the same steps the server applies: wire encoding (protobuf Struct, so
numbers become floats), `pulumi_policy`'s property deserializer (secrets unwrapped) and its
unknown-value proxy (reading a value unknown at preview raises, and the check is reported as
"cannot be checked", not passed or failed).

The two helpers that do those steps, `pulumi_policy.deserialize.deserialize_properties` and
`pulumi_policy.proxy.unknown_checking_proxy`, are not re-exported by `pulumi_policy/__init__`;
there is no public equivalent, so they are pinned to `SUPPORTED_POLICY_SDK` and covered by tests.
Everything else (args classes, enforcement levels, `not_applicable`) uses the public API.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import importlib.util
import inspect
import json
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import deserialize_properties  # pinned private helper, see module doc
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy  # pinned private helper

from conveyor.platform.mocks import UNKNOWN, RecordedResource, ResourceRef, Secret, run_program
from conveyor.platform.policy_report import Note, Report, Violation, exit_code, render_table
from conveyor.platform.stack_files import list_stacks

SUPPORTED_POLICY_SDK = ">=1.21.0,<2.0.0"
REPO_ROOT = Path(__file__).resolve().parents[3]
_SIG = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_UNKNOWN_WIRE = (
    "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's unknown; pulumi_policy's UNKNOWN_STRING_VALUE
)
_LEVELS = {level.value: level for level in EnforcementLevel}
__all__ = [
    "LoadedPack",
    "Note",
    "PolicyConfigError",
    "Report",
    "Violation",
    "check_all",
    "check_program",
    "check_stack",
    "evaluate",
    "exit_code",
    "load_pack",
    "load_policy_config",
    "render_table",
]


class PolicyConfigError(ValueError):
    """The pack config names an unknown rule or key, or an invalid enforcement level."""


@dataclass(frozen=True)
class LoadedPack:
    """The pack's Policy objects plus its name and default enforcement level."""

    name: str
    policies: tuple[Policy, ...]
    default_level: EnforcementLevel
    directory: Path


_PACKS: dict[Path, LoadedPack] = {}


def default_pack_dir() -> Path:
    """`$CONVEYOR_POLICY_PACK`, else the repository's `policies/` next to `pipelines/`."""
    return Path(os.environ.get("CONVEYOR_POLICY_PACK") or REPO_ROOT / "policies").resolve()


def load_pack(pack_dir: Path | str | None = None) -> LoadedPack:
    """Import `<pack_dir>/rules` by path under a private package name and read its catalog.

    Never imports `__main__.py` (that would start the analyzer server and block).
    """
    directory = Path(pack_dir).resolve() if pack_dir else default_pack_dir()
    if directory in _PACKS:
        return _PACKS[directory]
    init = directory / "rules" / "__init__.py"
    if not init.exists():
        raise FileNotFoundError(f"{directory}: not a conveyor policy pack (no rules/__init__.py)")
    package = "_conveyor_policy_pack_" + hashlib.sha1(str(directory).encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(
        package, init, submodule_search_locations=[str(init.parent)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[package] = module
    spec.loader.exec_module(module)
    catalog = importlib.import_module(f"{package}.catalog")
    pack = LoadedPack(catalog.PACK_NAME, tuple(catalog.POLICIES), catalog.PACK_ENFORCEMENT_LEVEL, directory)
    _PACKS[directory] = pack
    return pack


def to_wire(value: Any) -> Any:
    """Recorded value -> the JSON shape the engine sends an analyzer (secrets signed, unknown sentinel)."""
    if value is UNKNOWN:
        return _UNKNOWN_WIRE
    if isinstance(value, Secret):
        return {_SIG: _SECRET_SIG, "value": to_wire(value.value)}
    if isinstance(value, ResourceRef):
        return value.urn
    if isinstance(value, Mapping):
        return {str(k): to_wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_wire(v) for v in value]
    if value is None or isinstance(value, str | bool | int | float):
        return value
    return str(value)


def policy_props(value: Mapping[str, Any]) -> Mapping[str, Any]:
    """What a policy sees as `args.props`: Struct round trip, deserialize, unknown-checking proxy."""
    from google.protobuf import json_format, struct_pb2

    struct = struct_pb2.Struct()
    struct.update(to_wire(dict(value)))
    return unknown_checking_proxy(deserialize_properties(json_format.MessageToDict(struct)))


def _options(res: RecordedResource) -> PolicyResourceOptions:
    opts = res.options or {}
    timeouts = opts.get("custom_timeouts") or {}
    return PolicyResourceOptions(
        bool(opts.get("protect")),
        list(opts.get("ignore_changes") or []),
        opts.get("delete_before_replace") or None,
        [str(a) for a in opts.get("aliases") or []],
        PolicyCustomTimeouts(
            *(float(str(timeouts.get(k, 0)).rstrip("s") or 0) for k in ("create", "update", "delete"))
        ),
        list(opts.get("additional_secret_outputs") or []),
        res.parent,
    )


def _not_applicable_type() -> type[BaseException]:
    """The SDK's not-applicable signal, discovered through its public `not_applicable()`."""
    args = ResourceValidationArgs(
        "t",
        {},
        "urn",
        "n",
        PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None),
        None,
    )
    try:
        args.not_applicable()
    except Exception as exc:  # noqa: BLE001 - we only want its type
        return type(exc)
    raise AssertionError("ResourceValidationArgs.not_applicable() did not raise")


_NOT_APPLICABLE = _not_applicable_type()


def _normalize_config(
    config: Mapping[str, Any] | None, pack: LoadedPack
) -> dict[str, tuple[EnforcementLevel | None, dict]]:
    """Pulumi's `--policy-pack-config` shape -> {rule: (level override, properties)}; validated."""
    by_name = {p.name: p for p in pack.policies}
    result: dict[str, tuple[EnforcementLevel | None, dict]] = {}
    for key, value in (config or {}).items():
        if key != "all" and key not in by_name:
            raise PolicyConfigError(f"policy config: unknown rule {key!r}; rules: {sorted(by_name)}")
        raw = value if isinstance(value, Mapping) else {"enforcementLevel": value}
        level_text = raw.get("enforcementLevel")
        if level_text is not None and level_text not in _LEVELS:
            raise PolicyConfigError(
                f"policy config {key}.enforcementLevel={level_text!r}; allowed: {sorted(_LEVELS)}"
            )
        props = {k: v for k, v in raw.items() if k != "enforcementLevel"}
        schema = (
            by_name[key].config_schema.properties if key != "all" and by_name[key].config_schema else {}
        ) or {}
        unknown = sorted(set(props) - set(schema))
        if unknown:
            raise PolicyConfigError(
                f"policy config {key}: unknown key(s) {unknown}; allowed: {sorted(schema)}"
            )
        result[key] = (_LEVELS[level_text] if level_text else None, props)
    return result


def _level(policy: Policy, config: dict, pack: LoadedPack) -> EnforcementLevel:
    for key in (policy.name, "all"):
        if key in config and config[key][0] is not None:
            level = config[key][0]
            break
    else:
        level = policy.enforcement_level or pack.default_level
    return EnforcementLevel.MANDATORY if level == EnforcementLevel.REMEDIATE else level


def _reporter(
    report: Report,
    policy: Policy,
    level: EnforcementLevel,
    default_urn: str,
    by_urn: Mapping[str, RecordedResource],
) -> Any:
    """A `ReportViolation` that records into `report` (stack policies name the resource's URN)."""

    def report_violation(message: str, urn: str | None = None) -> None:
        where = urn or default_urn
        res = by_urn.get(where)
        report.violations.append(
            Violation(
                rule=policy.name,
                level=level.value,
                severity=policy.severity.value if policy.severity else "",
                urn=where,
                resource_type=res.type if res else "",
                resource_name=res.name if res else "",
                message=message or policy.description,
            )
        )

    return report_violation


def _run(report: Report, policy: Policy, urn: str, args: Any, report_violation: Any) -> None:
    """Mirror the analyzer server's outcomes: unknown -> note, not applicable -> skip, crash -> error."""
    try:
        result = policy.validate(args, report_violation)
        if inspect.isawaitable(result):
            asyncio.run(_await(result))
    except UnknownValueError as exc:
        report.notes.append(Note(policy.name, urn, f"cannot be checked before `pulumi up`: {exc.message}"))
    except _NOT_APPLICABLE:
        pass
    except Exception as exc:  # noqa: BLE001 - a crashing rule fails the check, never passes it
        report.errors.append(
            f"policy {policy.name} crashed on {urn or 'the stack'}: {type(exc).__name__}: {exc}"
        )


async def _await(awaitable: Any) -> None:
    await awaitable


def _stack_resources(resources: Sequence[RecordedResource]) -> list[PolicyResource]:
    """Stack-policy views, linked like the server links them: state = inputs + outputs (+ id)."""
    views: dict[str, PolicyResource] = {}
    for r in resources:
        state = {**r.inputs, **r.outputs}
        if r.id and "id" not in state:
            state["id"] = r.id
        views[r.urn] = PolicyResource(
            r.type, policy_props(state), r.urn, r.name, _options(r), None, None, [], {}
        )
    for r in resources:
        views[r.urn].parent = views.get(r.parent or "")
        views[r.urn].dependencies = [views[d] for d in r.options.get("depends_on") or () if d in views]
    return list(views.values())


def evaluate(
    resources: Sequence[RecordedResource],
    *,
    target: str = "",
    program_dir: str = "",
    policy_config: Mapping[str, Any] | None = None,
    pack: LoadedPack | None = None,
) -> Report:
    """Run every resource policy on every resource's inputs, then every stack policy on the stack."""
    pack = pack or load_pack()
    config = _normalize_config(policy_config, pack)
    report = Report(target=target, program_dir=program_dir, pack=pack.name, resources=len(resources))
    by_urn = {r.urn: r for r in resources}
    inputs = {r.urn: policy_props(r.inputs) for r in resources}
    stack_view: list[PolicyResource] | None = None
    for policy in pack.policies:
        level = _level(policy, config, pack)
        if level == EnforcementLevel.DISABLED:
            continue
        report.policies += 1
        props_config = config.get(policy.name, (None, {}))[1] or None
        if isinstance(policy, ResourceValidationPolicy):
            for res in resources:
                args = ResourceValidationArgs(
                    res.type, inputs[res.urn], res.urn, res.name, _options(res), None, props_config
                )
                _run(report, policy, res.urn, args, _reporter(report, policy, level, res.urn, by_urn))
        elif isinstance(policy, StackValidationPolicy):
            stack_view = stack_view if stack_view is not None else _stack_resources(resources)
            args = StackValidationArgs(stack_view, props_config)
            _run(report, policy, "", args, _reporter(report, policy, level, "", by_urn))
    return report


def load_policy_config(path: Path | str | None) -> dict[str, Any] | None:
    """Read a `--policy-pack-config` JSON file (the same file `pulumi preview` takes)."""
    if path is None:
        return None
    data = json.loads(Path(path).read_text())
    if not isinstance(data, dict):
        raise PolicyConfigError(f"{path}: top level must be an object keyed by rule name")
    return data


def _check(program_dir: Path, stack: str | Path, target: str, opts: dict[str, Any]) -> Report:
    pack = load_pack(opts.get("pack_dir"))
    try:
        recorded = run_program(program_dir, stack, preview=bool(opts.get("preview")))
    except Exception as exc:  # noqa: BLE001 - the program failing is a failed check, reported as such
        report = Report(target=target, program_dir=str(program_dir), pack=pack.name)
        report.errors.append(f"program failed for {target}: {type(exc).__name__}: {exc}")
        return report
    return evaluate(
        recorded.resources,
        target=target,
        program_dir=str(program_dir),
        policy_config=opts.get("policy_config"),
        pack=pack,
    )


def check_stack(
    stack: str,
    program_dir: Path | str = REPO_ROOT,
    *,
    policy_config: Mapping[str, Any] | None = None,
    pack_dir: Path | str | None = None,
    preview: bool = False,
) -> Report:
    """`conveyor policy check --stack NAME`: run `program_dir` for `stacks/Pulumi.<NAME>.yaml`, check it.

    `preview=True` leaves provider-computed outputs unknown, as a first `pulumi preview` would, so
    the report shows which checks could not run before `pulumi up` (as notes). CI uses the default.
    """
    opts = {"policy_config": policy_config, "pack_dir": pack_dir, "preview": preview}
    return _check(Path(program_dir), stack, stack, opts)


def check_program(
    program_dir: Path | str,
    config_file: Path | str | None = None,
    *,
    policy_config: Mapping[str, Any] | None = None,
    pack_dir: Path | str | None = None,
    preview: bool = False,
) -> Report:
    """`conveyor policy check --program DIR [--config FILE]` for any Pulumi Python program.

    `config_file` is a stack config file (`Pulumi.<stack>.yaml`, anywhere); without one the program
    runs with only its project defaults, as stack `policy-check`.
    """
    program_dir = Path(program_dir)
    opts = {"policy_config": policy_config, "pack_dir": pack_dir, "preview": preview}
    if config_file is not None:
        return _check(program_dir, Path(config_file), Path(config_file).name, opts)
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "Pulumi.policy-check.yaml"
        empty.write_text("config: {}\n")
        return _check(program_dir, empty, "policy-check", opts)


def check_all(
    program_dir: Path | str = REPO_ROOT,
    *,
    policy_config: Mapping[str, Any] | None = None,
    pack_dir: Path | str | None = None,
    preview: bool = False,
) -> dict[str, Report]:
    """`conveyor policy check --all`: one report per stack file in the project's stackConfigDir."""
    return {
        s: check_stack(s, program_dir, policy_config=policy_config, pack_dir=pack_dir, preview=preview)
        for s in list_stacks(Path(program_dir))
    }
