"""Artifact previews: what a page shows of an artifact, read with hard bounds.

Why bounded: artifacts and logs are user output of any size and shape. Nothing here reads more
than a fixed head or tail of a file; malformed metadata (a confusion matrix with ragged rows, a
metric that is not a number) becomes a `problem` line next to the raw JSON instead of an error
page. Markdown renders with raw HTML disabled; HTML artifacts are never inlined (the page frames
them from a sandboxed, CSP-locked endpoint).
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conveyor.stores.artifacts import ArtifactStore, ArtifactStoreError
from conveyor.stores.metadata import ArtifactRecord
from conveyor.ui.charts import xy_chart

HEAD_BYTES = 256 * 1024
TABLE_ROWS = 20
RAW_MAX_BYTES = 20 * 1024 * 1024
IMAGE_MAGIC = {b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg", b"GIF8": "image/gif", b"RIFF": "image/webp"}


@dataclass
class Preview:
    kind: str  # metrics | classification | sliced | markdown | html | image | table | text | dir | none
    problem: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@contextlib.contextmanager
def local_copy(artifacts: ArtifactStore, uri: str) -> Iterator[Path]:
    """The artifact at a local path for the length of the block (a hard link for local stores)."""
    with tempfile.TemporaryDirectory(prefix="conveyor-ui-") as tmp:
        yield artifacts.materialize(uri, Path(tmp) / "a")


def read_head(path: Path, limit: int = HEAD_BYTES) -> tuple[bytes, bool]:
    with path.open("rb") as fh:
        data = fh.read(limit + 1)
    return data[:limit], len(data) > limit


def read_tail(path: Path, limit: int = HEAD_BYTES) -> tuple[bytes, bool]:
    size = path.stat().st_size
    with path.open("rb") as fh:
        fh.seek(max(0, size - limit))
        return fh.read(limit), size > limit


def sniff_image(head: bytes) -> str | None:
    for magic, mime in IMAGE_MAGIC.items():
        if head.startswith(magic) and (magic != b"RIFF" or head[8:12] == b"WEBP"):
            return mime
    return None


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def metrics_preview(meta: Any) -> Preview:
    if not isinstance(meta, dict):
        return Preview("metrics", f"malformed Metrics: metadata is {type(meta).__name__}, not an object")
    rows = sorted((str(k), v) for k, v in meta.items() if k != "display_name")
    bad = [k for k, v in rows if not _number(v)]
    problem = f"malformed Metrics: not a finite number: {', '.join(bad)}" if bad else None
    return Preview("metrics", problem, {"rows": rows})


def _roc(points: Any) -> Any:
    if not isinstance(points, list):
        raise ValueError("confidenceMetrics is not a list")
    pts = []
    for p in points:
        if not isinstance(p, dict) or not _number(p.get("falsePositiveRate")) or not _number(p.get("recall")):
            raise ValueError(f"ROC point {str(p)[:80]} lacks numeric falsePositiveRate/recall")
        pts.append((float(p["falsePositiveRate"]), float(p["recall"])))
    return xy_chart({"ROC": sorted(pts), "chance": [(0, 0), (1, 1)]}, fixed=(0, 1, 0, 1))


def _confusion(matrix: Any) -> dict[str, Any]:
    if not isinstance(matrix, dict):
        raise ValueError("confusionMatrix is not an object")
    cats = [str(s.get("displayName", "?")) if isinstance(s, dict) else "?" for s in matrix.get("annotationSpecs", [])]
    rows = [r.get("row") if isinstance(r, dict) else None for r in matrix.get("rows", [])]
    if len(rows) != len(cats) or any(not isinstance(r, list) or len(r) != len(cats) for r in rows):
        raise ValueError(f"confusionMatrix is not {len(cats)}x{len(cats)}")
    if any(not _number(v) for r in rows for v in r):
        raise ValueError("confusionMatrix has a cell that is not a number")
    top = max((v for r in rows for v in r), default=0) or 1
    cells = [[(v, round(0.1 + 0.85 * v / top, 2)) for v in r] for r in rows]
    return {"categories": cats, "cells": cells, "size": 40 * len(cats)}


def classification_preview(meta: Any) -> Preview:
    out: dict[str, Any] = {}
    try:
        if not isinstance(meta, dict):
            raise ValueError(f"metadata is {type(meta).__name__}, not an object")
        if "confusionMatrix" in meta:
            out["confusion"] = _confusion(meta["confusionMatrix"])
        if "confidenceMetrics" in meta:
            out["roc"] = _roc(meta["confidenceMetrics"])
    except (ValueError, TypeError, AttributeError) as exc:
        return Preview("classification", f"malformed ClassificationMetrics: {exc}", out)
    return Preview("classification", None, out)


def sliced_preview(meta: Any) -> Preview:
    slices = meta.get("evaluationSlices") if isinstance(meta, dict) else None
    if not isinstance(slices, list):
        return Preview("sliced", "malformed SlicedClassificationMetrics: no evaluationSlices list")
    shown = []
    for s in slices[:50]:
        name = str(s.get("slice", "?")) if isinstance(s, dict) else "?"
        inner = classification_preview(s if isinstance(s, dict) else None)
        shown.append({"name": name, "preview": inner})
    return Preview("sliced", None, {"slices": shown})


def markdown_html(text: str) -> str:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "linkify": False}).render(text)


def table_head(path: Path, head: bytes) -> Preview:
    if head.startswith(b"PAR1"):
        try:
            import pyarrow.parquet as pq
        except ImportError:
            return Preview("table", "Parquet preview needs pyarrow (pip install 'conveyor-ml[examples]')")
        try:
            pf = pq.ParquetFile(path)
            batch = next(pf.iter_batches(batch_size=TABLE_ROWS), None)
            cols = [f.name for f in pf.schema_arrow]
            rows = [] if batch is None else [[str(v) for v in r.values()] for r in batch.to_pylist()]
            return Preview("table", None, {"columns": cols, "rows": rows, "total": pf.metadata.num_rows})
        except Exception as exc:  # noqa: BLE001 - a broken file is shown as broken, not a 500
            return Preview("table", f"unreadable Parquet: {type(exc).__name__}: {str(exc)[:200]}")
    text = head.decode("utf-8", errors="replace")
    reader = csv.reader(io.StringIO(text))
    rows = [r for _, r in zip(range(TABLE_ROWS + 1), reader)]
    if not rows:
        return Preview("text", None, {"text": text})
    return Preview("table", None, {"columns": rows[0], "rows": rows[1:], "total": None})


def preview(record: ArtifactRecord, artifacts: ArtifactStore) -> Preview:
    type_name = (record.type_name or "").rsplit(".", 1)[-1]
    if type_name == "Metrics":
        return metrics_preview(record.metadata)
    if type_name == "ClassificationMetrics":
        return classification_preview(record.metadata)
    if type_name == "SlicedClassificationMetrics":
        return sliced_preview(record.metadata)
    if type_name == "HTML":
        return Preview("html")
    try:
        with local_copy(artifacts, record.uri) as path:
            if path.is_dir():
                files = sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file())
                return Preview("dir", None, {"files": files[:200], "total": len(files)})
            head, more = read_head(path)
            if mime := sniff_image(head):
                return Preview("image", None, {"mime": mime})
            if type_name == "Markdown" or record.uri.endswith(".md"):
                return Preview("markdown", "only the first 256 KiB is shown" if more else None,
                               {"html": markdown_html(head.decode("utf-8", errors="replace"))})
            if head.startswith(b"PAR1") or b"," in head[:4096] and b"\0" not in head[:4096]:
                return table_head(path, head)
            if b"\0" in head[:4096]:
                return Preview("none", None, {"note": "binary content"})
            return Preview("text", "only the first 256 KiB is shown" if more else None,
                           {"text": head.decode("utf-8", errors="replace")})
    except ArtifactStoreError as exc:
        return Preview("none", f"cannot read the artifact: {exc}")
