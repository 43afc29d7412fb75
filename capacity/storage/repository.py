"""Store validated datasets and read consistent snapshots back.

A load runs in one transaction: departments, services, patients and weekly caps are upserted by
their keys; capacity rows are grouped into one declaration per department and ISO week, and a
declaration whose content differs from the current version becomes a new version that supersedes
it. A load that changes nothing is rolled back and leaves no trace.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final, cast

import numpy as np
import pandas as pd
from sqlalchemy import (
    Connection,
    Engine,
    Select,
    Table,
    and_,
    bindparam,
    func,
    insert,
    select,
    text,
    update,
)

from capacity import calendar, frames
from capacity.errors import Invalid
from capacity.frames import Dataset
from capacity.io import read_folder
from capacity.pseudonym import redact
from capacity.rules import load_rules
from capacity.storage import schema
from capacity.storage.database import engine_for, upgrade_database
from capacity.validation import (
    DEPARTMENT_CODES,
    FIRST_DATE,
    LAST_DATE,
    text_table,
    validate_tables,
)

#: Weeks of capacity a snapshot filtered by week returns: the week itself and the five after it.
HORIZON_WEEKS: Final = 6
#: Problems listed in a :class:`LoadRejected` message before the rest are only counted.
PROBLEMS_SHOWN: Final = 20
_LOAD_LOCK: Final = 7_340_101  # PostgreSQL advisory lock id that serialises loads
#: PostgreSQL advisory lock a decision's transaction holds (api.store.DECISION_LOCK): a load of
#: patients takes it too, so a booking accepted meanwhile cannot be overwritten unseen.
_DECISION_LOCK: Final = 7_340_200
_FIRST_DAY: Final = pd.Timestamp(FIRST_DATE)
_LAST_DAY: Final = pd.Timestamp(LAST_DATE)


class LoadRejected(ValueError):
    """A dataset refers to departments or services that neither it nor the database holds."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        shown = "\n".join(f"  {problem}" for problem in self.problems[:PROBLEMS_SHOWN])
        more = len(self.problems) - PROBLEMS_SHOWN
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(f"nothing stored, {len(self.problems)} problem(s):\n{shown}{tail}")


