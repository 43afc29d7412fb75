"""Run leases and cancellation (several API processes share one store), review-page sessions.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_RUN_TABLES = ("solve_runs", "scenario_runs")


def upgrade() -> None:
    for table in _RUN_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("lease_owner", sa.String(length=100), nullable=True))
            batch.add_column(sa.Column("lease_expires_at", sa.DateTime(), nullable=True))
            batch.add_column(sa.Column("cancel_requested_at", sa.DateTime(), nullable=True))
    op.create_table(
        "web_sessions",
        sa.Column("session_hash", sa.String(length=64), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("session_hash", name=op.f("pk_web_sessions")),
    )


def downgrade() -> None:
    op.drop_table("web_sessions")
    for table in _RUN_TABLES:
        with op.batch_alter_table(table) as batch:
            for column in ("cancel_requested_at", "lease_expires_at", "lease_owner"):
                batch.drop_column(column)
