"""Offline platform tools: run a Pulumi program under recording mocks (`mocks`), summarise it (`plan`).

This is the only package under `pipelines/` that imports pulumi. The CLI imports it lazily so a
laptop install without the `infra` extra never pays for it.
"""
