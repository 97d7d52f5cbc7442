"""How a ParallelFor fans out on Argo: ``withItems``, ``withSequence`` or ``withParam`` (see :func:`loop_items_mode`)."""

from __future__ import annotations

import json
from typing import Any

from conveyor.compiler.argo.options import CompileError
from conveyor.ir import ConditionGroup, Constant, LoopItem, ParallelForGroup, PipelineSpec


def loop_items_mode(spec: PipelineSpec, group: ParallelForGroup, max_inline: int) -> str:
    """``inline`` | ``sequence`` | ``index`` | ``param`` for a loop's fan-out.

    Literal lists: a contiguous integer range iterates ``withSequence``; a small
    list goes inline; a big one iterates indices (``index``) unless a condition
    needs the item value itself (Argo must see it to evaluate ``when``). A list
    holding a float also iterates indices: Argo re-serialises ``withItems`` through
    Go's JSON, where ``5.0`` comes back as ``5``; the pod would get an int and compute
    another cache key than a laptop run (on the real v4.0.5 controller, the training
    example's HPO loop missed the laptop run's cache entries this way).
    """
    if not isinstance(group.items, Constant):
        return "param"
    items = group.items.value
    if not isinstance(items, list):
        raise CompileError(
            f"pipeline {spec.name!r}: ParallelFor {group.id!r} items must be a list, got {items!r}"
        )
    if items and all(type(v) is int for v in items) and items == list(range(items[0], items[0] + len(items))):
        return "sequence"
    if _condition_reads_loop(spec, group.id):
        return "inline"
    if len(json.dumps(items)) <= max_inline and not _has_float(items):
        return "inline"
    return "index"


def _has_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(_has_float(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_float(v) for v in value)
    return False


def _condition_reads_loop(spec: PipelineSpec, loop_id: str) -> bool:
    from conveyor.ir.values import condition_args

    for group in spec.groups.values():
        if isinstance(group, ConditionGroup):
            for arg in condition_args(group.condition):
                if isinstance(arg, LoopItem) and arg.loop_id == loop_id:
                    return True
    return False
