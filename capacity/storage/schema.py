"""The database tables: the contract's files as tables, plus versioned declarations and loads.

Column names are the contract's vocabulary, the same as in :mod:`capacity.frames`. Every table
that holds contract rows also records the load that last wrote each row (``load_id``) and the
row's position in that load's frame (``position``), so a snapshot returns rows in file order.

The migrations in ``migrations/versions`` create exactly these tables; a test compares them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Double,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ID_LENGTH = 64
NAME_LENGTH = 200


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored as naive UTC on every backend and returned timezone-aware (UTC)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"timestamp {value} has no time zone; pass an aware datetime")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    """Declarative base of kapacitet's tables."""

    metadata = MetaData(
        naming_convention={
            "pk": "pk_%(table_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ix": "ix_%(table_name)s_%(column_0_name)s",
        }
    )


def _id(*, primary_key: bool = False) -> Mapped[str]:
    return mapped_column(String(ID_LENGTH), primary_key=primary_key)


class Load(Base):
    """One stored load: when it happened and where the data came from."""

    __tablename__ = "loads"

    load_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    loaded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    source: Mapped[str] = mapped_column(String(1000))


class Department(Base):
    """A department (departments.csv), upserted by ``department_id``; ``sor_code`` and ``cvr``
    are the optional real identifiers (departments.csv's optional columns of the same names)."""

    __tablename__ = "departments"

    department_id: Mapped[str] = _id(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    hospital: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    region: Mapped[str] = mapped_column(String(ID_LENGTH))
    provider_type: Mapped[str] = mapped_column(String(ID_LENGTH))
    latitude: Mapped[float] = mapped_column(Double)
    longitude: Mapped[float] = mapped_column(Double)
    load_id: Mapped[int] = mapped_column(ForeignKey("loads.load_id"))
    position: Mapped[int] = mapped_column(Integer)
    #: The department's SOR code (Sundhedsvæsenets Organisationsregister, >= 11 digits), if known.
    sor_code: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    #: The CVR number (Danish business register, 8 digits) of a private provider, if known.
    cvr: Mapped[str | None] = mapped_column(String(ID_LENGTH))


class Service(Base):
    """What a department offers (services.csv), upserted by department, collaboration, procedure."""

    __tablename__ = "services"

    department_id: Mapped[str] = mapped_column(
        ForeignKey("departments.department_id"), primary_key=True
    )
    collaboration: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    procedure: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    price_dkk: Mapped[float | None] = mapped_column(Double)
    load_id: Mapped[int] = mapped_column(ForeignKey("loads.load_id"))
    position: Mapped[int] = mapped_column(Integer)


class CapacityDeclaration(Base):
    """One version of a department's capacity declaration for one ISO week (``YYYY-Www``).

    A load with capacity rows for the department and week adds version n+1 and marks version n
    superseded, unless the rows hash to the current version's ``content_hash``.
    """

    __tablename__ = "capacity_declarations"
    __table_args__ = (UniqueConstraint("department_id", "week", "version"),)

    declaration_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    department_id: Mapped[str] = mapped_column(ForeignKey("departments.department_id"))
    week: Mapped[str] = mapped_column(String(8))
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    load_id: Mapped[int] = mapped_column(ForeignKey("loads.load_id"))
    superseded: Mapped[bool] = mapped_column(Boolean, default=False)
    superseded_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())