@dataclass(frozen=True)
class UpsertCounts:
    """Rows of one keyed table that a load inserted, updated or found identical."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class DeclarationCounts:
    """Declarations (department x ISO week) that a load added, superseded or found identical."""

    new: int = 0
    superseded: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class LoadConflict:
    """A value of the load that was not stored because the store's value stands (a booking
    made by a decision); ``field`` is its path, e.g. ``patients[3].booked_department_id``."""

    field: str
    message: str


@dataclass(frozen=True)
class LoadReport:
    """What one load did; ``load_id`` is None when nothing changed (and nothing was recorded).

    ``conflicts`` lists the loaded values kept out because a stored value stands (bookings
    made by a decision: only a decision changes them).
    """

    source: str
    load_id: int | None
    departments: UpsertCounts
    services: UpsertCounts
    patients: UpsertCounts
    weekly_caps: UpsertCounts
    declarations: DeclarationCounts
    conflicts: tuple[LoadConflict, ...] = field(default=())

    @property
    def changed(self) -> bool:
        """True when the load wrote anything."""
        upserts = (self.departments, self.services, self.patients, self.weekly_caps)
        return any(c.inserted or c.updated for c in upserts) or self.declarations.new > 0

    def rows(self) -> list[tuple[str, int, int, int]]:
        """(table, inserted or new, updated or superseded, unchanged) per table, for display."""
        upserts = {
            "departments": self.departments,
            "services": self.services,
            "patients": self.patients,
            "weekly_caps": self.weekly_caps,
        }
        d = self.declarations
        return [(name, c.inserted, c.updated, c.unchanged) for name, c in upserts.items()] + [
            ("capacity_declarations", d.new, d.superseded, d.unchanged)
        ]


@dataclass(frozen=True)
class _KeyedTable:
    """A contract table that is upserted by its key columns."""

    name: str
    table: Table
    spec: dict[str, str]
    key: tuple[str, ...]
    #: Columns a load may leave out: a frame without one keeps the stored values (a
    #: departments.csv without ``sor_code`` does not erase the stored SOR codes).
    optional: tuple[str, ...] = ()

    @property
    def values(self) -> list[str]:
        return [column for column in self.spec if column not in self.key]


_SERVICE_KEY: Final = ("department_id", "collaboration", "procedure")
_DEPARTMENTS: Final = _KeyedTable(
    "departments",
    schema.departments,
    frames.DEPARTMENTS | DEPARTMENT_CODES,
    ("department_id",),
    tuple(DEPARTMENT_CODES),
)
_SERVICES: Final = _KeyedTable("services", schema.services, frames.SERVICES, _SERVICE_KEY)
_PATIENTS: Final = _KeyedTable(
    "patients", schema.patients, frames.PATIENTS | frames.PATIENT_CLOCKS, ("patient_id",)
)
_WEEKLY_CAPS: Final = _KeyedTable(
    "weekly_caps", schema.weekly_caps, frames.WEEKLY_CAPS, (*_SERVICE_KEY, "week")
)


def load_folder(url_or_engine: str | Engine | None, folder: str | Path) -> LoadReport:
    """Read and validate a contract folder, then store it; an invalid folder stores nothing."""
    return load_dataset(url_or_engine, read_folder(folder))


#: Called inside a load's transaction before anything is written: checks the dataset against
#: the stored rows (who owns them) and returns the dataset to store (perhaps completed from them).
Admission = Callable[[Connection, Dataset], Dataset]
#: Called with the load's report inside its transaction, after the write: an audit entry (the
#: workflow's) commits together with the change it records, or not at all.
Recorded = Callable[[Connection, "LoadReport"], None]


def load_dataset(
    url_or_engine: str | Engine | None,
    dataset: Dataset,
    *,
    admit: Admission | None = None,
    recorded: Recorded | None = None,
) -> LoadReport:
    """Store a validated dataset in one transaction and report what changed.

    ``admit`` (the workflow's ownership and validation rules for one caller) runs inside the
    transaction, after the load lock, so what it read cannot change before the write. A
    patient's booking made by a decision is kept whatever the dataset says about it (each such
    row is reported in ``conflicts``).

    Raises :class:`LoadRejected` (and stores nothing) when the dataset refers to departments or
    services unknown to both the dataset and the database; any other error (one ``admit``
    raises included) also rolls back. ``recorded`` runs in the same transaction after the
    write (a load that changes nothing is rolled back and ``recorded`` runs on its own).
    """
    loaded_at = dt.datetime.now(dt.UTC)
    source = dataset.source[:1000]
    with engine_for(url_or_engine) as engine:
        upgrade_database(engine)
        with engine.connect() as connection:
            with connection.begin() as transaction:
                report = _write(connection, dataset, admit, loaded_at, source)
                if report.changed:
                    if recorded is not None:
                        recorded(connection, report)
                else:
                    transaction.rollback()
            if not report.changed:
                report = replace(report, load_id=None)
                if recorded is not None:
                    with connection.begin():
                        recorded(connection, report)
    return report


def _write(
    connection: Connection,
    dataset: Dataset,
    admit: Admission | None,
    loaded_at: dt.datetime,
    source: str,
) -> LoadReport:
    """The load's writes inside its transaction, after the load (and decision) locks."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOAD_LOCK})
        if admit is not None or not dataset.patients.empty:
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _DECISION_LOCK})
    load_id = connection.execute(
        insert(schema.loads)
        .values(loaded_at=loaded_at, source=source)
        .returning(schema.loads.c.load_id)
    ).scalar_one()
    if admit is not None:
        dataset = admit(connection, dataset)
    departments = _upsert(connection, _DEPARTMENTS, dataset.departments, load_id)
    _check_department_codes(connection)
    _check_references(connection, dataset)
    services = _upsert(connection, _SERVICES, dataset.services, load_id)
    declarations = _store_declarations(connection, dataset.capacity, load_id, loaded_at)
    incoming, conflicts = _keep_decided_bookings(connection, dataset.patients)
    patients = _upsert(connection, _PATIENTS, incoming, load_id)
    weekly_caps = _upsert(connection, _WEEKLY_CAPS, dataset.weekly_caps, load_id)
    return LoadReport(
        source=source,
        load_id=load_id,
        departments=departments,
        services=services,
        patients=patients,
        weekly_caps=weekly_caps,
        declarations=declarations,
        conflicts=conflicts,
    )


