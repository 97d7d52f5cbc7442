"""Training pipeline, modelled on the KFP v2 tutorial pipelines.

ingest a scikit-learn bundled dataset → validate → preprocess to Parquet →
HPO ParallelFor (parallelism 2) → pick the best with Collected → evaluate →
quality gate If(accuracy > threshold) → register into a local model registry,
all inside an ExitHandler whose exit task reports the final status.

Component bodies import what they need inside the function (as kfp requires),
so each can run in its own process or pod from its source alone.
Run it: `conveyor run pipelines/examples/training.py`.
"""

from typing import NamedTuple

from conveyor import dsl
from conveyor.dsl import (
    ClassificationMetrics,
    Dataset,
    Input,
    Metrics,
    Model,
    Output,
)
from conveyor.prebuilt import notify

EXAMPLE_PACKAGES = ["scikit-learn>=1.4", "pandas>=2.1", "pyarrow>=15"]

# The HPO grid: a literal list of dicts, one ParallelFor iteration each.
HYPERPARAMETERS = [
    {"C": 0.05, "class_weight": None},
    {"C": 0.5, "class_weight": None},
    {"C": 5.0, "class_weight": "balanced"},
    {"C": 50.0, "class_weight": "balanced"},
]


@dsl.component(packages_to_install=EXAMPLE_PACKAGES)
def ingest(dataset_name: str, raw: Output[Dataset]) -> int:
    """Load a dataset bundled with scikit-learn (no download) and write it as CSV."""
    from sklearn import datasets

    from conveyor.dsl import PermanentError

    loaders = {
        "breast_cancer": datasets.load_breast_cancer,
        "wine": datasets.load_wine,
        "iris": datasets.load_iris,
    }
    if dataset_name not in loaders:
        raise PermanentError(f"dataset_name {dataset_name!r} is not bundled; allowed: {sorted(loaders)}")
    frame = loaders[dataset_name](as_frame=True).frame
    frame.to_csv(raw.path, index=False)
    raw.metadata.update({"dataset": dataset_name, "rows": len(frame), "columns": list(frame.columns)})
    return len(frame)


@dsl.component(packages_to_install=EXAMPLE_PACKAGES)
def validate(raw: Input[Dataset], min_rows: int = 100) -> int:
    """Schema and sanity checks; bad data is a permanent failure, never retried. Returns the class count."""
    import pandas as pd

    from conveyor.dsl import PermanentError

    frame = pd.read_csv(raw.path)
    problems = []
    if "target" not in frame.columns:
        problems.append("no 'target' column")
    if len(frame) < min_rows:
        problems.append(f"{len(frame)} rows < min_rows={min_rows}")
    if frame.isna().any().any():
        problems.append(f"missing values in {list(frame.columns[frame.isna().any()])}")
    if problems:
        raise PermanentError("dataset failed validation: " + "; ".join(problems))
    return int(frame["target"].nunique())


@dsl.component(packages_to_install=EXAMPLE_PACKAGES)
def preprocess(
    raw: Input[Dataset], test_size: float, seed: int, train_data: Output[Dataset], test_data: Output[Dataset]
) -> None:
    """Standardise features and split into train/test Parquet files."""
    import pandas as pd
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    frame = pd.read_csv(raw.path)
    features = frame.drop(columns=["target"])
    train, test = train_test_split(frame, test_size=test_size, random_state=seed, stratify=frame["target"])
    scaler = StandardScaler().fit(train[features.columns])
    for part, artifact in ((train, train_data), (test, test_data)):
        scaled = pd.DataFrame(scaler.transform(part[features.columns]), columns=features.columns)
        scaled["target"] = part["target"].to_numpy()
        scaled.to_parquet(artifact.path, index=False)
        artifact.metadata["rows"] = len(scaled)


@dsl.component(packages_to_install=EXAMPLE_PACKAGES)
def train(train_data: Input[Dataset], params: dict, seed: int, model: Output[Model]) -> float:
    """Fit one candidate; returns its mean cross-validated accuracy on the training split."""
    import pickle

    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    frame = pd.read_parquet(train_data.path)
    x, y = frame.drop(columns=["target"]), frame["target"]
    estimator = LogisticRegression(
        C=float(params["C"]), class_weight=params.get("class_weight"), max_iter=2000, random_state=seed
    )
    score = float(cross_val_score(estimator, x, y, cv=3).mean())
    estimator.fit(x, y)
    with open(model.path, "wb") as f:
        pickle.dump(estimator, f)
    model.framework = "scikit-learn"
    model.metadata.update({"params": params, "cv_accuracy": score})
    return score


