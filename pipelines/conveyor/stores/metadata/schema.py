"""Table definitions (SQLAlchemy Core). The migrations create exactly these; a test checks they agree.

Times are Float epoch seconds; JSON columns are Text holding json.dumps output, so SQLite and
Postgres store and compare the same values.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

VERSION_TABLE = "conveyor_alembic_version"

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(255)  # run ids, task instance ids, owners
KEY = String(128)  # cache keys ("sha256:<hex>" is 71)

runs = Table(
    "runs", metadata,
    Column("run_id", ID, primary_key=True),
    Column("pipeline_name", ID, nullable=False),
    Column("pipeline_digest", String(80), nullable=False),
    Column("spec_json", Text, nullable=False),
    Column("arguments_json", Text, nullable=False),
    Column("profile_name", ID, nullable=False),
    Column("labels_json", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("error", Text),
    Column("outputs_json", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("started_at", Float),
    Column("ended_at", Float),
    Column("cost_usd", Float),  # sum of its tasks' costs, stored when the run ends (the explorer's sort key)
    Index(None, "created_at"),
    Index(None, "pipeline_name", "created_at"),
    Index(None, "status", "created_at"),
)

run_tags = Table(  # labels and arguments, one row each, for indexed filters (see tags.py)
    "run_tags", metadata,
    Column("run_id", ID, ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True),
    Column("kind", String(8), primary_key=True),  # "label" | "param"
    Column("name", ID, primary_key=True),
    Column("value", String(255), nullable=False),
    Column("created_at", Float, nullable=False),
    Index(None, "kind", "name", "value", "created_at"),
)

tasks = Table(
    "tasks", metadata,
    Column("run_id", ID, ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True),
    Column("task_id", ID, primary_key=True),
    Column("task_name", ID, nullable=False),
    Column("status", String(16), nullable=False),
    Column("cache_key", KEY),
    Column("outputs_json", Text),
    Column("cached_from_run", ID),
    Column("cached_from_task", ID),
    Column("error", Text),
    Column("started_at", Float),
    Column("ended_at", Float),
    Column("duration_s", Float),
    Column("peak_rss_mb", Float),
    Column("cpu_time_s", Float),
    Column("cost_usd", Float),
    Column("saved_s", Float),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Index(None, "cache_key"),
)

attempts = Table(
    "attempts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", ID, nullable=False),
    Column("task_id", ID, nullable=False),
    Column("number", Integer, nullable=False),
    Column("pid", Integer),
    Column("status", String(16), nullable=False),
    Column("failure_class", String(16)),
    Column("error", Text),
    Column("exit_code", Integer),
    Column("started_at", Float, nullable=False),
    Column("ended_at", Float),
    Column("peak_rss_mb", Float),
    Column("cpu_time_s", Float),
    UniqueConstraint("run_id", "task_id", "number"),
    ForeignKeyConstraint(["run_id", "task_id"], ["tasks.run_id", "tasks.task_id"], ondelete="CASCADE"),
    Index(None, "run_id", "status"),
)

artifacts = Table(
    "artifacts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uri", Text, nullable=False),
    Column("digest", String(80), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("producer_run_id", ID),
    Column("producer_task_id", ID),
    Column("output_name", ID),
    Column("type_name", ID),
    Column("metadata_json", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("producer_run_id", "producer_task_id", "output_name"),
    Index(None, "uri"),
    Index(None, "digest"),
)

lineage = Table(
    "lineage", metadata,
    Column("run_id", ID, primary_key=True),
    Column("task_id", ID, primary_key=True),
    Column("artifact_id", Integer, ForeignKey("artifacts.id", ondelete="CASCADE"), primary_key=True),
    Column("direction", String(3), primary_key=True),
    Column("created_at", Float, nullable=False),
    ForeignKeyConstraint(["run_id", "task_id"], ["tasks.run_id", "tasks.task_id"], ondelete="CASCADE"),
    Index(None, "artifact_id"),
)

metrics = Table(
    "metrics", metadata,
    Column("run_id", ID, primary_key=True),
    Column("task_id", ID, primary_key=True),
    Column("name", ID, primary_key=True),
    Column("value", Float, nullable=False),
    Column("created_at", Float, nullable=False),
    ForeignKeyConstraint(["run_id", "task_id"], ["tasks.run_id", "tasks.task_id"], ondelete="CASCADE"),
    Index(None, "name", "run_id"),  # the explorer's metric menu and sort-by-metric
)

cache_entries = Table(
    "cache_entries", metadata,
    Column("key", KEY, primary_key=True),
    Column("outputs_json", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float),  # created_at + ttl_s; NULL = never (for prune)
    Column("ttl_s", Float),
    Column("duration_s", Float),
    Column("cost_usd", Float),
    Column("source_run_id", ID),
    Column("source_task_id", ID),
    Index(None, "created_at"),
    Index(None, "expires_at"),
)

schedules = Table(  # recurring runs as `conveyor schedule` created them (ScheduleRecord)
    "schedules", metadata,
    Column("name", ID, primary_key=True),
    Column("pipeline_name", ID, nullable=False),
    Column("cron", String(255), nullable=False),
    Column("timezone", String(64)),
    Column("namespace", ID, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

cache_claims = Table(
    "cache_claims", metadata,
    Column("key", KEY, primary_key=True),
    Column("owner", ID, nullable=False),
    Column("claimed_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
)