def read_snapshot(
    url_or_engine: str | Engine | None = None,
    *,
    week: str | None = None,
    collaboration: str | None = None,
    as_of: dt.datetime | None = None,
) -> Dataset:
    """The stored dataset as one consistent snapshot, in the frames :func:`read_folder` returns.

    Capacity comes from the current declaration of each department and ISO week (the newest
    version, or the newest loaded at or before the timezone-aware ``as_of``). ``week``
    (``YYYY-Www``) keeps capacity and weekly caps of that week and the five after it;
    ``collaboration`` keeps that collaboration's services, capacity, patients and caps, and the
    departments that offer it or that those patients refer to. Rows come in file order (their
    position in the load that last wrote them, ties broken by load), so a loaded folder, or a
    folder loaded again after edits, round-trips exactly.
    """
    weeks = calendar.horizon(week, HORIZON_WEEKS) if week else None
    with engine_for(url_or_engine) as engine:
        upgrade_database(engine)
        with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                capacity = _snapshot_rows(connection, _capacity_query(as_of, weeks, collaboration))
                rows = {
                    keyed.name: _snapshot_rows(
                        connection, _keyed_query(keyed, collaboration, weeks)
                    )
                    for keyed in (_DEPARTMENTS, _SERVICES, _PATIENTS, _WEEKLY_CAPS)
                }
        source = engine.url.render_as_string(hide_password=True)
    check_stored(rows["patients"], capacity, rows["weekly_caps"])
    capacity = frames.conform(capacity, _spec_of(list(capacity.columns)))
    tables = {
        name: frames.conform(frame, _spec_of(list(frame.columns))) for name, frame in rows.items()
    }
    departments = _without_empty_codes(tables["departments"])
    if collaboration is not None:
        patients = tables["patients"]
        referred = pd.concat(
            [
                tables["services"]["department_id"],
                patients["home_department_id"],
                patients["booked_department_id"].dropna(),
            ]
        )
        departments = departments[departments["department_id"].isin(referred)]
    return Dataset(
        departments=departments.reset_index(drop=True),
        services=tables["services"],
        capacity=capacity,
        patients=tables["patients"],
        weekly_caps=tables["weekly_caps"],
        source=source,
    )


def declaration_history(
    url_or_engine: str | Engine | None = None, *, department_id: str | None = None
) -> pd.DataFrame:
    """Every stored declaration version, oldest first per department and week.

    Columns: department_id, week, version, loaded_at, load_id, superseded, superseded_at,
    rows (capacity rows in the version), free_slots (their sum), content_hash.
    """
    d, c = schema.capacity_declarations, schema.capacity
    sizes = (
        select(
            c.c.declaration_id,
            func.count().label("rows"),
            func.sum(c.c.free_slots).label("free_slots"),
        )
        .group_by(c.c.declaration_id)
        .subquery()
    )
    query = (
        select(
            d.c.department_id,
            d.c.week,
            d.c.version,
            schema.loads.c.loaded_at,
            d.c.load_id,
            d.c.superseded,
            d.c.superseded_at,
            sizes.c.rows,
            sizes.c.free_slots,
            d.c.content_hash,
        )
        .join(schema.loads, schema.loads.c.load_id == d.c.load_id)
        .join(sizes, sizes.c.declaration_id == d.c.declaration_id)
        .order_by(d.c.department_id, d.c.week, d.c.version)
    )
    if department_id is not None:
        query = query.where(d.c.department_id == department_id)
    with engine_for(url_or_engine) as engine:
        upgrade_database(engine)
        with engine.connect() as connection:
            result = connection.execute(query)
            history = pd.DataFrame(result.all(), columns=list(result.keys()))
    return history.astype({"rows": "int64", "free_slots": "int64", "superseded": "bool"})


def table_counts(url_or_engine: str | Engine | None = None) -> dict[str, int]:
    """Rows in each of kapacitet's tables (loads and declaration versions included)."""
    with engine_for(url_or_engine) as engine:
        upgrade_database(engine)
        with engine.connect() as connection:
            return {
                name: connection.execute(select(func.count()).select_from(table)).scalar_one()
                for name, table in schema.metadata.tables.items()
            }


