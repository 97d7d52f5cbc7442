"""Which ready tasks may start now: global parallelism, per-loop parallelism, resource packing."""

from __future__ import annotations

from collections.abc import Iterable

from conveyor.executor.graph import Ctx, Instance
from conveyor.ir.spec import PipelineSpec


def loop_allows(spec: PipelineSpec, inst: Instance, running: Iterable[Ctx], memo: dict | None = None) -> bool:
    """False when starting `inst` would open one iteration too many of a loop with `parallelism`.

    `memo` caches each loop's busy iterations for one pass over the ready queue (cleared on a
    start), so a long queue behind a full loop costs a lookup per instance, not a scan of `running`.
    """
    running = list(running) if memo is None else running
    for depth in range(len(inst.ctx)):
        group = spec.groups[inst.ctx[depth][0]]
        if not group.parallelism:
            continue
        prefix = inst.ctx[:depth]
        key = (depth, group.id, prefix)
        busy = memo.get(key) if memo is not None else None
        if busy is None:
            busy = {ctx[depth][1] for ctx in running
                    if len(ctx) > depth and ctx[:depth] == prefix and ctx[depth][0] == group.id}
            if memo is not None:
                memo[key] = busy
        if inst.ctx[depth][1] not in busy and len(busy) >= group.parallelism:
            return False
    return True
