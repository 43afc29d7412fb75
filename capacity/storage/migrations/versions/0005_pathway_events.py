"""Pathway events: append-only facts per patient and pathway (issue 13).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pathway_events",
        sa.Column("event_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_key", sa.String(length=64), nullable=False),
        sa.Column("patient_id", sa.String(length=64), nullable=False),
        sa.Column("collaboration", sa.String(length=64), nullable=False),
        sa.Column("procedure", sa.String(length=64), nullable=False),
        sa.Column("home_region", sa.String(length=64), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("department_id", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.String(length=1000), nullable=True),
        sa.Column("pathway", sa.String(length=16), nullable=True),
        sa.Column("source", sa.String(length=1000), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_pathway_events")),
        sa.UniqueConstraint("event_key", name=op.f("uq_pathway_events_event_key")),
    )
    op.create_index(
        op.f("ix_pathway_events_patient_id"), "pathway_events", ["patient_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_pathway_events_patient_id"), table_name="pathway_events")
    op.drop_table("pathway_events")