def _capacity_query(
    as_of: dt.datetime | None, weeks: list[str] | None, collaboration: str | None
) -> Select[Any]:
    """Capacity rows of the current declarations, in file order."""
    d, c = schema.capacity_declarations, schema.capacity
    if as_of is None:
        current = select(d.c.declaration_id).where(d.c.superseded.is_(False))
    else:
        newest_first = func.row_number().over(
            partition_by=(d.c.department_id, d.c.week), order_by=d.c.version.desc()
        )
        ranked = (
            select(d.c.declaration_id, newest_first.label("newest"))
            .join(schema.loads, schema.loads.c.load_id == d.c.load_id)
            .where(schema.loads.c.loaded_at <= as_of)
            .subquery()
        )
        current = select(ranked.c.declaration_id).where(ranked.c.newest == 1)
    query = (
        select(*(c.c[column] for column in frames.CAPACITY))
        .join(d, d.c.declaration_id == c.c.declaration_id)
        .where(c.c.declaration_id.in_(current))
        .order_by(c.c.position, d.c.load_id)
    )
    if weeks is not None:
        query = query.where(d.c.week.in_(weeks))
    if collaboration is not None:
        query = query.where(c.c.collaboration == collaboration)
    return query


def _keyed_query(
    keyed: _KeyedTable, collaboration: str | None, weeks: list[str] | None
) -> Select[Any]:
    """A keyed table's rows in file order, filtered where the table has the column."""
    table = keyed.table
    query = select(*(table.c[column] for column in keyed.spec)).order_by(
        table.c.position, table.c.load_id
    )
    if collaboration is not None and "collaboration" in table.c:
        query = query.where(table.c.collaboration == collaboration)
    if weeks is not None and "week" in table.c:
        query = query.where(table.c.week.in_(weeks))
    return query


def check_stored(patients: pd.DataFrame, capacity: pd.DataFrame, weekly_caps: pd.DataFrame) -> None:
    """Raise :class:`~capacity.errors.Invalid` naming each stored row a solve cannot use.

    The stored rows (as read, Python values) are checked by the contract validator, exactly as
    a folder is, so a row written around it (by hand, or before a check existed) gives a
    message naming the patient or department and the field, never a crash in the solve.
    """
    tables = {
        name: text_table(name, frame)
        for name, frame in (
            ("patients", patients),
            ("capacity", capacity),
            ("weekly_caps", weekly_caps),
        )
    }
    _, problems = validate_tables(tables, load_rules())
    if not problems:
        return
    errors = [
        _stored_problem(problem.file, problem.row, problem.column, problem.message, tables)
        for problem in problems
    ]
    more = f" (and {len(errors) - 1} more problem(s) in the stored data)" if len(errors) > 1 else ""
    raise Invalid(errors[0]["message"] + more, errors=errors)


def _stored_problem(
    table: str, row: int | str | None, column: str | None, message: str, tables: dict[str, Any]
) -> dict[str, str]:
    """A stored row's problem as a field error naming the row by its key."""
    frame = tables[table].frame
    position = int(row[2:-1]) if isinstance(row, str) and row.startswith("$[") else None
    if position is None:
        return {"field": table, "message": f"stored {table}: {message}"}
    field_name = f"{table}[{position}].{column}" if column else f"{table}[{position}]"
    if table == "patients":
        patient_id = redact(str(frame["patient_id"].iloc[position]))
        described = (
            f"stored patient {patient_id!r}: {message}; correct it with "
            f"PATCH /v1/patients/{patient_id} or upload the patient again"
        )
    else:
        department_id = redact(str(frame["department_id"].iloc[position]))
        described = f"stored {table} of department {department_id!r}: {message}; declare it again"
    return {"field": field_name, "message": described}


def _rows(connection: Connection, query: Select[Any]) -> pd.DataFrame:
    """The query's rows as a frame of the values the driver returned (not yet conformed)."""
    result = connection.execute(query)
    return pd.DataFrame(result.all(), columns=list(result.keys()))


def _snapshot_rows(connection: Connection, query: Select[Any]) -> pd.DataFrame:
    """:func:`_rows` for the snapshot: the same frame, built from plain tuples (a frame built
    from SQLAlchemy rows probes each row for attributes, which took half the read)."""
    result = connection.execute(query)
    return pd.DataFrame([tuple(row) for row in result], columns=list(result.keys()))


