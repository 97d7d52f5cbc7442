"""Results of an offline policy check: violations, preview-unknown notes, errors, and how to show them.

Why separate from `policy_runner`: the CLI and CI read reports (table, JSON, exit code) without
caring how they were produced; keeping this free of pulumi_policy imports also keeps it cheap.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

MANDATORY = "mandatory"
ADVISORY = "advisory"


@dataclass(frozen=True)
class Violation:
    """One reported violation: which rule, how enforced, on which resource, and why."""

    rule: str
    level: str
    severity: str
    urn: str
    resource_type: str
    resource_name: str
    message: str


@dataclass(frozen=True)
class Note:
    """A rule that could not run on a resource because an input is unknown until `pulumi up`."""

    rule: str
    urn: str
    message: str


@dataclass
class Report:
    """The outcome of one pack evaluation. `exit_code`: 0 pass, 1 mandatory violations, 2 errors."""

    target: str
    program_dir: str
    pack: str
    violations: list[Violation] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    resources: int = 0
    policies: int = 0

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.level == MANDATORY]

    @property
    def advisory(self) -> list[Violation]:
        return [v for v in self.violations if v.level == ADVISORY]

    @property
    def passed(self) -> bool:
        return not self.errors and not self.mandatory

    @property
    def exit_code(self) -> int:
        return 2 if self.errors else (1 if self.mandatory else 0)

    def rule_ids(self, level: str | None = None) -> set[str]:
        return {v.rule for v in self.violations if level is None or v.level == level}

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "program_dir": self.program_dir,
            "pack": self.pack,
            "passed": self.passed,
            "exit_code": self.exit_code,
            "resources": self.resources,
            "policies": self.policies,
            "summary": {
                "mandatory": len(self.mandatory),
                "advisory": len(self.advisory),
                "notes": len(self.notes),
            },
            "violations": [asdict(v) for v in self.violations],
            "notes": [asdict(n) for n in self.notes],
            "errors": list(self.errors),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)


def exit_code(reports: Mapping[str, Report] | Report) -> int:
    """The worst exit code over one or many reports (what the CLI should exit with)."""
    items = [reports] if isinstance(reports, Report) else list(reports.values())
    return max((r.exit_code for r in items), default=0)


def render_table(report: Report) -> Any:
    """A rich renderable: one row per violation (rule, level, resource, message), then a summary."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"policy check: {report.target} ({report.pack})", show_lines=False)
    for column in ("rule", "level", "severity", "resource", "message"):
        table.add_column(column, overflow="fold")
    order = {"mandatory": 0, "advisory": 1}
    for v in sorted(report.violations, key=lambda v: (order.get(v.level, 2), v.rule, v.urn)):
        style = "bold red" if v.level == "mandatory" else "yellow"
        resource = f"{v.resource_type}::{v.resource_name}" if v.resource_type else (v.urn or "(stack)")
        table.add_row(v.rule, Text(v.level, style=style), v.severity, resource, v.message)
    verdict = Text(
        "PASSED" if report.passed else "FAILED", style="bold green" if report.passed else "bold red"
    )
    summary = Text.assemble(
        verdict,
        f"  {len(report.mandatory)} mandatory, {len(report.advisory)} advisory violation(s); "
        f"{report.policies} policies over {report.resources} resources; {len(report.notes)} unknown at preview",
    )
    parts: list[Any] = [table, summary]
    parts += [Text(f"error: {e}", style="bold red") for e in report.errors]
    return Group(*parts)
