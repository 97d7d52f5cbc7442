"""Cache keys, re-exported from `conveyor.runtime.cachekey`.

The logic moved down to the runtime so the in-pod entrypoint and the launcher (which cannot
import the executor) compute byte-for-byte the same key as the local scheduler.
"""

from __future__ import annotations

from conveyor.runtime.cachekey import KEY_VERSION, cache_key, key_parameters, task_cache_key

__all__ = ["KEY_VERSION", "cache_key", "key_parameters", "task_cache_key"]
