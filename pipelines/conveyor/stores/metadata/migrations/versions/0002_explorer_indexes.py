"""Indexes for the run explorer: metrics by name (the sort-by-metric menu and key).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_metrics_name_run_id", "metrics", ["name", "run_id"])


def downgrade() -> None:
    op.drop_index("ix_metrics_name_run_id", table_name="metrics")
