"""`PipelineSpec.portable()`: what a cluster sees carries no machine-local paths."""

from __future__ import annotations

from conveyor.ir.spec import LOCAL_MODULE_PREFIX, ComponentSpec, PipelineSpec, PythonFunction, TaskSpec


def _spec(module: str, module_file: str | None) -> PipelineSpec:
    impl = PythonFunction(module_file=module_file, module=module, function="f", source="def f():\n    return 1\n",
                          source_digest="s", deps_digest="d")
    return PipelineSpec(name="p", components={"f": ComponentSpec(name="f", implementation=impl)},
                        tasks={"f": TaskSpec(name="f", component="f")})


def test_portable_drops_paths_and_path_derived_module_names():
    here = _spec(f"{LOCAL_MODULE_PREFIX}train_ab12", "/home/me/project/train.py").portable()
    there = _spec(f"{LOCAL_MODULE_PREFIX}train_cd34", "/tmp/clone/train.py").portable()
    impl = here.components["f"].implementation
    assert impl.module_file is None and impl.module is None and impl.source.startswith("def f")
    assert here.digest() == there.digest()


def test_portable_keeps_importable_modules():
    spec = _spec("conveyor.prebuilt.notify", "/site-packages/conveyor/prebuilt/notify.py").portable()
    assert spec.components["f"].implementation.module == "conveyor.prebuilt.notify"
    assert spec.components["f"].implementation.module_file is None
