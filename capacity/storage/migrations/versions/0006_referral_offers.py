"""Offers of referral: confirmed by the receiving department, answered by the patient (issue 13).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "referral_offers",
        sa.Column("offer_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.String(length=64), nullable=False),
        sa.Column("department_id", sa.String(length=64), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("prior_department_id", sa.String(length=64), nullable=True),
        sa.Column("prior_date", sa.Date(), nullable=True),
        sa.Column("offered_at", sa.DateTime(), nullable=False),
        sa.Column("offered_by", sa.Integer(), nullable=True),
        sa.Column("department_answer_at", sa.DateTime(), nullable=True),
        sa.Column("department_answer_by", sa.Integer(), nullable=True),
        sa.Column("department_reason", sa.String(length=2000), nullable=True),
        sa.Column("patient_answer_at", sa.DateTime(), nullable=True),
        sa.Column("patient_answer_by", sa.Integer(), nullable=True),
        sa.Column("patient_reason", sa.String(length=2000), nullable=True),
        sa.PrimaryKeyConstraint("offer_id", name=op.f("pk_referral_offers")),
    )
    op.create_index(
        op.f("ix_referral_offers_patient_id"), "referral_offers", ["patient_id"], unique=False
    )
    op.create_index(
        op.f("ix_referral_offers_department_id"),
        "referral_offers",
        ["department_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_referral_offers_department_id"), table_name="referral_offers")
    op.drop_index(op.f("ix_referral_offers_patient_id"), table_name="referral_offers")
    op.drop_table("referral_offers")