class CapacityRow(Base):
    """One row of capacity.csv inside a declaration version: free slots of a service on a day."""

    __tablename__ = "capacity"
    __table_args__ = (
        ForeignKeyConstraint(
            ["department_id", "collaboration", "procedure"],
            ["services.department_id", "services.collaboration", "services.procedure"],
        ),
        Index("ix_capacity_date", "date"),
    )

    declaration_id: Mapped[int] = mapped_column(
        ForeignKey("capacity_declarations.declaration_id"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_id: Mapped[str] = _id()
    collaboration: Mapped[str] = mapped_column(String(ID_LENGTH))
    procedure: Mapped[str] = mapped_column(String(ID_LENGTH))
    date: Mapped[dt.date] = mapped_column(Date)
    free_slots: Mapped[int] = mapped_column(Integer)


class Patient(Base):
    """A patient on the waiting list (patients.csv, with the optional clock columns).

    Upserted by ``patient_id``; a deadline is empty when the rules have not computed one.
    """

    __tablename__ = "patients"

    patient_id: Mapped[str] = _id(primary_key=True)
    collaboration: Mapped[str] = mapped_column(String(ID_LENGTH))
    procedure: Mapped[str] = mapped_column(String(ID_LENGTH))
    home_region: Mapped[str] = mapped_column(String(ID_LENGTH))
    home_department_id: Mapped[str] = mapped_column(ForeignKey("departments.department_id"))
    latitude: Mapped[float] = mapped_column(Double)
    longitude: Mapped[float] = mapped_column(Double)
    earliest_date: Mapped[dt.date | None] = mapped_column(Date)
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    deadline_status: Mapped[str] = mapped_column(String(ID_LENGTH))
    booked_department_id: Mapped[str | None] = mapped_column(
        ForeignKey("departments.department_id")
    )
    booked_date: Mapped[dt.date | None] = mapped_column(Date)
    max_travel_km: Mapped[float | None] = mapped_column(Double)
    accepts_private: Mapped[bool] = mapped_column(Boolean)
    accepts_foreign: Mapped[bool] = mapped_column(Boolean)
    clock_start: Mapped[dt.date | None] = mapped_column(Date)
    referral_received: Mapped[dt.date | None] = mapped_column(Date)
    consent_date: Mapped[dt.date | None] = mapped_column(Date)
    referral_to_treatment: Mapped[dt.date | None] = mapped_column(Date)
    followon_referral: Mapped[dt.date | None] = mapped_column(Date)
    deadline_rule: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    load_id: Mapped[int] = mapped_column(ForeignKey("loads.load_id"))
    position: Mapped[int] = mapped_column(Integer)


class WeeklyCap(Base):
    """At most ``max_slots`` placements at a service in an ISO week (weekly_caps.csv)."""

    __tablename__ = "weekly_caps"
    __table_args__ = (
        ForeignKeyConstraint(
            ["department_id", "collaboration", "procedure"],
            ["services.department_id", "services.collaboration", "services.procedure"],
        ),
    )

    department_id: Mapped[str] = _id(primary_key=True)
    collaboration: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    procedure: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    week: Mapped[str] = mapped_column(String(8), primary_key=True)
    max_slots: Mapped[int] = mapped_column(Integer)
    load_id: Mapped[int] = mapped_column(ForeignKey("loads.load_id"))
    position: Mapped[int] = mapped_column(Integer)


metadata = Base.metadata
loads = cast(Table, Load.__table__)
departments = cast(Table, Department.__table__)
services = cast(Table, Service.__table__)
capacity_declarations = cast(Table, CapacityDeclaration.__table__)
capacity = cast(Table, CapacityRow.__table__)
patients = cast(Table, Patient.__table__)
weekly_caps = cast(Table, WeeklyCap.__table__)


# ---- the API's tables: tokens, audit log, solve runs and their proposals, decisions --------
# Core tables on the same metadata, so migration 0002 creates them and the schema test covers
# them. Only the API writes them (api/store.py holds their queries).
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("role", String(32), nullable=False),
    Column("region", String(64)),
    Column("department_id", String(64)),
    Column("collaboration", String(64)),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime()),
    Column("revoked_at", UtcDateTime()),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("entry_id", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("token_id", Integer),
    Column("token_name", String(200)),
    Column("role", String(32)),
    Column("method", String(8), nullable=False),
    Column("path", String(1000), nullable=False),
    Column("resource_id", String(200)),
    Column("before", JSON),
    Column("after", JSON),
)

solve_runs = Table(
    "solve_runs",
    metadata,
    Column("run_id", Integer, primary_key=True, autoincrement=True),
    # queued → running → done | failed; a queued run has no snapshot and no results yet
    Column("status", String(16), nullable=False, server_default="done"),
    Column("requested_at", UtcDateTime()),
    Column("snapshot_at", UtcDateTime()),
    Column("snapshot_id", String(64)),
    Column("finished_at", UtcDateTime()),
    Column("today", Date, nullable=False),
    Column("week", String(8)),
    Column("collaboration", String(64)),
    Column("patients", Integer),
    Column("tiers", JSON),
    Column("kpis", JSON),
    Column("proof", JSON),
    Column("error", String(2000)),
    Column("token_id", Integer),
    # the lease of the process executing the run (issue 11): several API processes share one
    # store; only a run whose lease expired is recovered by another process
    Column("lease_owner", String(100)),
    Column("lease_expires_at", UtcDateTime()),
    Column("cancel_requested_at", UtcDateTime()),
)

run_proposals = Table(
    "run_proposals",
    metadata,
    Column("run_id", Integer, ForeignKey("solve_runs.run_id"), primary_key=True),
    Column("patient_id", String(64), primary_key=True),
    Column("home_region", String(64), nullable=False),
    Column("collaboration", String(64), nullable=False),
    Column("proposal", JSON, nullable=False),
)

decisions = Table(
    "decisions",
    metadata,
    Column("decision_id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("solve_runs.run_id"), nullable=False),
    Column("patient_id", String(64), nullable=False),
    Column("department_id", String(64)),
    Column("date", Date),
    Column("decision", String(16), nullable=False),
    Column("reason", String(2000)),
    Column("decided_at", UtcDateTime(), nullable=False),
    Column("token_id", Integer),
)

scenario_runs = Table(
    "scenario_runs",
    metadata,
    Column("run_id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("requested_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime()),
    Column("replications", Integer, nullable=False),
    Column("scenario", JSON, nullable=False),
    Column("summary", JSON),
    Column("error", String(2000)),
    Column("token_id", Integer),
    Column("lease_owner", String(100)),
    Column("lease_expires_at", UtcDateTime()),
    Column("cancel_requested_at", UtcDateTime()),
)

# Server-side sessions of the review page: the cookie holds a random id, the table its hash,
# the token it signs in as, its CSRF secret, expiry and revocation (logout, token revoked).
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("session_hash", String(64), primary_key=True),
    Column("token_id", Integer, nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("revoked_at", UtcDateTime()),
)

# Pathway events (capacity.pathways): append-only facts per patient and pathway. ``event_key``
# is a hash of the event's content, so re-importing the same file adds nothing.
pathway_events = Table(
    "pathway_events",
    metadata,
    Column("event_id", Integer, primary_key=True, autoincrement=True),
    Column("event_key", String(64), nullable=False, unique=True),
    Column("patient_id", String(ID_LENGTH), nullable=False, index=True),
    Column("collaboration", String(ID_LENGTH), nullable=False),
    Column("procedure", String(ID_LENGTH), nullable=False),
    Column("home_region", String(ID_LENGTH), nullable=False),
    Column("event", String(32), nullable=False),
    Column("date", Date, nullable=False),
    Column("department_id", String(ID_LENGTH)),
    Column("detail", String(1000)),
    Column("pathway", String(16)),
    Column("source", String(1000), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
    Column("token_id", Integer),
)

# Offers of referral (workflow.referrals): a chair's accept becomes an offer the receiving
# department confirms or declines and the home region presents to the patient; only a confirmed
# and accepted offer is a firm booking. ``prior_*`` is the booking a decline restores.
referral_offers = Table(
    "referral_offers",
    metadata,
    Column("offer_id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, nullable=False),
    Column("patient_id", String(ID_LENGTH), nullable=False, index=True),
    Column("department_id", String(ID_LENGTH), nullable=False, index=True),
    Column("date", Date, nullable=False),
    Column("status", String(32), nullable=False),
    Column("prior_department_id", String(ID_LENGTH)),
    Column("prior_date", Date),
    Column("offered_at", UtcDateTime(), nullable=False),
    Column("offered_by", Integer),
    Column("department_answer_at", UtcDateTime()),
    Column("department_answer_by", Integer),
    Column("department_reason", String(2000)),
    Column("patient_answer_at", UtcDateTime()),
    Column("patient_answer_by", Integer),
    Column("patient_reason", String(2000)),
)
