"""`from kfp.dsl.types.artifact_types import Dataset` → `from conveyor.dsl.types.artifact_types import ...`."""

from conveyor.ir.artifacts import HTML, Artifact, ClassificationMetrics, Dataset, Markdown, Metrics, Model

__all__ = ["HTML", "Artifact", "ClassificationMetrics", "Dataset", "Markdown", "Metrics", "Model"]
