"""Small helpers to write IR by hand in tests (no DSL involved)."""

from __future__ import annotations

from typing import Any

from conveyor.ir import ComponentSpec, InputSpec, OutputSpec, PipelineSpec, PythonFunction, TaskSpec


def fn(name: str = "f") -> PythonFunction:
    return PythonFunction(function=name, source=f"def {name}(): pass\n", source_digest="s", deps_digest="d")


def param(name: str, type_: str = "int", **kw: Any) -> InputSpec:
    return InputSpec(name=name, kind="parameter", type=type_, **kw)


def art(name: str, type_: str = "Dataset", **kw: Any) -> InputSpec:
    return InputSpec(name=name, kind="artifact", type=type_, style="artifact", **kw)


def out(name: str = "Output", type_: str = "int", kind: str = "parameter") -> OutputSpec:
    style = "return" if kind == "parameter" else "artifact"
    return OutputSpec(name=name, kind=kind, type=type_, style=style)


def comp(name: str, inputs=(), outputs=(), **kw: Any) -> ComponentSpec:
    return ComponentSpec(
        name=name, inputs=tuple(inputs), outputs=tuple(outputs), implementation=fn(name), **kw
    )


def task(name: str, component: str, **kw: Any) -> TaskSpec:
    return TaskSpec(name=name, component=component, **kw)


def pipeline(tasks=(), components=(), groups=(), inputs=(), outputs=None, name: str = "p") -> PipelineSpec:
    return PipelineSpec(
        name=name,
        inputs=tuple(inputs),
        outputs=outputs or {},
        components={c.name: c for c in components},
        tasks={t.name: t for t in tasks},
        groups={g.id: g for g in groups},
    )


# The two components most tests use: produce an int, consume an int.
PRODUCE = comp("produce", outputs=[out()])
CONSUME = comp("consume", inputs=[param("x")], outputs=[out()])
