"""Per-segment training: a dynamic fan-out whose width is known only at run time.

A task generates sales data, another reads the segment list *from that data*,
then ParallelFor over that task's output trains one model per segment, and a
Collected fan-in summarises them into a Markdown report.
Run it: `conveyor run pipelines/examples/segments.py`.
"""

from conveyor import dsl
from conveyor.dsl import Dataset, Input, Markdown, Model, Output

EXAMPLE_PACKAGES = ["scikit-learn>=1.4", "pandas>=2.1", "pyarrow>=15"]


@dsl.component(packages_to_install=EXAMPLE_PACKAGES)
def make_sales(rows: int, seed: int, regions: str, sales: Output[Dataset]) -> None:
    """Synthetic sales with a per-region price sensitivity (no download), written as Parquet."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    names = [r.strip() for r in regions.split(",") if r.strip()]
    region = rng.choice(names, size=rows)
    price = rng.uniform(5, 50, size=rows)
    promo = rng.integers(0, 2, size=rows)
    slope = {name: -0.5 - i for i, name in enumerate(names)}
    units = 100 + np.array([slope[r] for r in region]) * price + 15 * promo + rng.normal(0, 3, size=rows)
    pd.DataFrame({"region": region, "price": price, "promo": promo, "units": units}).to_parquet(
        sales.path, index=False
    )
    sales.metadata["rows"] = rows


@dsl.component(packages_to_install=EXAMPLE_PACKAGES)
def list_segments(sales: Input[Dataset], min_rows: int) -> list:
    """The segments present in the data with enough rows to train on, decided at run time."""
    import pandas as pd

    counts = pd.read_parquet(sales.path, columns=["region"])["region"].value_counts()
    return sorted(str(name) for name, count in counts.items() if count >= min_rows)


@dsl.component(packages_to_install=EXAMPLE_PACKAGES)
def train_segment(sales: Input[Dataset], segment: str, model: Output[Model]) -> dict:
    """Fit a linear demand model on one segment; returns its fit statistics."""
    import pickle

    import pandas as pd
    from sklearn.linear_model import LinearRegression
    from sklearn.model_selection import cross_val_score

    frame = pd.read_parquet(sales.path)
    frame = frame[frame["region"] == segment]
    x, y = frame[["price", "promo"]], frame["units"]
    estimator = LinearRegression()
    r2 = float(cross_val_score(estimator, x, y, cv=3, scoring="r2").mean())
    estimator.fit(x, y)
    with open(model.path, "wb") as f:
        pickle.dump(estimator, f)
    model.metadata.update({"segment": segment, "r2": r2, "rows": len(frame)})
    return {"segment": segment, "r2": r2, "rows": int(len(frame)), "price_slope": float(estimator.coef_[0])}


@dsl.component
def summarize(results: list, models: Input[list[Model]], report: Output[Markdown]) -> dict:
    """Fan-in: one table row per segment, and the worst segment by R²."""
    ordered = sorted(results, key=lambda r: r["segment"])
    lines = ["| segment | rows | R² | price slope |", "|---|---|---|---|"]
    lines += [f"| {r['segment']} | {r['rows']} | {r['r2']:.3f} | {r['price_slope']:.2f} |" for r in ordered]
    with open(report.path, "w") as f:
        f.write("\n".join(lines) + "\n")
    worst = min(ordered, key=lambda r: r["r2"])
    return {
        "segments": len(ordered),
        "models": len(models),
        "worst_segment": worst["segment"],
        "worst_r2": worst["r2"],
    }


@dsl.pipeline(name="segments", description="one model per segment found in the data at run time")
def segments_pipeline(
    rows: int = 2000, seed: int = 11, regions: str = "north,south,east,west", min_rows: int = 50
) -> dict:
    sales = make_sales(rows=rows, seed=seed, regions=regions)
    found = list_segments(sales=sales.outputs["sales"], min_rows=min_rows)
    with dsl.ParallelFor(found.output, parallelism=2) as segment:
        trained = train_segment(sales=sales.outputs["sales"], segment=segment)
    summary = summarize(
        results=dsl.Collected(trained.outputs["Output"]), models=dsl.Collected(trained.outputs["model"])
    )
    return summary.outputs["Output"]
