"""Runs ONE task: resolve inputs, call the function, store outputs with digests.

The same code serves a forked local worker and a pod (`python -m conveyor.runtime.pod`);
local and cluster modes differ only in who schedules and where the bytes live.
"""
