"""The workflow's tables (tokens, audit log, solve runs, proposals, decisions) and their queries.

The tables are declared in :mod:`capacity.storage.schema` beside the contract tables and
created by migration 0002, like every other table; this module holds their queries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import pandas as pd
import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy import Connection, Engine

from capacity.errors import NotFound
from capacity.pseudonym import redact, redact_json
from capacity.storage import schema
from workflow.access import Principal, patient_scope
from workflow.status import RunStatus

api_tokens = schema.api_tokens
audit_log = schema.audit_log
solve_runs = schema.solve_runs
run_proposals = schema.run_proposals
decisions = schema.decisions
scenario_runs = schema.scenario_runs
API_TABLES = (
    "api_tokens",
    "audit_log",
    "solve_runs",
    "run_proposals",
    "decisions",
    "scenario_runs",
)
Record = TypeVar("Record", bound=BaseModel)


def record(model: type[Record], row: sa.Row[Any]) -> Record:
    """A stored row as ``model``: the columns it names (hashes and leases stay behind)."""
    return model.model_validate({k: v for k, v in row._mapping.items() if k in model.model_fields})


def stored(
    conn: Connection, table: sa.Table, row_id: int, model: type[Record], what: str
) -> Record:
    """The row of ``table`` whose primary key is ``row_id`` as ``model``;
    :class:`~capacity.errors.NotFound` (``no <what> <id>``) when there is none."""
    [key] = table.primary_key.columns
    row = conn.execute(sa.select(table).where(key == row_id)).first()
    if row is None:
        raise NotFound(f"no {what} {row_id}")
    return record(model, row)


#: PostgreSQL advisory lock held by a decision's or a patch's transaction: accepts of one slot
#: serialise, and a solve can pause both (:func:`writes_paused`).
DECISION_LOCK = 7_340_200
#: The advisory lock every dataset load holds (capacity.storage.repository._LOAD_LOCK).
LOAD_LOCK = 7_340_101


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
    """Append one audit entry: who (a principal or None), what, and the before/after JSON.

    CPR-like runs in the path, the resource id and the JSON are redacted before they are
    stored (:mod:`capacity.pseudonym`): the audit log never holds one, whatever was sent.
    """
    connection.execute(
        audit_log.insert().values(
            at=now(),
            token_id=getattr(who, "token_id", None),
            token_name=redact_json(getattr(who, "name", None)),
            role=getattr(who, "role", None),
            method=method,
            path=redact(path),
            resource_id=redact(resource_id) if resource_id is not None else None,
            before=redact_json(before),
            after=redact_json(after),
        )
    )


def visible_patients(who: Principal) -> sa.ColumnElement[bool]:
    """The SQL condition on ``patients`` for the patients ``who`` may see
    (:func:`workflow.access.patient_scope`): a region its own, a chair its collaboration, a
    department those sent from or booked at it, the specialist unit and admin every one."""
    p = schema.patients.c
    scope = patient_scope(who)
    conditions: list[sa.ColumnElement[bool]] = []
    if scope.region is not None:
        conditions.append(p.home_region == scope.region)
    if scope.collaboration is not None:
        conditions.append(p.collaboration == scope.collaboration)
    if scope.department_id is not None:
        conditions.append(
            sa.or_(
                p.home_department_id == scope.department_id,
                p.booked_department_id == scope.department_id,
            )
        )
    return sa.and_(*conditions) if conditions else sa.true()


def end_token_sessions(connection: Connection, token_id: int) -> int:
    """Revoke every open session of token ``token_id``; how many there were.

    The review page already refuses sessions of a revoked token when it looks them up; this
    records the end in the table too, for a token revocation to call.
    """
    sessions = schema.web_sessions
    result = connection.execute(
        sessions.update()
        .where(sessions.c.token_id == token_id, sessions.c.revoked_at.is_(None))
        .values(revoked_at=now())
    )
    return int(result.rowcount or 0)


def rejected_pairs(connection: Connection) -> list[tuple[str, str]]:
    """Every (patient, department) pair a region or chair rejected: never proposed again."""
    rows = connection.execute(
        sa.select(decisions.c.patient_id, decisions.c.department_id)
        .where(decisions.c.decision == "reject")
        .distinct()
    )
    return [(row.patient_id, row.department_id) for row in rows]


def latest_run_id(connection: Connection) -> int | None:
    """The newest finished solve run's id (decisions are taken on it only)."""
    return connection.execute(
        sa.select(sa.func.max(solve_runs.c.run_id)).where(solve_runs.c.status == RunStatus.DONE)
    ).scalar()


def data_version(connection: Connection) -> str:
    """The store's data version: ``L<loads>-D<decisions>``, both append-only counts.

    Every change of patients or capacity is a load (posts, declarations, patches) and every
    booking or rejection a decision, each committed with the change it records; so two reads
    seeing the same version saw the same data. Counts, not maximum ids: a PostgreSQL sequence
    hands out ids before commit, so a smaller id can become visible after a larger one.
    """
    loads = connection.execute(sa.select(sa.func.count()).select_from(schema.loads)).scalar()
    decided = connection.execute(sa.select(sa.func.count()).select_from(decisions)).scalar()
    return f"L{loads}-D{decided}"


def take_write_lock(connection: Connection) -> None:
    """On SQLite, take the database's write lock now, as the transaction's first statement.

    A SQLite transaction that reads first and writes later cannot upgrade its lock while
    another writer waits, and fails at once ("database is locked"); one that writes first
    waits its turn (the busy timeout). PostgreSQL needs nothing here.
    """
    if connection.dialect.name == "sqlite":
        connection.execute(
            solve_runs.update().where(solve_runs.c.run_id == -1).values(status=RunStatus.DONE)
        )


def lock_decisions(connection: Connection) -> None:
    """Serialise decisions: the first statement of a decision's transaction (held to commit).

    PostgreSQL: a transaction-scoped advisory lock. SQLite: the write lock
    (:func:`take_write_lock`), taken before anything is read, so two transactions cannot both
    see the same free slot.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": DECISION_LOCK})
    else:
        take_write_lock(connection)


@contextmanager
def writes_paused(bound: Engine) -> Iterator[None]:
    """While inside, no write that moves the data version can commit (they wait).

    PostgreSQL: shared advisory locks against the exclusive ones loads, patches and decisions
    hold. SQLite: the database's write lock (in WAL mode readers still read). For a solve whose
    optimistic snapshot reads kept being overtaken by writes.
    """
    with bound.connect() as conn, conn.begin() as transaction:
        if conn.dialect.name == "postgresql":
            conn.execute(
                sa.text(
                    "SELECT pg_advisory_xact_lock_shared(:load), "
                    "pg_advisory_xact_lock_shared(:decision)"
                ),
                {"load": LOAD_LOCK, "decision": DECISION_LOCK},
            )
        else:
            take_write_lock(conn)
        try:
            yield
        finally:
            transaction.rollback()


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
