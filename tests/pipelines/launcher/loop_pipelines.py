"""A literal ParallelFor of float-holding dicts with a fan-in: resolved per item at submit time."""

from conveyor import dsl

GRID = [{"C": 5.0, "w": None}, {"C": 0.5, "w": "balanced"}, {"C": 50.0, "w": None}]


@dsl.component
def fit(params: dict, seed: int) -> float:
    return float(params["C"]) + seed


@dsl.component
def best(scores: list) -> float:
    return max(scores)


@dsl.pipeline(name="loop-grid")
def loop_grid(seed: int = 1) -> float:
    with dsl.ParallelFor(GRID, parallelism=2) as p:
        scored = fit(params=p, seed=seed)
    return best(scores=dsl.Collected(scored.output)).output


@dsl.component
def announce(status: dsl.PipelineTaskFinalStatus) -> str:
    return status.state


@dsl.component
def double(x: float) -> float:
    return 2 * x


@dsl.pipeline(name="loop-grid-exit")
def loop_grid_exit(seed: int = 1) -> float:
    done = announce()
    with dsl.ExitHandler(done):
        with dsl.ParallelFor(GRID, parallelism=2) as p:
            scored = fit(params=p, seed=seed)
        top = best(scores=dsl.Collected(scored.output))
        final = double(x=top.output)
    return final.output
