"""Executor-test helpers; the fixtures (home, write_pipeline, runner, run_file) live in tests/pipelines/conftest.py."""


def by_name(result) -> dict:
    return {t.name: t for t in result.tasks}
