"""The kfp_compat files are plain kfp v2 pipelines with conveyor imports.

conveyor must build their IR; and with the imports swapped back to kfp, kfp's
own compiler must accept them, so they are not secretly conveyor-only.
"""

import re
import warnings

import pytest
from example_loader import EXAMPLES, load_example, load_file

from conveyor.dsl import Pipeline

FILES = {
    "kfp_compat/hello_world.py": "hello_pipeline",
    "kfp_compat/coin_flip.py": "coin_flip_pipeline",
    "kfp_compat/artifacts_exit_handler.py": "artifacts_pipeline",
}


@pytest.mark.parametrize(("relative", "attr"), FILES.items())
def test_conveyor_builds_ir(relative, attr):
    pipeline = getattr(load_example(relative), attr)
    assert isinstance(pipeline, Pipeline)
    spec = pipeline.pipeline_spec
    assert spec.tasks and spec.digest()


def test_compat_features_survive_in_ir():
    coin = load_example("kfp_compat/coin_flip.py").coin_flip_pipeline.pipeline_spec
    kinds = sorted(g.kind for g in coin.groups.values())
    assert kinds == ["condition", "condition", "condition", "condition", "parallel_for"]
    assert coin.groups["for-loop-1"].parallelism == 2
    assert not coin.tasks["add-all"].caching
    art = load_example("kfp_compat/artifacts_exit_handler.py").artifacts_pipeline.pipeline_spec
    fit = art.tasks["fit"]
    assert fit.after == ("count-rows",) and fit.retry.num_retries == 2 and fit.resources.cpu_limit == 2
    assert fit.env == {"MODE": "fast"} and fit.display_name == "Fit the model"
    assert {o.name for o in art.component_of("fit").outputs} == {"model", "metrics", "loss", "epochs"}
    assert art.component_of("count-rows").output("count_path").style == "path"


def _as_kfp(source: str) -> str:
    swapped = re.sub(r"^from conveyor import dsl$", "from kfp import dsl", source, flags=re.M)
    return re.sub(r"^from conveyor\.dsl import", "from kfp.dsl import", swapped, flags=re.M)


@pytest.mark.parametrize("relative", FILES)
def test_only_import_lines_mention_conveyor(relative):
    lines = [line for line in (EXAMPLES / relative).read_text().splitlines() if "conveyor" in line]
    assert lines and all(
        line.startswith(("from conveyor import dsl", "from conveyor.dsl import")) for line in lines
    )


@pytest.mark.parametrize(
    ("relative", "attr"),
    [*FILES.items(), ("segments.py", "segments_pipeline")],
)
def test_kfp_compiles_the_same_file(relative, attr, tmp_path):
    pytest.importorskip("kfp")
    from kfp import compiler

    copy = tmp_path / relative.replace("/", "_")
    copy.write_text(_as_kfp((EXAMPLES / relative).read_text()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # kfp's FutureWarning about its default base image
        module = load_file(copy, f"kfp_{copy.stem}")
        compiler.Compiler().compile(getattr(module, attr), str(tmp_path / "out.yaml"))
    assert "pipelineInfo" in (tmp_path / "out.yaml").read_text()