def _read(connection: Connection, query: Select[Any]) -> pd.DataFrame:
    """The query's rows as a frame conformed to the spec its columns form.

    A stored date outside the calendar kapacitet accepts (written around the validator, e.g.
    9999-12-31) reads as missing here, so a load can still overwrite it; :func:`check_stored`
    reports it.
    """
    frame = _rows(connection, query)
    spec = _spec_of(list(frame.columns))
    for name, dtype in spec.items():
        if dtype == frames.DATE:
            dates = pd.to_datetime(frame[name], errors="coerce")
            frame[name] = dates.where(dates.between(_FIRST_DAY, _LAST_DAY))
    return frames.conform(frame, spec)


def _spec_of(columns: list[str]) -> dict[str, str]:
    every = (
        frames.DEPARTMENTS
        | DEPARTMENT_CODES
        | frames.SERVICES
        | frames.CAPACITY
        | frames.PATIENTS
        | frames.PATIENT_CLOCKS
        | frames.WEEKLY_CAPS
    )
    return {column: every[column] for column in columns}


def _records(frame: pd.DataFrame, spec: dict[str, str]) -> list[dict[str, Any]]:
    """The frame's spec columns as Python values (None for missing) that every driver binds."""
    columns = {}
    for name, dtype in spec.items():
        series = frame[name]
        values = series.dt.date.astype(object) if dtype == frames.DATE else series.astype(object)
        columns[name] = values.where(series.notna(), None)
    return cast(list[dict[str, Any]], pd.DataFrame(columns, index=frame.index).to_dict("records"))


def decided_bookings(connection: Connection) -> pd.DataFrame:
    """Stored bookings made by a decision: the patient's latest accept names its department
    and date. Columns patient_id, decision_id, booked_department_id, booked_date."""
    d, p = schema.decisions.c, schema.patients.c
    latest = (
        select(func.max(d.decision_id).label("decision_id"))
        .where(d.decision == "accept")
        .group_by(d.patient_id)
        .subquery()
    )
    query = (
        select(d.patient_id, d.decision_id, p.booked_department_id, p.booked_date)
        .join(latest, latest.c.decision_id == d.decision_id)
        .join(
            schema.patients,
            and_(
                p.patient_id == d.patient_id,
                p.booked_department_id == d.department_id,
                p.booked_date == d.date,
            ),
        )
    )
    booked = _rows(connection, query)
    booked["booked_date"] = pd.to_datetime(booked["booked_date"])
    return booked.astype({"patient_id": frames.STR, "booked_department_id": frames.STR})


def _keep_decided_bookings(
    connection: Connection, patients: pd.DataFrame
) -> tuple[pd.DataFrame, tuple[LoadConflict, ...]]:
    """The incoming patients with each booking made by a decision restored where the load
    omits or contradicts it, and one conflict per such patient."""
    if patients.empty:
        return patients, ()
    decided = decided_bookings(connection)
    if decided.empty:
        return patients, ()
    incoming = patients.reset_index(drop=True)
    merged = incoming[["patient_id", "booked_department_id", "booked_date"]].merge(
        decided, on="patient_id", how="left", suffixes=("", "_decided")
    )
    has_decision = merged["decision_id"].notna().to_numpy()
    same = (
        merged["booked_department_id"].eq(merged["booked_department_id_decided"]).fillna(False)
        & merged["booked_date"].eq(merged["booked_date_decided"]).fillna(False)
    ).to_numpy(dtype=bool)
    differs = np.flatnonzero(has_decision & ~same)
    if not len(differs):
        return patients, ()
    kept = incoming.copy()
    for column in ("booked_department_id", "booked_date"):
        kept.loc[differs, column] = merged.loc[differs, f"{column}_decided"].to_numpy()
    conflicts = tuple(
        LoadConflict(f"patients[{position}].booked_department_id", _kept_message(row))
        for position, row in zip(differs, merged.iloc[differs].itertuples(), strict=True)
    )
    return kept, conflicts


def _kept_message(row: Any) -> str:
    """Why a patient's loaded booking was not stored: a decision made the stored one."""
    given = "has no booking" if pd.isna(row.booked_department_id) else "books another slot"
    return (
        f"kept the booking made by decision {int(row.decision_id)} at "
        f"{row.booked_department_id_decided} on {row.booked_date_decided:%Y-%m-%d} (the upload"
        f" {given}); change it with a decision"
    )


