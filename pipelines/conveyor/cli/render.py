"""Rich rendering: live progress while a run goes, and the tables after."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

STATUS_STYLE = {"succeeded": "green", "cached": "cyan", "skipped": "dim", "failed": "bold red",
                "running": "yellow", "retrying": "magenta"}

console = Console()
errors = Console(stderr=True)


def fmt_seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 120:
        return f"{value:.2f} s"
    return f"{value / 60:.1f} min"


def fmt_money(value: float | None) -> str:
    if not value:
        return "-"
    return "< $0.0001" if value < 0.0001 else f"${value:.4f}"


class Progress:
    """Counts of task states, redrawn as events arrive (a no-op display when not a terminal)."""

    LABELS = ("succeeded", "cached", "running", "failed", "queued")

    def __init__(self, title: str, enabled: bool = True):
        self.title = title
        self.state: dict[str, str] = {}
        self.enabled = enabled and console.is_terminal
        self.live = Live(self._render(), console=console, refresh_per_second=8, transient=True) if self.enabled else None

    def _render(self) -> Text:
        counts = Counter(self.state.values())
        parts = [f"[bold]{self.title}[/]"]
        mapping = {"succeeded": counts["succeeded"], "cached": counts["cached"] + counts["resumed"],
                   "running": counts["running"] + counts["retrying"],
                   "failed": counts["failed"], "queued": counts["queued"] + counts["cache_wait"]}
        for label in self.LABELS:
            style = STATUS_STYLE.get(label, "white")
            parts.append(f"[{style}]{label} {mapping[label]}[/]")
        return Text.from_markup("  ".join(parts))

    def __call__(self, event: str, inst: Any) -> None:
        self.state[inst.id] = event
        if self.live is not None:
            self.live.update(self._render())

    def __enter__(self) -> Progress:
        if self.live is not None:
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(*exc)


def task_table(tasks: list[dict[str, Any]], title: str | None = None) -> Table:
    table = Table(title=title, header_style="bold")
    for column in ("task", "status", "attempts", "duration", "peak mem", "cost", "saved"):
        table.add_column(column, justify="right" if column not in ("task", "status") else "left")
    for t in tasks:
        status = t["status"]
        table.add_row(t["name"], Text(status, style=STATUS_STYLE.get(status, "")), str(t.get("attempts") or 0),
                      fmt_seconds(t.get("duration_s")),
                      "-" if t.get("peak_rss_mb") is None else f"{t['peak_rss_mb']:.0f} MB",
                      fmt_money(t.get("cost_usd")), fmt_seconds(t.get("saved_s")) if t.get("saved_s") else "-")
    return table


def run_summary(result: dict[str, Any]) -> None:
    tasks = result["tasks"]
    console.print(task_table(tasks, title=f"run {result['run_id']}"))
    counts = Counter(t["status"] for t in tasks)
    saved = sum(t.get("saved_s") or 0 for t in tasks)
    cost = sum(t.get("cost_usd") or 0 for t in tasks)
    saved_usd = sum(t.get("saved_usd") or 0 for t in tasks)
    style = "green" if result["status"] == "succeeded" else "bold red"
    line = (f"[{style}]{result['status']}[/] in {fmt_seconds(result['duration_s'])} — "
            f"{counts['succeeded']} ran, {counts['cached']} cached, {counts['skipped']} skipped, "
            f"{counts['failed']} failed")
    if counts["cached"]:
        line += f"; the cache saved {fmt_seconds(saved)} of compute"
        if saved_usd:
            line += f" ({fmt_money(saved_usd)})"
    if cost:
        line += f"; estimated cost {fmt_money(cost)}"
    console.print(line)
    if counts["cached"] == len(tasks) and tasks:
        console.print("[cyan]every task was served from the cache[/]")
    for failed in (t for t in tasks if t["status"] == "failed"):
        kind = failed.get("failure_class") or "error"
        retried = "retried" if (failed.get("attempts") or 0) > 1 else "not retried"
        console.print(f"[red]✗ {escape(failed['name'])}[/] ({kind}, {retried}, {failed.get('attempts')} attempt(s)): "
                      f"{escape(str(failed.get('error')))}")
    for warning in result.get("warnings") or []:
        errors.print(f"[yellow]warning:[/] {escape(warning)}")
    if result.get("outputs"):
        console.print("outputs: " + escape(json.dumps(result["outputs"], default=str)[:500]))


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))
