"""Deliver a registry to a Pushgateway or a node-exporter textfile, keeping counters monotonic.

Why merging: a local `conveyor run` is a fresh process, so its counters start at 0. Pushing
`conveyor_runs_started_total 1` after every run would leave the series flat at 1 and
`increase()` — which every alert uses — would never see a run. So each delivery reads what
the destination already holds for this grouping key (the gateway group, or the existing
textfile), adds only what this process counted since its last successful delivery, and writes
the sum. Counters and histograms are merged this way; gauges are replaced. Series already at
the destination that this process did not touch (other tasks of earlier runs) are carried over.

Known limit: two processes pushing the same pipeline from the same instance at the same moment
can lose one update (read-modify-write without a lock). Prometheus treats a lost gateway (reset
to 0) as an ordinary counter reset.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import urllib.request
from collections.abc import Iterable, Mapping
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest, pushadd_to_gateway
from prometheus_client.metrics_core import Metric
from prometheus_client.utils import floatToGoString

log = logging.getLogger("conveyor.metrics")

JOB = "conveyor"
_ADDITIVE_TYPES = ("counter", "histogram")
_ADDITIVE_SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum")}
_SUFFIX_ORDER = {"_bucket": 0, "_count": 1, "_sum": 2, "_total": 0, "": 0}

SampleKey = tuple[str, tuple[tuple[str, str], ...]]


def _key(name: str, labels: Mapping[str, str], drop: Iterable[str] = ()) -> SampleKey:
    dropped = set(drop)
    norm = {k: (floatToGoString(float(v)) if k == "le" else v) for k, v in labels.items() if k not in dropped}
    return name, tuple(sorted(norm.items()))


class _Family:
    """A metric family's identity (name, help, type) and the sample names that belong to it."""

    def __init__(self, name: str, documentation: str, typ: str) -> None:
        self.name, self.documentation, self.typ = name, documentation, typ
        self.sample_names = {name + s for s in _ADDITIVE_SUFFIXES.get(typ, ("",))}


def _read_registry(registry: CollectorRegistry) -> tuple[list[_Family], dict[SampleKey, float]]:
    """Our families and their current sample values, without `_created` samples."""
    families: list[_Family] = []
    values: dict[SampleKey, float] = {}
    for fam in registry.collect():
        family = _Family(fam.name, fam.documentation, fam.type)
        families.append(family)
        for s in fam.samples:
            if s.name in family.sample_names:
                values[_key(s.name, s.labels)] = s.value
    return families, values


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?\s*$")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?')
_UNESCAPE = re.compile(r"\\(.)")


def _parse(text: str, match: Mapping[str, str], drop: Iterable[str]) -> dict[SampleKey, float]:
    """Samples of Prometheus text exposition whose labels include every pair in `match`, keyed
    without the `drop` labels.

    Why not prometheus_client.parser: it is pure Python and slow (~0.1 ms a sample), and a gateway
    holds every pipeline's group. Lines that cannot belong to our group are dropped by a substring
    test first; the exact label comparison below removes any false positives.
    """
    needles = [f'{k}="{_escape(v)}"' for k, v in match.items()]
    found: dict[SampleKey, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#") or not all(n in line for n in needles):
            continue
        m = _SAMPLE.match(line)
        if m is None:
            raise ValueError(f"unparseable exposition line: {line[:200]!r}")
        name, raw_labels, raw_value = m.groups()
        labels = {
            k: _UNESCAPE.sub(lambda e: "\n" if e.group(1) == "n" else e.group(1), v)
            for k, v in _LABEL.findall(raw_labels or "")
        }
        if all(labels.get(k) == v for k, v in match.items()):
            found[_key(name, labels, drop)] = float(raw_value)
    return found


class MergingDelivery:
    """Remembers what was delivered to each destination so repeated deliveries never double-count."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry
        self._delivered: dict[str, dict[SampleKey, float]] = {}

    def merged_registry(
        self, destination: str, base: Mapping[SampleKey, float]
    ) -> tuple[CollectorRegistry, dict[SampleKey, float]]:
        """A registry holding base + (current - delivered) for additive series, current gauges."""
        families, current = _read_registry(self._registry)
        delivered = self._delivered.get(destination, {})
        additive = {n: f for f in families if f.typ in _ADDITIVE_TYPES for n in f.sample_names}
        merged: dict[SampleKey, float] = {k: v for k, v in base.items() if k[0] in additive}
        for k, v in current.items():
            if k[0] in additive:
                merged[k] = merged.get(k, 0.0) + v - delivered.get(k, 0.0)
            else:
                merged[k] = v
        out = CollectorRegistry(auto_describe=False)
        out.register(_StaticCollector(families, merged))
        return out, current

    def mark_delivered(self, destination: str, snapshot: dict[SampleKey, float]) -> None:
        self._delivered[destination] = snapshot


class _StaticCollector:
    """Exposes precomputed samples with our families' names, help and types."""

    def __init__(self, families: list[_Family], samples: Mapping[SampleKey, float]) -> None:
        self._families = families
        owner = {n: f.name for f in families for n in f.sample_names}
        self._rows: dict[str, list[tuple[SampleKey, float]]] = {f.name: [] for f in families}
        for key, value in samples.items():
            if key[0] in owner:
                self._rows[owner[key[0]]].append((key, value))

    def collect(self) -> Iterable[Metric]:
        for family in self._families:
            metric = Metric(family.name, family.documentation, family.typ)
            rows = sorted(self._rows[family.name], key=lambda kv: _sort_key(family.name, kv[0]))
            for (name, labels), value in rows:
                metric.add_sample(name, dict(labels), value)
            yield metric


def _sort_key(family: str, key: SampleKey) -> tuple:
    name, labels = key
    rest = tuple((k, v) for k, v in labels if k != "le")
    le = next((float(v) for k, v in labels if k == "le"), 0.0)
    return rest, _SUFFIX_ORDER.get(name[len(family) :], 3), le


def _gateway_base(gateway: str, grouping: Mapping[str, str], timeout: float) -> dict[SampleKey, float]:
    url = gateway if "://" in gateway else "http://" + gateway
    with urllib.request.urlopen(url.rstrip("/") + "/metrics", timeout=timeout) as resp:  # noqa: S310
        text = resp.read().decode("utf-8")
    return _parse(text, {"job": JOB, **grouping}, drop=("job", "instance"))


def push(delivery: MergingDelivery, gateway: str, grouping: Mapping[str, str], timeout: float) -> None:
    """Merge with the gateway's group and POST it (pushadd: other metric names in the group stay)."""
    destination = f"push:{gateway}:{sorted(grouping.items())}"
    base = _gateway_base(gateway, grouping, timeout)
    registry, snapshot = delivery.merged_registry(destination, base)
    pushadd_to_gateway(gateway, job=JOB, registry=registry, grouping_key=dict(grouping), timeout=timeout)
    delivery.mark_delivered(destination, snapshot)


def write_textfile(delivery: MergingDelivery, path: Path) -> None:
    """Merge with the existing file and replace it atomically (node-exporter reads it any time)."""
    destination = f"textfile:{path.resolve()}"
    base = _parse(path.read_text("utf-8"), {}, drop=()) if path.exists() else {}
    registry, snapshot = delivery.merged_registry(destination, base)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(generate_latest(registry))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    delivery.mark_delivered(destination, snapshot)