def _upsert(
    connection: Connection, keyed: _KeyedTable, incoming: pd.DataFrame, load_id: int
) -> UpsertCounts:
    """Insert new rows and update changed ones of a keyed table; identical rows stay untouched."""
    if incoming.empty:
        return UpsertCounts()
    left_out = {column for column in keyed.optional if column not in incoming.columns}
    compared = [column for column in keyed.values if column not in left_out]
    incoming = frames.conform(incoming, keyed.spec)[list(keyed.spec)]
    stored = _read(connection, _keyed_query(keyed, None, None))
    merged = incoming.merge(
        stored, on=list(keyed.key), how="left", suffixes=("", "_stored"), indicator=True
    )
    is_new = merged["_merge"].eq("left_only")
    differs = pd.Series(False, index=merged.index)
    for column in compared:
        ours, theirs = merged[column], merged[f"{column}_stored"]
        same = (ours == theirs).fillna(False).astype(bool) | (ours.isna() & theirs.isna())
        differs |= ~same
    is_changed = differs & ~is_new
    positions = pd.Series(range(len(incoming)), index=incoming.index)
    if is_new.any():
        rows = _records(incoming[is_new], keyed.spec)
        for row, position in zip(rows, positions[is_new], strict=True):
            row.update(load_id=load_id, position=position)
        connection.execute(insert(keyed.table), rows)
    if is_changed.any():
        _update(connection, keyed, incoming[is_changed], positions[is_changed], load_id, compared)
    inserted, updated = int(is_new.sum()), int(is_changed.sum())
    return UpsertCounts(inserted, updated, len(incoming) - inserted - updated)


def _update(
    connection: Connection,
    keyed: _KeyedTable,
    changed: pd.DataFrame,
    positions: pd.Series,
    load_id: int,
    columns: list[str],
) -> None:
    """Overwrite the changed rows' ``columns`` (executemany, one statement)."""
    table = keyed.table
    statement = (
        update(table)
        .where(and_(*(table.c[k] == bindparam(f"key_{k}") for k in keyed.key)))
        .values({c: bindparam(f"new_{c}") for c in [*columns, "load_id", "position"]})
    )
    spec = {name: keyed.spec[name] for name in [*keyed.key, *columns]}
    rows = [
        {f"key_{k}" if k in keyed.key else f"new_{k}": v for k, v in row.items()}
        | {"new_load_id": load_id, "new_position": position}
        for row, position in zip(_records(changed, spec), positions, strict=True)
    ]
    connection.execute(statement, rows)


def _content_hashes(capacity: pd.DataFrame) -> pd.DataFrame:
    """One row per department and week with the SHA-256 of its rows, independent of row order."""
    lines = (
        capacity["collaboration"]
        + "|"
        + capacity["procedure"]
        + "|"
        + capacity["date"].dt.strftime("%Y-%m-%d")
        + "|"
        + capacity["free_slots"].astype(str)
    )
    ordered = capacity.assign(line=lines).sort_values(["department_id", "week", "line"])
    texts = ordered.groupby(["department_id", "week"], sort=True)["line"].agg("\n".join)
    hashes = texts.map(lambda content: hashlib.sha256(content.encode()).hexdigest())
    return hashes.rename("content_hash").reset_index()


def _store_declarations(
    connection: Connection, capacity: pd.DataFrame, load_id: int, loaded_at: dt.datetime
) -> DeclarationCounts:
    """Add a version for each department and week whose rows differ from the current version."""
    if capacity.empty:
        return DeclarationCounts()
    d = schema.capacity_declarations
    capacity = capacity.assign(
        week=calendar.weeks_of(capacity["date"]), position=range(len(capacity))
    )
    declared = _content_hashes(capacity)
    result = connection.execute(
        select(
            d.c.declaration_id,
            d.c.department_id,
            d.c.week,
            d.c.version,
            d.c.content_hash.label("current_hash"),
        ).where(d.c.superseded.is_(False))
    )
    current = pd.DataFrame(result.all(), columns=list(result.keys()))
    current = current.astype({"department_id": frames.STR, "week": frames.STR})
    merged = declared.merge(current, on=["department_id", "week"], how="left")
    is_unchanged = merged["content_hash"].eq(merged["current_hash"]).fillna(False).astype(bool)
    fresh = merged[~is_unchanged]
    superseded_ids = [int(i) for i in fresh["declaration_id"].dropna()]
    if superseded_ids:
        connection.execute(
            update(d)
            .where(d.c.declaration_id.in_(superseded_ids))
            .values(superseded=True, superseded_at=loaded_at)
        )
    if not fresh.empty:
        versions = fresh["version"].fillna(0).astype("int64") + 1
        connection.execute(
            insert(d),
            [
                {
                    "department_id": department_id,
                    "week": week,
                    "version": int(version),
                    "content_hash": content_hash,
                    "load_id": load_id,
                    "superseded": False,
                }
                for department_id, week, version, content_hash in zip(
                    fresh["department_id"],
                    fresh["week"],
                    versions,
                    fresh["content_hash"],
                    strict=True,
                )
            ],
        )
        _store_capacity_rows(connection, capacity, load_id)
    return DeclarationCounts(
        new=len(fresh), superseded=len(superseded_ids), unchanged=int(is_unchanged.sum())
    )


