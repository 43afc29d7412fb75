"""Pathway events in the store: appended once each, read back per patient, region or period.

Each event is keyed by a hash of its content (patient, collaboration, procedure, event, date,
department, detail, pathway), so importing a file again — or the same registration from two
sources — adds nothing. Events are never updated or deleted: corrections are new events.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any, Final, cast

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite

from capacity import frames
from capacity.pathways import EVENTS, EVENTS_OPTIONAL
from capacity.storage import schema
from capacity.storage.database import engine_for, upgrade_database

#: Rows inserted per statement (keeps each statement's parameter count modest on SQLite).
BATCH: Final = 2_000
_KEY_COLUMNS: Final = (*EVENTS, *EVENTS_OPTIONAL)
_SPEC: Final = EVENTS | EVENTS_OPTIONAL


@dataclass(frozen=True)
class EventCounts:
    """What an import of events changed: new events, and events already stored."""

    inserted: int
    already_stored: int


def event_keys(events: pd.DataFrame) -> pd.Series:
    """The content hash of each event (its idempotency key)."""
    parts = []
    for column in _KEY_COLUMNS:
        values = events[column] if column in events else pd.Series(pd.NA, index=events.index)
        if column == "date":
            values = pd.to_datetime(values).dt.strftime("%Y-%m-%d")
        parts.append(values.astype(object).where(values.notna(), "").astype(str))
    text = "\x1f" + parts[0].str.cat(pd.concat(parts[1:], axis=1), sep="\x1f")
    return pd.Series(
        [hashlib.sha256(value.encode()).hexdigest() for value in text], index=events.index
    )


def store_events(
    url_or_engine: str | Engine | None,
    events: pd.DataFrame,
    source: str,
    *,
    token_id: int | None = None,
) -> EventCounts:
    """Append validated events (:func:`capacity.pathways.read_events`) in one transaction."""
    with engine_for(url_or_engine) as engine:
        upgrade_database(engine)
        with engine.begin() as connection:
            return append_events(connection, events, source, token_id=token_id)


def append_events(
    connection: sa.Connection,
    events: pd.DataFrame,
    source: str,
    *,
    token_id: int | None = None,
) -> EventCounts:
    """Append events inside the caller's transaction (an event already stored is skipped)."""
    keys = event_keys(events)
    unique = ~keys.duplicated()
    now = dt.datetime.now(dt.UTC)
    rows = events.loc[unique, list(_SPEC)].assign(date=lambda f: pd.to_datetime(f["date"]).dt.date)
    rows = rows.astype(object).where(rows.notna(), None)
    records: list[dict[str, Any]] = (
        cast(Any, rows)
        .assign(
            event_key=keys[unique],
            source=source[:1000],
            recorded_at=now,
            token_id=token_id,
        )
        .to_dict("records")
    )
    before = _count(connection)
    insert = (
        postgresql.insert(schema.pathway_events)
        if connection.dialect.name == "postgresql"
        else sqlite.insert(schema.pathway_events)
    ).on_conflict_do_nothing(index_elements=["event_key"])
    for start in range(0, len(records), BATCH):
        connection.execute(insert, records[start : start + BATCH])
    inserted = _count(connection) - before
    return EventCounts(inserted=inserted, already_stored=len(events) - inserted)


def event_frame(records: list[dict[str, object]]) -> pd.DataFrame:
    """Events given as dicts (the workflow's own steps) as a typed events frame."""
    frame = pd.DataFrame.from_records(records, columns=list(_SPEC))
    frame["date"] = pd.to_datetime(frame["date"])
    return frames.conform(frame, _SPEC)


def _count(connection: sa.Connection) -> int:
    return int(
        connection.execute(
            sa.select(sa.func.count()).select_from(schema.pathway_events)
        ).scalar_one()
    )


def read_events(
    url_or_engine: str | Engine | None,
    *,
    patient_id: str | None = None,
    home_region: str | None = None,
    collaboration: str | None = None,
) -> pd.DataFrame:
    """Stored events (optionally one patient's, one region's or one collaboration's), in the
    order they were recorded, with ``recorded_at`` and ``source``."""
    e = schema.pathway_events.c
    query = sa.select(*(e[c] for c in _SPEC), e.source, e.recorded_at, e.token_id).order_by(
        e.event_id
    )
    for column, value in (
        ("patient_id", patient_id),
        ("home_region", home_region),
        ("collaboration", collaboration),
    ):
        if value is not None:
            query = query.where(e[column] == value)
    with engine_for(url_or_engine) as engine:
        upgrade_database(engine)  # a new database has no events yet, not a missing table
        with engine.connect() as connection:
            rows = connection.execute(query).all()
    frame = pd.DataFrame(rows, columns=[*_SPEC, "source", "recorded_at", "token_id"])
    frame["date"] = pd.to_datetime(frame["date"])
    typed = frames.conform(frame[list(_SPEC)], _SPEC)
    return typed.assign(source=frame["source"], recorded_at=frame["recorded_at"])