@dsl.component
def pick_best(scores: list, candidates: Input[list[Model]], best: Output[Model]) -> float:
    """Fan-in over the HPO loop: copy the highest-scoring candidate to `best`."""
    import shutil

    index = max(range(len(scores)), key=lambda i: scores[i])
    shutil.copyfile(candidates[index].path, best.path)
    best.metadata.update(candidates[index].metadata)
    best.metadata["selected_from"] = len(scores)
    return float(scores[index])


class EvalOutputs(NamedTuple):
    accuracy: float
    f1: float


@dsl.component(packages_to_install=EXAMPLE_PACKAGES)
def evaluate(
    model: Input[Model],
    test_data: Input[Dataset],
    metrics: Output[Metrics],
    confusion: Output[ClassificationMetrics],
) -> EvalOutputs:
    """Score the selected model on the held-out split; metrics land in Metrics/ClassificationMetrics."""
    import pickle
    from typing import NamedTuple

    import pandas as pd
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

    with open(model.path, "rb") as f:
        estimator = pickle.load(f)
    frame = pd.read_parquet(test_data.path)
    x, y = frame.drop(columns=["target"]), frame["target"]
    predicted = estimator.predict(x)
    accuracy = float(accuracy_score(y, predicted))
    f1 = float(f1_score(y, predicted, average="macro"))
    metrics.log_metric("accuracy", accuracy)
    metrics.log_metric("f1_macro", f1)
    labels = sorted(int(v) for v in y.unique())
    confusion.log_confusion_matrix(
        [str(v) for v in labels], confusion_matrix(y, predicted, labels=labels).tolist()
    )

    class EvalOutputs(NamedTuple):  # redefined here so the body runs from its source alone
        accuracy: float
        f1: float

    return EvalOutputs(accuracy, f1)


@dsl.component
def register(model: Input[Model], accuracy: float, registry_root: str, model_name: str) -> str:
    """Copy the model into `registry_root/model_name/v<N>/` with a JSON card; returns that folder."""
    import json
    import pathlib
    import shutil

    root = pathlib.Path(registry_root) / model_name
    root.mkdir(parents=True, exist_ok=True)
    versions = [int(p.name[1:]) for p in root.glob("v*") if p.name[1:].isdigit()]
    target = root / f"v{max(versions, default=0) + 1}"
    target.mkdir()
    shutil.copyfile(model.path, target / "model.pkl")
    card = {
        "name": model_name,
        "version": target.name,
        "accuracy": accuracy,
        "source_uri": model.uri,
        "metadata": model.metadata,
    }
    (target / "card.json").write_text(json.dumps(card, indent=2, sort_keys=True, default=str))
    return str(target)


@dsl.pipeline(name="training", description="sklearn HPO with a quality gate and a local model registry")
def training_pipeline(
    dataset_name: str = "breast_cancer",
    min_rows: int = 100,
    test_size: float = 0.25,
    seed: int = 7,
    accuracy_threshold: float = 0.9,
    registry_root: str = ".conveyor/registry",
    model_name: str = "breast-cancer-logreg",
) -> None:
    # Posts the outcome to the webhook named by $CONVEYOR_NOTIFY_WEBHOOK when it is set; without it
    # the task logs that nothing was sent. It is cached like any task: an unchanged, fully cached
    # run reports nothing new, a failure always does (the final status is part of its key).
    exit_task = notify(pipeline="training", message="sklearn HPO training")
    with dsl.ExitHandler(exit_task):
        raw = ingest(dataset_name=dataset_name).set_retry(2, backoff_duration="1s")
        checked = validate(raw=raw.outputs["raw"], min_rows=min_rows)
        split = preprocess(raw=raw.outputs["raw"], test_size=test_size, seed=seed).after(checked)
        with dsl.ParallelFor(HYPERPARAMETERS, parallelism=2) as params:
            candidate = train(train_data=split.outputs["train_data"], params=params, seed=seed)
            candidate.set_cpu_request("1").set_memory_limit("1Gi")
        best = pick_best(
            scores=dsl.Collected(candidate.outputs["Output"]),
            candidates=dsl.Collected(candidate.outputs["model"]),
        )
        scored = evaluate(model=best.outputs["best"], test_data=split.outputs["test_data"])
        with dsl.If(scored.outputs["accuracy"] > accuracy_threshold, name="quality-gate"):
            register(
                model=best.outputs["best"],
                accuracy=scored.outputs["accuracy"],
                registry_root=registry_root,
                model_name=model_name,
            )