def _store_capacity_rows(connection: Connection, capacity: pd.DataFrame, load_id: int) -> None:
    """Insert the capacity rows of the declarations this load created."""
    d = schema.capacity_declarations
    result = connection.execute(
        select(d.c.declaration_id, d.c.department_id, d.c.week).where(d.c.load_id == load_id)
    )
    created = pd.DataFrame(result.all(), columns=list(result.keys()))
    created = created.astype({"department_id": frames.STR, "week": frames.STR})
    rows = capacity.merge(created, on=["department_id", "week"], how="inner")
    records = _records(rows, frames.CAPACITY)
    for record, declaration_id, position in zip(
        records, rows["declaration_id"], rows["position"], strict=True
    ):
        record.update(declaration_id=int(declaration_id), position=int(position))
    connection.execute(insert(schema.capacity), records)


def _without_empty_codes(departments: pd.DataFrame) -> pd.DataFrame:
    """The departments without the optional code columns nobody filled in (so a folder loaded
    without them reads back exactly as :func:`read_folder` gives it)."""
    empty = [c for c in DEPARTMENT_CODES if c in departments and departments[c].isna().all()]
    return departments.drop(columns=empty)


def _check_department_codes(connection: Connection) -> None:
    """Raise :class:`LoadRejected` when two stored departments share an SOR code or CVR
    number after the load's upsert (FHIR finds a department by its SOR code)."""
    table = schema.departments
    problems = []
    for column in DEPARTMENT_CODES:
        query = (
            select(table.c[column], func.count())
            .where(table.c[column].is_not(None))
            .group_by(table.c[column])
            .having(func.count() > 1)
        )
        for code, count in connection.execute(query):
            holders = connection.execute(
                select(table.c.department_id)
                .where(table.c[column] == code)
                .order_by(table.c.department_id)
            ).scalars()
            problems.append(
                f"departments.csv: {column} {code!r} is held by {count} departments "
                f"({', '.join(holders)}); a code names one department"
            )
    if problems:
        raise LoadRejected(problems)


def _check_references(connection: Connection, dataset: Dataset) -> None:
    """Raise :class:`LoadRejected` for rows naming departments or services nobody declared."""
    known = set(connection.execute(select(schema.departments.c.department_id)).scalars())
    problems: list[str] = []
    for table, frame, column in (
        ("services", dataset.services, "department_id"),
        ("capacity", dataset.capacity, "department_id"),
        ("patients", dataset.patients, "home_department_id"),
        ("patients", dataset.patients, "booked_department_id"),
        ("weekly_caps", dataset.weekly_caps, "department_id"),
    ):
        unknown = frame.loc[frame[column].notna() & ~frame[column].isin(known), column]
        problems += [
            f"{table}.csv: {column} {value!r} ({count} row(s)) is in neither departments.csv "
            "nor the database"
            for value, count in unknown.value_counts(sort=False).sort_index().items()
        ]
    stored = _read(connection, select(*(schema.services.c[k] for k in _SERVICE_KEY)))
    offered = pd.concat([stored, dataset.services[list(_SERVICE_KEY)]]).drop_duplicates()
    for table, frame in (("capacity", dataset.capacity), ("weekly_caps", dataset.weekly_caps)):
        rows = frame[list(_SERVICE_KEY)].merge(offered, how="left", indicator=True)
        missing = rows.loc[rows["_merge"] == "left_only", list(_SERVICE_KEY)].drop_duplicates()
        problems += [
            f"{table}.csv: department {department_id!r} offers no {collaboration}/{procedure} "
            "in services.csv or the database"
            for department_id, collaboration, procedure in missing.itertuples(index=False)
        ]
    if problems:
        raise LoadRejected(problems)
