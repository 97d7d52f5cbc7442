import typing

import pytest

from conveyor.ir import (
    Artifact,
    ClassificationMetrics,
    Dataset,
    Input,
    InputPath,
    Metrics,
    Model,
    Output,
    OutputPath,
    PipelineTaskFinalStatus,
    artifact_class,
)
from conveyor.ir.types import INPUT_MARKER, OUTPUT_MARKER, normalize_type, value_matches


def test_metrics_log_metric_and_type_check():
    m = Metrics(name="m")
    m.log_metric("accuracy", 0.93)
    assert m.metadata == {"accuracy": 0.93}
    with pytest.raises(TypeError, match="accuracy"):
        m.log_metric("accuracy", "high")


def test_classification_metrics_layout_matches_kfp():
    cm = ClassificationMetrics()
    cm.log_roc_curve([0.0, 0.5], [0.0, 0.9], [1.0, 0.5])
    assert cm.metadata["confidenceMetrics"][1] == {
        "confidenceThreshold": 0.5,
        "recall": 0.9,
        "falsePositiveRate": 0.5,
    }
    cm.log_confusion_matrix(["a", "b"], [[3, 1], [0, 4]])
    assert cm.metadata["confusionMatrix"]["rows"] == [{"row": [3, 1]}, {"row": [0, 4]}]
    cm.log_confusion_matrix_cell("a", "b", 7)
    assert cm.metadata["confusionMatrix"]["rows"][0]["row"] == [3, 7]
    with pytest.raises(ValueError, match="same length"):
        cm.log_roc_curve([0.0], [0.0, 1.0], [1.0])
    with pytest.raises(ValueError, match="unknown category"):
        cm.log_confusion_matrix_row("z", [1, 1])
    with pytest.raises(ValueError, match="2x2"):
        cm.log_confusion_matrix(["a", "b"], [[1, 2]])


def test_path_from_uri_and_explicit():
    assert Dataset(uri="/tmp/x").path == "/tmp/x"
    assert Dataset(uri="file:///tmp/y").path == "/tmp/y"
    with pytest.raises(ValueError, match="remote uri"):
        _ = Dataset(name="d", uri="s3://b/k").path
    d = Dataset(uri="s3://b/k")
    d.path = "/local"
    assert d.path == "/local"


def test_round_trip_keeps_class():
    m = Model(name="m", uri="/u", metadata={"k": 1})
    m.framework = "sklearn"
    again = Artifact.from_dict(m.to_dict())
    assert type(again) is Model and again.framework == "sklearn" and again.uri == "/u"
    with pytest.raises(ValueError, match="allowed"):
        artifact_class("Tensor")


def test_markers_are_annotated():
    hint = Input[Dataset]
    assert typing.get_origin(hint) is typing.Annotated
    assert typing.get_args(hint) == (Dataset, INPUT_MARKER)
    assert typing.get_args(Output[Model])[1] is OUTPUT_MARKER
    assert InputPath("Dataset").type == "Dataset" and OutputPath(int).type is int


@pytest.mark.parametrize(
    ("tp", "expected"),
    [
        (int, ("parameter", "int")),
        (bool, ("parameter", "bool")),
        (list[int], ("parameter", "list")),
        (typing.Dict[str, int], ("parameter", "dict")),  # noqa: UP006
        ("String", ("parameter", "str")),
        (Dataset, ("artifact", "Dataset")),
        ("system.Model", ("artifact", "Model")),
        (None, ("artifact", "Artifact")),
    ],
)
def test_normalize_type(tp, expected):
    assert normalize_type(tp) == expected


def test_normalize_type_rejects_unknown():
    with pytest.raises(TypeError, match="allowed"):
        normalize_type(complex)


def test_value_matches():
    assert value_matches("float", 1) and not value_matches("int", True) and not value_matches("int", 1.0)
    assert value_matches("list", [1]) and value_matches("dict", {}) and not value_matches("str", 1)


def test_final_status_round_trip():
    s = PipelineTaskFinalStatus(
        state="FAILED",
        pipeline_job_resource_name="run-1",
        pipeline_task_name="t",
        error_code=1,
        error_message="boom",
    )
    assert PipelineTaskFinalStatus.from_dict(s.to_dict()) == s
