"""Upgrade safety: no committed URN disappears and no replacement-forcing identity input changes.

Regenerate after an intended change (add `aliases` for renames!):
    CONVEYOR_UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/components -k snapshot
or  .venv/bin/python -m conveyor.platform.snapshots
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from conveyor.platform.snapshots import diff_snapshot, snapshot_lines, snapshot_path

SNAPSHOTS = Path(__file__).parent / "snapshots"


def test_urns_match_committed_snapshot(stack, recorded):
    path = snapshot_path(SNAPSHOTS, stack)
    if os.environ.get("CONVEYOR_UPDATE_SNAPSHOTS") == "1":
        path.write_text("\n".join(snapshot_lines(recorded)) + "\n")
    assert path.exists(), f"no snapshot for {stack}; run CONVEYOR_UPDATE_SNAPSHOTS=1 pytest tests/components"
    problems = diff_snapshot(path.read_text().splitlines(), recorded)
    assert not problems, (
        f"stack {stack} differs from {path.name}; if intended, regenerate the snapshot in the same commit "
        "(and add `aliases` to renamed resources):\n  " + "\n  ".join(problems)
    )


def test_rename_without_alias_is_reported(record_stack):
    recorded = record_stack("dev-aws")
    old = snapshot_lines(recorded)
    bucket = next(r for r in recorded.resources if r.type == "aws:s3/bucket:Bucket")
    renamed = replace(bucket, urn=bucket.urn.replace("::store-artifacts", "::store-artifacts2"))
    mutated = replace(recorded, resources=[renamed if r is bucket else r for r in recorded.resources])
    problems = diff_snapshot(old, mutated)
    assert any(p.startswith("REMOVED or RENAMED without alias") and bucket.urn in p for p in problems)

    with_alias = replace(
        renamed, options={**renamed.options, "aliases": [{"spec": {"name": "store-artifacts"}}]}
    )
    aliased = replace(recorded, resources=[with_alias if r is bucket else r for r in recorded.resources])
    assert any(p.startswith("renamed (alias present") for p in diff_snapshot(old, aliased))


def test_added_resource_is_not_a_problem_unless_asked(record_stack):
    recorded = record_stack("dev-aws")
    old = snapshot_lines(recorded)[1:]
    assert diff_snapshot(old, recorded) == []
    assert len(diff_snapshot(old, recorded, include_added=True)) == 1


def test_identity_change_is_reported_as_replace(record_stack):
    recorded = record_stack("dev-aws")
    old = snapshot_lines(recorded)
    db = next(r for r in recorded.resources if r.type == "aws:rds/instance:Instance")
    changed = replace(db, inputs={**db.inputs, "identifierPrefix": "other-"})
    mutated = replace(recorded, resources=[changed if r is db else r for r in recorded.resources])
    assert any("likely REPLACE" in p for p in diff_snapshot(old, mutated))
