"""Initial schema: runs, tasks, attempts, artifacts, lineage, metrics, cache entries and claims.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.String(255)
KEY = sa.String(128)


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("run_id", ID, nullable=False),
        sa.Column("pipeline_name", ID, nullable=False),
        sa.Column("pipeline_digest", sa.String(80), nullable=False),
        sa.Column("spec_json", sa.Text(), nullable=False),
        sa.Column("arguments_json", sa.Text(), nullable=False),
        sa.Column("profile_name", ID, nullable=False),
        sa.Column("labels_json", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("outputs_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("started_at", sa.Float()),
        sa.Column("ended_at", sa.Float()),
        sa.PrimaryKeyConstraint("run_id", name="pk_runs"),
    )
    op.create_index("ix_runs_created_at", "runs", ["created_at"])
    op.create_index("ix_runs_pipeline_name_created_at", "runs", ["pipeline_name", "created_at"])
    op.create_index("ix_runs_status_created_at", "runs", ["status", "created_at"])

    op.create_table(
        "tasks",
        sa.Column("run_id", ID, nullable=False),
        sa.Column("task_id", ID, nullable=False),
        sa.Column("task_name", ID, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("cache_key", KEY),
        sa.Column("outputs_json", sa.Text()),
        sa.Column("cached_from_run", ID),
        sa.Column("cached_from_task", ID),
        sa.Column("error", sa.Text()),
        sa.Column("started_at", sa.Float()),
        sa.Column("ended_at", sa.Float()),
        sa.Column("duration_s", sa.Float()),
        sa.Column("peak_rss_mb", sa.Float()),
        sa.Column("cpu_time_s", sa.Float()),
        sa.Column("cost_usd", sa.Float()),
        sa.Column("saved_s", sa.Float()),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "task_id", name="pk_tasks"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name="fk_tasks_run_id_runs", ondelete="CASCADE"),
    )
    op.create_index("ix_tasks_cache_key", "tasks", ["cache_key"])

    op.create_table(
        "attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", ID, nullable=False),
        sa.Column("task_id", ID, nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("pid", sa.Integer()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("failure_class", sa.String(16)),
        sa.Column("error", sa.Text()),
        sa.Column("exit_code", sa.Integer()),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("ended_at", sa.Float()),
        sa.Column("peak_rss_mb", sa.Float()),
        sa.Column("cpu_time_s", sa.Float()),
        sa.PrimaryKeyConstraint("id", name="pk_attempts"),
        sa.UniqueConstraint("run_id", "task_id", "number", name="uq_attempts_run_id_task_id_number"),
        sa.ForeignKeyConstraint(["run_id", "task_id"], ["tasks.run_id", "tasks.task_id"],
                                name="fk_attempts_run_id_tasks", ondelete="CASCADE"),
    )
    op.create_index("ix_attempts_run_id_status", "attempts", ["run_id", "status"])

    op.create_table(
        "artifacts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uri", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(80), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("producer_run_id", ID),
        sa.Column("producer_task_id", ID),
        sa.Column("output_name", ID),
        sa.Column("type_name", ID),
        sa.Column("metadata_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_artifacts"),
        sa.UniqueConstraint("producer_run_id", "producer_task_id", "output_name",
                            name="uq_artifacts_producer_run_id_producer_task_id_output_name"),
    )
    op.create_index("ix_artifacts_uri", "artifacts", ["uri"])
    op.create_index("ix_artifacts_digest", "artifacts", ["digest"])

    op.create_table(
        "lineage",
        sa.Column("run_id", ID, nullable=False),
        sa.Column("task_id", ID, nullable=False),
        sa.Column("artifact_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "task_id", "artifact_id", "direction", name="pk_lineage"),
        sa.ForeignKeyConstraint(["run_id", "task_id"], ["tasks.run_id", "tasks.task_id"],
                                name="fk_lineage_run_id_tasks", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["artifact_id"], ["artifacts.id"],
                                name="fk_lineage_artifact_id_artifacts", ondelete="CASCADE"),
    )
    op.create_index("ix_lineage_artifact_id", "lineage", ["artifact_id"])

    op.create_table(
        "metrics",
        sa.Column("run_id", ID, nullable=False),
        sa.Column("task_id", ID, nullable=False),
        sa.Column("name", ID, nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "task_id", "name", name="pk_metrics"),
        sa.ForeignKeyConstraint(["run_id", "task_id"], ["tasks.run_id", "tasks.task_id"],
                                name="fk_metrics_run_id_tasks", ondelete="CASCADE"),
    )

    op.create_table(
        "cache_entries",
        sa.Column("key", KEY, nullable=False),
        sa.Column("outputs_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float()),
        sa.Column("ttl_s", sa.Float()),
        sa.Column("duration_s", sa.Float()),
        sa.Column("cost_usd", sa.Float()),
        sa.Column("source_run_id", ID),
        sa.Column("source_task_id", ID),
        sa.PrimaryKeyConstraint("key", name="pk_cache_entries"),
    )
    op.create_index("ix_cache_entries_created_at", "cache_entries", ["created_at"])
    op.create_index("ix_cache_entries_expires_at", "cache_entries", ["expires_at"])

    op.create_table(
        "cache_claims",
        sa.Column("key", KEY, nullable=False),
        sa.Column("owner", ID, nullable=False),
        sa.Column("claimed_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_cache_claims"),
    )


def downgrade() -> None:
    for table in ("cache_claims", "cache_entries", "metrics", "lineage", "artifacts", "attempts", "tasks", "runs"):
        op.drop_table(table)
