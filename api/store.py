"""The API's own tables (tokens, audit log, solve runs, proposals, decisions) and their queries.

The tables are declared in :mod:`capacity.storage.schema` beside the contract tables and
created by migration 0002, like every other table; this module holds the API's queries.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Connection

from capacity.storage import schema

api_tokens = schema.api_tokens
audit_log = schema.audit_log
solve_runs = schema.solve_runs
run_proposals = schema.run_proposals
decisions = schema.decisions
API_TABLES = ("api_tokens", "audit_log", "solve_runs", "run_proposals", "decisions")


def now() -> dt.datetime:
    """The current UTC time (stored with every write)."""
    return dt.datetime.now(dt.UTC)


def append_audit(
    connection: Connection,
    who: Any,
    method: str,
    path: str,
    resource_id: str | None,
    before: Any = None,
    after: Any = None,
) -> None:
    """Append one audit entry: who (a principal or None), what, and the before/after JSON."""
    connection.execute(
        audit_log.insert().values(
            at=now(),
            token_id=getattr(who, "token_id", None),
            token_name=getattr(who, "name", None),
            role=getattr(who, "role", None),
            method=method,
            path=path,
            resource_id=resource_id,
            before=before,
            after=after,
        )
    )


def rejected_pairs(connection: Connection) -> list[tuple[str, str]]:
    """Every (patient, department) pair a region or chair rejected: never proposed again."""
    rows = connection.execute(
        sa.select(decisions.c.patient_id, decisions.c.department_id)
        .where(decisions.c.decision == "reject")
        .distinct()
    )
    return [(row.patient_id, row.department_id) for row in rows]


def latest_run_id(connection: Connection) -> int | None:
    """The newest solve run's id (decisions are taken on it only)."""
    return connection.execute(sa.select(sa.func.max(solve_runs.c.run_id))).scalar()


HELD_KEY = ["department_id", "collaboration", "procedure", "date"]


def held_by_acceptances(connection: Connection) -> pd.DataFrame:
    """Declared free slots taken by proposals accepted through the API since their declaration.

    One row per department, service and day with ``held``: accepted patients still booked
    there, counted only when the accept came after the current declaration was loaded (a later
    declaration already leaves the booked slot out). A booking holds a slot of its own in the
    solve (docs/solver.md), so these are subtracted from the declared ``free_slots``.
    """
    p, c = schema.patients.c, schema.capacity.c
    d, loaded = schema.capacity_declarations.c, schema.loads.c
    query = (
        sa.select(
            c.department_id,
            c.collaboration,
            c.procedure,
            c.date,
            sa.func.count(sa.distinct(decisions.c.patient_id)).label("held"),
        )
        .select_from(decisions)
        .join(
            schema.patients,
            (p.patient_id == decisions.c.patient_id)
            & (p.booked_department_id == decisions.c.department_id)
            & (p.booked_date == decisions.c.date),
        )
        .join(
            schema.capacity,
            (c.department_id == decisions.c.department_id)
            & (c.date == decisions.c.date)
            & (c.collaboration == p.collaboration)
            & (c.procedure == p.procedure),
        )
        .join(schema.capacity_declarations, d.declaration_id == c.declaration_id)
        .join(schema.loads, loaded.load_id == d.load_id)
        .where(
            decisions.c.decision == "accept",
            d.superseded.is_(False),
            decisions.c.decided_at > loaded.loaded_at,
        )
        .group_by(c.department_id, c.collaboration, c.procedure, c.date)
    )
    rows = connection.execute(query).all()
    held = pd.DataFrame(rows, columns=[*HELD_KEY, "held"])
    held["date"] = pd.to_datetime(held["date"])
    return held.astype({k: "string" for k in HELD_KEY[:3]} | {"held": "int64"})


def declared_free_slots(
    connection: Connection, department_id: str, collaboration: str, procedure: str, day: dt.date
) -> int:
    """The current declaration's free slots at one department, service and day (0 if none)."""
    c, d = schema.capacity.c, schema.capacity_declarations.c
    query = (
        sa.select(sa.func.coalesce(sa.func.sum(c.free_slots), 0))
        .join(schema.capacity_declarations, d.declaration_id == c.declaration_id)
        .where(
            d.superseded.is_(False),
            c.department_id == department_id,
            c.collaboration == collaboration,
            c.procedure == procedure,
            c.date == day,
        )
    )
    return int(connection.execute(query).scalar_one())
