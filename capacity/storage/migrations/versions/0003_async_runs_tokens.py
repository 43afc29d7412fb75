"""Asynchronous solve runs (status, snapshot id), token expiry and revocation, scenario runs.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("revoked_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("solve_runs") as batch:
        batch.add_column(
            sa.Column("status", sa.String(length=16), nullable=False, server_default="done")
        )
        batch.add_column(sa.Column("requested_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("snapshot_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("finished_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("patients", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("error", sa.String(length=2000), nullable=True))
        for column in ("tiers", "kpis", "proof"):
            batch.alter_column(column, existing_type=sa.JSON(), nullable=True)
        batch.alter_column("snapshot_at", existing_type=sa.DateTime(), nullable=True)
    op.create_table(
        "scenario_runs",
        sa.Column("run_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("replications", sa.Integer(), nullable=False),
        sa.Column("scenario", sa.JSON(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("error", sa.String(length=2000), nullable=True),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_scenario_runs")),
    )


def downgrade() -> None:
    op.drop_table("scenario_runs")
    with op.batch_alter_table("solve_runs") as batch:
        batch.alter_column("snapshot_at", existing_type=sa.DateTime(), nullable=False)
        for column in ("tiers", "kpis", "proof"):
            batch.alter_column(column, existing_type=sa.JSON(), nullable=False)
        for column in ("error", "patients", "finished_at", "snapshot_id", "requested_at"):
            batch.drop_column(column)
        batch.drop_column("status")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("revoked_at")
        batch.drop_column("expires_at")
