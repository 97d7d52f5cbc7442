"""The example components' Python bodies, called directly (no executor), on real data.

This checks the example logic itself in a second or two; running the whole
pipeline through the executor is tested where the executor lives.
"""

import json

import pytest
from example_loader import load_example

from conveyor.dsl import PermanentError
from conveyor.ir import ClassificationMetrics, Dataset, Markdown, Metrics, Model

pytest.importorskip("sklearn")
pytest.importorskip("pyarrow")


def artifact(cls, tmp_path, name):
    return cls(name=name, uri=str(tmp_path / name))


def test_training_components_end_to_end(tmp_path):
    m = load_example("training.py")
    raw = artifact(Dataset, tmp_path, "raw.csv")
    assert m.ingest.python_func("breast_cancer", raw) == 569
    assert m.validate.python_func(raw, min_rows=100) == 2
    train_data, test_data = artifact(Dataset, tmp_path, "train.pq"), artifact(Dataset, tmp_path, "test.pq")
    m.preprocess.python_func(raw, 0.25, 7, train_data, test_data)
    models, scores = [], []
    for i, params in enumerate(m.HYPERPARAMETERS[:2]):
        model = artifact(Model, tmp_path, f"model-{i}")
        scores.append(m.train.python_func(train_data, params, 7, model))
        models.append(model)
    best = artifact(Model, tmp_path, "best")
    assert m.pick_best.python_func(scores, models, best) == max(scores)
    metrics, confusion = (
        artifact(Metrics, tmp_path, "metrics"),
        artifact(ClassificationMetrics, tmp_path, "cm"),
    )
    result = m.evaluate.python_func(best, test_data, metrics, confusion)
    assert result.accuracy == metrics.metadata["accuracy"] > 0.9
    assert len(confusion.metadata["confusionMatrix"]["rows"]) == 2
    registry = tmp_path / "registry"
    first = m.register.python_func(best, result.accuracy, str(registry), "bc")
    second = m.register.python_func(best, result.accuracy, str(registry), "bc")
    assert first.endswith("v1") and second.endswith("v2")
    assert json.loads((registry / "bc" / "v1" / "card.json").read_text())["accuracy"] == result.accuracy


def test_training_rejects_bad_data_permanently(tmp_path):
    m = load_example("training.py")
    with pytest.raises(PermanentError, match="allowed"):
        m.ingest.python_func("mnist", artifact(Dataset, tmp_path, "raw"))
    raw = artifact(Dataset, tmp_path, "raw.csv")
    m.ingest.python_func("iris", raw)
    with pytest.raises(PermanentError, match="min_rows=1000"):
        m.validate.python_func(raw, min_rows=1000)


def test_segments_components_end_to_end(tmp_path):
    m = load_example("segments.py")
    sales = artifact(Dataset, tmp_path, "sales.pq")
    m.make_sales.python_func(600, 3, "north,south,east", sales)
    segments = m.list_segments.python_func(sales, 50)
    assert segments == ["east", "north", "south"]
    assert m.list_segments.python_func(sales, 10_000) == []
    results, models = [], []
    for seg in segments:
        model = artifact(Model, tmp_path, f"m-{seg}")
        results.append(m.train_segment.python_func(sales, seg, model))
        models.append(model)
    assert all(r["r2"] > 0.5 for r in results)
    report = artifact(Markdown, tmp_path, "report.md")
    summary = m.summarize.python_func(results, models, report)
    assert summary["segments"] == 3 and summary["models"] == 3
    with open(report.path) as f:
        assert "| east |" in f.read()
