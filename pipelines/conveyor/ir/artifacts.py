"""Runtime artifact classes, the objects a component function receives.

They live in the IR, not the DSL, because the one-task runtime must build them
inside a pod without importing the authoring layer; `conveyor.dsl` re-exports
them. Their public surface follows kfp v2 (`name`, `uri`, `path`, `metadata`,
`Metrics.log_metric`, `ClassificationMetrics.log_roc_curve`, ...), so
component bodies written for kfp keep working.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar


class Artifact:
    """A file or directory produced or consumed by a task, plus JSON metadata."""

    schema_title: ClassVar[str] = "system.Artifact"

    def __init__(
        self,
        name: str | None = None,
        uri: str | None = None,
        metadata: dict[str, Any] | None = None,
        path: str | None = None,
    ) -> None:
        self.name = name or ""
        self.uri = uri or ""
        self.metadata: dict[str, Any] = dict(metadata or {})
        self._path = path

    @property
    def path(self) -> str:
        """Local filesystem path; the runtime sets it, else it comes from a local `uri`."""
        if self._path:
            return self._path
        if self.uri.startswith("file://"):
            return self.uri[len("file://") :]
        if "://" not in self.uri:
            return self.uri
        raise ValueError(
            f"artifact {self.name!r} has remote uri {self.uri!r} and no local path; "
            "the runtime sets .path before calling the component"
        )

    @path.setter
    def path(self, value: str) -> None:
        self._path = value

    @property
    def type_name(self) -> str:
        return type(self).__name__

    def to_dict(self) -> dict[str, Any]:
        """JSON form used by the runtime to hand artifacts between processes."""
        return {
            "type": self.type_name,
            "name": self.name,
            "uri": self.uri,
            "path": self._path,
            "metadata": self.metadata,
        }

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Artifact:
        cls = artifact_class(data.get("type", "Artifact"))
        return cls(
            name=data.get("name"), uri=data.get("source_uri") or data.get("uri"), metadata=data.get("metadata"),
            path=data.get("path"),
        )  # an imported artifact keeps the URI it was imported from (kfp's dsl.importer); its bytes are stored

    def __repr__(self) -> str:
        return f"{self.type_name}(name={self.name!r}, uri={self.uri!r}, metadata={self.metadata!r})"


class Dataset(Artifact):
    """A dataset (a file or a directory of files)."""

    schema_title = "system.Dataset"


class Model(Artifact):
    """A trained model; `framework` is kept in metadata like kfp."""

    schema_title = "system.Model"

    @property
    def framework(self) -> str:
        return str(self.metadata.get("framework", ""))

    @framework.setter
    def framework(self, value: str) -> None:
        self.metadata["framework"] = value


class Metrics(Artifact):
    """Scalar metrics; each `log_metric` call lands in `metadata`."""

    schema_title = "system.Metrics"

    def log_metric(self, metric: str, value: float) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(
                f"Metrics.log_metric({metric!r}, ...): value must be an int or float, got {value!r}"
            )
        self.metadata[metric] = value


class ClassificationMetrics(Artifact):
    """ROC curve and confusion matrix, stored in `metadata` in kfp's layout."""

    schema_title = "system.ClassificationMetrics"

    def log_roc_data_point(self, fpr: float, tpr: float, threshold: float) -> None:
        point = {"confidenceThreshold": threshold, "recall": tpr, "falsePositiveRate": fpr}
        self.metadata.setdefault("confidenceMetrics", []).append(point)

    def log_roc_curve(self, fpr: list[float], tpr: list[float], threshold: list[float]) -> None:
        if not len(fpr) == len(tpr) == len(threshold):
            raise ValueError(
                "log_roc_curve: fpr, tpr and threshold must have the same length, got "
                f"{len(fpr)}, {len(tpr)} and {len(threshold)}"
            )
        for f, t, th in zip(fpr, tpr, threshold):
            self.log_roc_data_point(fpr=f, tpr=t, threshold=th)

    def set_confusion_matrix_categories(self, categories: list[str]) -> None:
        self.metadata["confusionMatrix"] = {
            "annotationSpecs": [{"displayName": c} for c in categories],
            "rows": [{"row": [0] * len(categories)} for _ in categories],
        }

    def _categories(self) -> list[str]:
        matrix = self.metadata.get("confusionMatrix")
        if matrix is None:
            raise ValueError("call set_confusion_matrix_categories (or log_confusion_matrix) first")
        return [spec["displayName"] for spec in matrix["annotationSpecs"]]

    def _index(self, category: str) -> int:
        categories = self._categories()
        if category not in categories:
            raise ValueError(f"unknown category {category!r}; allowed: {categories}")
        return categories.index(category)

    def log_confusion_matrix_row(self, row_category: str, row: list[float]) -> None:
        index = self._index(row_category)
        size = len(self._categories())
        if len(row) != size:
            raise ValueError(f"confusion matrix row {row_category!r} must have {size} values, got {len(row)}")
        self.metadata["confusionMatrix"]["rows"][index] = {"row": list(row)}

    def log_confusion_matrix_cell(self, row_category: str, col_category: str, value: int) -> None:
        row, col = self._index(row_category), self._index(col_category)
        self.metadata["confusionMatrix"]["rows"][row]["row"][col] = value

    def log_confusion_matrix(self, categories: list[str], matrix: list[list[int]]) -> None:
        if len(matrix) != len(categories) or any(len(r) != len(categories) for r in matrix):
            raise ValueError(f"confusion matrix must be {len(categories)}x{len(categories)}, got {matrix!r}")
        self.set_confusion_matrix_categories(categories)
        for category, row in zip(categories, matrix):
            self.log_confusion_matrix_row(category, row)


class HTML(Artifact):
    """An HTML page for visualisation."""

    schema_title = "system.HTML"


class Markdown(Artifact):
    """A Markdown document for visualisation."""

    schema_title = "system.Markdown"


_TASK_ROOT: list[str] = []  # set by the one-task runtime around the user's function


def set_task_root(path: str | None) -> None:
    """The runtime's hook for `get_uri`: the folder this attempt's outputs are written under."""
    _TASK_ROOT[:] = [path] if path else []


def get_uri(suffix: str = "Output") -> str:
    """kfp's `dsl.get_uri()`: a location unique to this task for an artifact it returns
    (`return Dataset(uri=dsl.get_uri())`). Only available while a task runs."""
    if not _TASK_ROOT:
        raise RuntimeError("dsl.get_uri() can only be called while a task runs, inside a component")
    return os.path.join(_TASK_ROOT[0], suffix)


ARTIFACT_CLASSES: dict[str, type[Artifact]] = {
    cls.__name__: cls for cls in (Artifact, Dataset, Model, Metrics, ClassificationMetrics, HTML, Markdown)
}


def artifact_class(type_name: str) -> type[Artifact]:
    """Map an IR artifact type name back to its runtime class."""
    try:
        return ARTIFACT_CLASSES[type_name]
    except KeyError:
        raise ValueError(
            f"unknown artifact type {type_name!r}; allowed: {sorted(ARTIFACT_CLASSES)}"
        ) from None
