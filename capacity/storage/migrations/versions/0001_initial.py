"""Initial schema: departments, services, versioned capacity declarations, patients, loads.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "loads",
        sa.Column("load_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("loaded_at", sa.DateTime(), nullable=False),
        sa.Column("source", sa.String(length=1000), nullable=False),
        sa.PrimaryKeyConstraint("load_id", name=op.f("pk_loads")),
    )
    op.create_table(
        "departments",
        sa.Column("department_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("hospital", sa.String(length=200), nullable=True),
        sa.Column("region", sa.String(length=64), nullable=False),
        sa.Column("provider_type", sa.String(length=64), nullable=False),
        sa.Column("latitude", sa.Double(), nullable=False),
        sa.Column("longitude", sa.Double(), nullable=False),
        sa.Column("load_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["load_id"], ["loads.load_id"], name=op.f("fk_departments_load_id")
        ),
        sa.PrimaryKeyConstraint("department_id", name=op.f("pk_departments")),
    )
    op.create_table(
        "capacity_declarations",
        sa.Column("declaration_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("department_id", sa.String(length=64), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("load_id", sa.Integer(), nullable=False),
        sa.Column("superseded", sa.Boolean(), nullable=False),
        sa.Column("superseded_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.department_id"],
            name=op.f("fk_capacity_declarations_department_id"),
        ),
        sa.ForeignKeyConstraint(
            ["load_id"], ["loads.load_id"], name=op.f("fk_capacity_declarations_load_id")
        ),
        sa.PrimaryKeyConstraint("declaration_id", name=op.f("pk_capacity_declarations")),
        sa.UniqueConstraint(
            "department_id", "week", "version", name=op.f("uq_capacity_declarations_department_id")
        ),
    )
    op.create_table(
        "patients",
        sa.Column("patient_id", sa.String(length=64), nullable=False),
        sa.Column("collaboration", sa.String(length=64), nullable=False),
        sa.Column("procedure", sa.String(length=64), nullable=False),
        sa.Column("home_region", sa.String(length=64), nullable=False),
        sa.Column("home_department_id", sa.String(length=64), nullable=False),
        sa.Column("latitude", sa.Double(), nullable=False),
        sa.Column("longitude", sa.Double(), nullable=False),
        sa.Column("earliest_date", sa.Date(), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("deadline_status", sa.String(length=64), nullable=False),
        sa.Column("booked_department_id", sa.String(length=64), nullable=True),
        sa.Column("booked_date", sa.Date(), nullable=True),
        sa.Column("max_travel_km", sa.Double(), nullable=True),
        sa.Column("accepts_private", sa.Boolean(), nullable=False),
        sa.Column("accepts_foreign", sa.Boolean(), nullable=False),
        sa.Column("clock_start", sa.Date(), nullable=True),
        sa.Column("referral_received", sa.Date(), nullable=True),
        sa.Column("consent_date", sa.Date(), nullable=True),
        sa.Column("referral_to_treatment", sa.Date(), nullable=True),
        sa.Column("deadline_rule", sa.String(length=200), nullable=True),
        sa.Column("load_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["booked_department_id"],
            ["departments.department_id"],
            name=op.f("fk_patients_booked_department_id"),
        ),
        sa.ForeignKeyConstraint(
            ["home_department_id"],
            ["departments.department_id"],
            name=op.f("fk_patients_home_department_id"),
        ),
        sa.ForeignKeyConstraint(["load_id"], ["loads.load_id"], name=op.f("fk_patients_load_id")),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_patients")),
    )
    op.create_table(
        "services",
        sa.Column("department_id", sa.String(length=64), nullable=False),
        sa.Column("collaboration", sa.String(length=64), nullable=False),
        sa.Column("procedure", sa.String(length=64), nullable=False),
        sa.Column("price_dkk", sa.Double(), nullable=True),
        sa.Column("load_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.department_id"], name=op.f("fk_services_department_id")
        ),
        sa.ForeignKeyConstraint(["load_id"], ["loads.load_id"], name=op.f("fk_services_load_id")),
        sa.PrimaryKeyConstraint(
            "department_id", "collaboration", "procedure", name=op.f("pk_services")
        ),
    )
    op.create_table(
        "capacity",
        sa.Column("declaration_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.String(length=64), nullable=False),
        sa.Column("collaboration", sa.String(length=64), nullable=False),
        sa.Column("procedure", sa.String(length=64), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("free_slots", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["declaration_id"],
            ["capacity_declarations.declaration_id"],
            name=op.f("fk_capacity_declaration_id"),
        ),
        sa.ForeignKeyConstraint(
            ["department_id", "collaboration", "procedure"],
            ["services.department_id", "services.collaboration", "services.procedure"],
            name=op.f("fk_capacity_department_id"),
        ),
        sa.PrimaryKeyConstraint("declaration_id", "position", name=op.f("pk_capacity")),
    )
    op.create_index("ix_capacity_date", "capacity", ["date"], unique=False)
    op.create_table(
        "weekly_caps",
        sa.Column("department_id", sa.String(length=64), nullable=False),
        sa.Column("collaboration", sa.String(length=64), nullable=False),
        sa.Column("procedure", sa.String(length=64), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("max_slots", sa.Integer(), nullable=False),
        sa.Column("load_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id", "collaboration", "procedure"],
            ["services.department_id", "services.collaboration", "services.procedure"],
            name=op.f("fk_weekly_caps_department_id"),
        ),
        sa.ForeignKeyConstraint(
            ["load_id"], ["loads.load_id"], name=op.f("fk_weekly_caps_load_id")
        ),
        sa.PrimaryKeyConstraint(
            "department_id", "collaboration", "procedure", "week", name=op.f("pk_weekly_caps")
        ),
    )


def downgrade() -> None:
    op.drop_table("weekly_caps")
    op.drop_index("ix_capacity_date", table_name="capacity")
    op.drop_table("capacity")
    op.drop_table("services")
    op.drop_table("patients")
    op.drop_table("capacity_declarations")
    op.drop_table("departments")
    op.drop_table("loads")
