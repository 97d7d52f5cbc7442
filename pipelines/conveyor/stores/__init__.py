"""Persistence for the runtime: the metadata store (runs, tasks, cache) and the artifact store (bytes).

Both are interfaces with several implementations chosen by URL scheme, so the local executor,
the in-pod launcher and the CLI share one code path whatever the profile says.
"""
