"""The API's tables: tokens, audit log, solve runs, their proposals, decisions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("token_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("region", sa.String(length=64), nullable=True),
        sa.Column("department_id", sa.String(length=64), nullable=True),
        sa.Column("collaboration", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("token_id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_table(
        "audit_log",
        sa.Column("entry_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("token_name", sa.String(length=200), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=True),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("resource_id", sa.String(length=200), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_audit_log")),
    )
    op.create_table(
        "solve_runs",
        sa.Column("run_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("snapshot_at", sa.DateTime(), nullable=False),
        sa.Column("today", sa.Date(), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=True),
        sa.Column("collaboration", sa.String(length=64), nullable=True),
        sa.Column("tiers", sa.JSON(), nullable=False),
        sa.Column("kpis", sa.JSON(), nullable=False),
        sa.Column("proof", sa.JSON(), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_solve_runs")),
    )
    op.create_table(
        "run_proposals",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.String(length=64), nullable=False),
        sa.Column("home_region", sa.String(length=64), nullable=False),
        sa.Column("collaboration", sa.String(length=64), nullable=False),
        sa.Column("proposal", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["solve_runs.run_id"], name=op.f("fk_run_proposals_run_id")
        ),
        sa.PrimaryKeyConstraint("run_id", "patient_id", name=op.f("pk_run_proposals")),
    )
    op.create_table(
        "decisions",
        sa.Column("decision_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.String(length=64), nullable=False),
        sa.Column("department_id", sa.String(length=64), nullable=True),
        sa.Column("date", sa.Date(), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["solve_runs.run_id"], name=op.f("fk_decisions_run_id")
        ),
        sa.PrimaryKeyConstraint("decision_id", name=op.f("pk_decisions")),
    )


def downgrade() -> None:
    for table in ("decisions", "run_proposals", "solve_runs", "audit_log", "api_tokens"):
        op.drop_table(table)
