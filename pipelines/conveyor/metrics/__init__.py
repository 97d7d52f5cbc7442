"""Prometheus metrics of conveyor runs and tasks, delivered to a Pushgateway or a textfile.

Sits low in the layers (only prometheus-client, pydantic and PyYAML): the executor and the
launcher call `RunMetrics`; this package never imports them. See docs/monitoring.md.
"""

from conveyor.metrics.definitions import ConveyorMetrics, metric_names
from conveyor.metrics.run import RunMetrics, default_instance

__all__ = ["ConveyorMetrics", "RunMetrics", "default_instance", "metric_names"]
