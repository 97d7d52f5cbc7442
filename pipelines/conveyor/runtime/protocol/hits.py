"""A cache hit, verified, and the row that marks a task as served from it.

A hit counts only if every output artifact still exists with its recorded digest: a deleted or
altered artifact is never a hit, and its entry is invalidated so nobody else trusts it either.
:func:`verified` is the only place that decides this; :func:`mark_cached` the only place that
writes a ``cached`` task row (local scheduler, pod and submit-time resolution).
"""

from __future__ import annotations

from conveyor.stores.artifacts.api import ArtifactStore
from conveyor.stores.metadata.api import CacheEntry, MetadataStore


def verified(store: MetadataStore, artifacts: ArtifactStore, key: str, entry: CacheEntry | None = None,
             max_staleness_s: float | None = None) -> CacheEntry | None:
    """The entry for ``key`` (looked up unless given) if it is fresh and its artifacts are intact; else None."""
    entry = entry or store.cache_lookup(key, max_staleness_s)
    if entry is None:
        return None
    arts = entry.outputs.get("artifacts", {})
    if not all(artifacts.verify(a["uri"], a["digest"]) for a in arts.values()):
        store.cache_invalidate(key)
        return None
    return entry


def mark_cached(store: MetadataStore, run_id: str, task_id: str, task_name: str, key: str,
                entry: CacheEntry) -> None:
    """Record ``task_id`` of ``run_id`` as served from ``entry``: its outputs, where they came from,
    the time saved; no duration and no cost of its own."""
    store.upsert_task(run_id, task_id, task_name=task_name, status="cached", cache_key=key, outputs=entry.outputs,
                      cached_from_run=entry.source_run_id, cached_from_task=entry.source_task_id,
                      saved_s=entry.duration_s, duration_s=0.0, cost_usd=0.0, error=None)
