import importlib.util
import json
import sys
import textwrap

from dsl_components import add, echo

from conveyor.dsl.source import deps_digest, function_source, project_dependencies


def load(tmp_path, name, code):
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(code))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_helper_change_changes_deps_digest(tmp_path):
    code = """
        import json

        def helper(x):
            return x + {n}

        class Scaler:
            def scale(self, x):
                return inner(x)

        def inner(x):
            return x * {m}

        def task(x):
            return helper(x) + Scaler().scale(x) + len(json.dumps(x))
    """
    first = load(tmp_path, "mod_a", code.format(n=1, m=2))
    deps = project_dependencies(first.task, root=tmp_path)
    assert set(deps) == {"mod_a:helper", "mod_a:Scaler", "mod_a:inner"}  # json is stdlib: not included
    base = deps_digest(first.task, root=tmp_path)
    changed_helper = load(tmp_path, "mod_a", code.format(n=5, m=2))
    assert deps_digest(changed_helper.task, root=tmp_path) != base
    changed_method_dep = load(tmp_path, "mod_a", code.format(n=1, m=3))
    assert deps_digest(changed_method_dep.task, root=tmp_path) != base
    same = load(tmp_path, "mod_a", code.format(n=1, m=2))
    assert deps_digest(same.task, root=tmp_path) == base


def test_code_outside_project_root_is_ignored(tmp_path):
    module = load(tmp_path, "mod_c", "def helper():\n    return 1\n\ndef task():\n    return helper()\n")
    assert project_dependencies(module.task, root=tmp_path / "elsewhere") == {}


def test_site_packages_are_never_dependencies():
    import pydantic

    def uses_library():
        return pydantic.BaseModel, json.dumps

    assert project_dependencies(uses_library) == {}


def test_component_spec_carries_the_digests():
    impl = add.component_spec.implementation
    # add() calls the project-local helper double(); echo() calls nothing.
    assert impl.deps_digest != echo.component_spec.implementation.deps_digest
    assert "dsl_components:double" in project_dependencies(add.python_func)


def test_function_source_drops_decorators_and_dedents():
    def outer():
        @staticmethod
        def inner(x: int) -> int:
            return x

        return inner

    src = function_source(outer().__func__)
    assert src.startswith("def inner(x: int) -> int:")


def test_conveyor_itself_is_not_a_dependency():
    from conveyor.ir import Metrics

    def uses_framework():
        return Metrics(name="m")

    assert project_dependencies(uses_framework) == {}
