"""Departments keep their real identifiers: SOR code and CVR number (issue 15.4).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("departments") as batch:
        batch.add_column(sa.Column("sor_code", sa.String(64), nullable=True))
        batch.add_column(sa.Column("cvr", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("departments") as batch:
        batch.drop_column("cvr")
        batch.drop_column("sor_code")
