"""URN snapshots per stack: the upgrade-safety net for `pulumi up` on existing environments.

Why: renaming a resource, moving it under another parent, or changing an identity input (a bucket
name, a DB identifier, a namespace) makes Pulumi delete and recreate it; for a bucket or a database
that is data loss. Each stack's committed snapshot lists every URN plus the identity inputs that
force replacement. The component tests fail on any difference until the snapshot is regenerated in
the same commit, and point at removed URNs that no new resource aliases.

Regenerate: `python -m conveyor.platform.snapshots [--program DIR] [--out DIR] [STACK ...]`
(or `CONVEYOR_UPDATE_SNAPSHOTS=1 pytest tests/components`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from conveyor.platform.mocks import RecordedProgram, RecordedResource, Secret, run_program
from conveyor.platform.stack_files import list_stacks

# Inputs whose change replaces the resource for most providers (name-like identity fields).
IDENTITY_INPUTS = (
    "name",
    "bucket",
    "bucketPrefix",
    "identifier",
    "identifierPrefix",
    "accountId",
    "metadata.namespace",
    "metadata.name",
    "location",
    "region",
    "project",
    "engine",
    "databaseVersion",
    "cidrBlock",
    "availabilityZone",
    "chart",
)


def _get(inputs: dict, path: str):
    cur = inputs
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return None if isinstance(cur, Secret | dict | list) else cur


def identity(resource: RecordedResource) -> dict[str, object]:
    return {k: v for k in IDENTITY_INPUTS if (v := _get(resource.inputs, k)) is not None}


def snapshot_lines(recorded: RecordedProgram) -> list[str]:
    """One line per resource: `URN  {identity inputs}`, sorted for stable diffs."""
    lines = []
    for r in recorded.resources:
        ident = identity(r) if r.custom else {}
        lines.append(f"{r.urn}  {json.dumps(ident, sort_keys=True)}" if ident else r.urn)
    return sorted(lines)


def _urn(line: str) -> str:
    return line.split("  ", 1)[0]


def diff_snapshot(old: list[str], recorded: RecordedProgram, include_added: bool = False) -> list[str]:
    """Human-readable problems between a committed snapshot and a fresh recording (empty = safe).

    Removed URNs (delete, or rename without alias) and changed identity inputs (replace) are
    problems. New resources are harmless to existing environments and only listed on request, so
    adding e.g. a dashboard file does not force a snapshot update.
    """
    new = snapshot_lines(recorded)
    if old == new:
        return []
    old_by_urn = {_urn(line): line for line in old}
    new_by_urn = {_urn(line): line for line in new}
    aliased: dict[str, str] = {}
    for r in recorded.resources:
        for alias in r.options.get("aliases", []):
            spec = alias.get("spec", alias) if isinstance(alias, dict) else {}
            target = alias if isinstance(alias, str) else spec.get("urn") or spec.get("name")
            if target:
                aliased[str(target)] = r.urn
    problems = []
    for urn in sorted(set(old_by_urn) - set(new_by_urn)):
        name = urn.rsplit("::", 1)[-1]
        by = aliased.get(urn) or aliased.get(name)
        if by:
            problems.append(f"renamed (alias present, update the snapshot): {urn} -> {by}")
        else:
            problems.append(f"REMOVED or RENAMED without alias (pulumi up would delete it): {urn}")
    if include_added:
        problems.extend(f"added: {urn}" for urn in sorted(set(new_by_urn) - set(old_by_urn)))
    for urn in sorted(set(old_by_urn) & set(new_by_urn)):
        if old_by_urn[urn] != new_by_urn[urn]:
            problems.append(
                f"identity input changed (likely REPLACE): {old_by_urn[urn]} -> {new_by_urn[urn]}"
            )
    return problems


def snapshot_path(out_dir: Path, stack: str) -> Path:
    return out_dir / f"{stack}.txt"


def write_snapshots(program_dir: Path, out_dir: Path, stacks: list[str] | None = None) -> list[Path]:
    """Record each stack and write its snapshot file; returns the files written."""
    written = []
    out_dir.mkdir(parents=True, exist_ok=True)
    for stack in stacks or list_stacks(program_dir):
        path = snapshot_path(out_dir, stack)
        path.write_text("\n".join(snapshot_lines(run_program(program_dir, stack))) + "\n")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Regenerate URN snapshots of the platform stacks.")
    parser.add_argument("stacks", nargs="*")
    parser.add_argument("--program", type=Path, default=Path("."))
    parser.add_argument("--out", type=Path, default=Path("tests/components/snapshots"))
    args = parser.parse_args(argv)
    import os

    os.environ["KUBECONFIG"] = str(args.program.resolve() / "does-not-exist" / "kubeconfig")
    for path in write_snapshots(args.program, args.out, args.stacks or None):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
