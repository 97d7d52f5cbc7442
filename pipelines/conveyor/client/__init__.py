"""conveyor.client: kfp's `Client` (`from conveyor.client import Client`), local or on a stack's Argo."""

from conveyor.client.client import Client
from conveyor.client.models import (
    Experiment,
    ListExperimentsResponse,
    ListRunsResponse,
    RecurringRun,
    Run,
    RunPipelineResult,
)
from conveyor.client.packages import PackageError

__all__ = ["Client", "Experiment", "ListExperimentsResponse", "ListRunsResponse", "PackageError", "RecurringRun",
           "Run", "RunPipelineResult"]
