"""The explorer at 10k runs: a `run_tags` table for label/argument filters, a stored `runs.cost_usd`.

Both are backfilled here from what the store already holds: tags from each run's labels and
arguments (the text form of conveyor.stores.metadata.tags), cost as the sum of the run's task
costs for every run that has ended. Forward-only in practice; downgrade exists for Alembic's sake.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

import json

import sqlalchemy as sa
from alembic import op

from conveyor.stores.metadata.tags import tag_rows

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BATCH = 2000


def upgrade() -> None:
    op.create_table(
        "run_tags",
        sa.Column("run_id", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("value", sa.String(255), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "kind", "name", name="pk_run_tags"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name="fk_run_tags_run_id_runs", ondelete="CASCADE"),
    )
    op.create_index("ix_run_tags_kind_name_value_created_at", "run_tags", ["kind", "name", "value", "created_at"])
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("cost_usd", sa.Float()))
    _backfill()


def _backfill() -> None:
    conn = op.get_bind()
    runs = sa.table("runs", sa.column("run_id"), sa.column("labels_json"), sa.column("arguments_json"),
                    sa.column("created_at"), sa.column("ended_at"), sa.column("cost_usd"))
    tasks = sa.table("tasks", sa.column("run_id"), sa.column("cost_usd"))
    run_tags = sa.table("run_tags", sa.column("run_id"), sa.column("kind"), sa.column("name"),
                        sa.column("value"), sa.column("created_at"))
    pending: list[dict] = []
    for r in conn.execute(sa.select(runs.c.run_id, runs.c.labels_json, runs.c.arguments_json, runs.c.created_at)):
        pending += tag_rows(r.run_id, json.loads(r.labels_json or "{}"), json.loads(r.arguments_json or "{}"),
                            r.created_at)
        if len(pending) >= BATCH:
            conn.execute(run_tags.insert(), pending)
            pending = []
    if pending:
        conn.execute(run_tags.insert(), pending)
    total = (sa.select(sa.func.coalesce(sa.func.sum(tasks.c.cost_usd), 0.0)).where(tasks.c.run_id == runs.c.run_id)
             .scalar_subquery())
    conn.execute(sa.update(runs).where(runs.c.ended_at.is_not(None)).values(cost_usd=total))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("cost_usd")
    op.drop_index("ix_run_tags_kind_name_value_created_at", table_name="run_tags")
    op.drop_table("run_tags")
