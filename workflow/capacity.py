"""The one write path for declared capacity: a department declares its own free slots and caps.

A declaration is whole or partial. A whole one (a contract folder, ``POST /v1/capacity``)
replaces the department's declaration of each ISO week it touches. A partial one (a FHIR
capacity Bundle, later the declaration page) changes only the (department, service, day)
cells it gives: :func:`merge_declaration` completes it from the current declaration, and the
result is stored as a new version of each week it changes (history kept, as for any load).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, select

from capacity import calendar, frames
from capacity.errors import Forbidden
from capacity.frames import Dataset
from capacity.storage import schema
from capacity.storage.repository import LoadReport, Recorded
from workflow.records import dataset_of, store, validated_records

#: A capacity cell: department, collaboration, procedure and day.
_CELL = ("department_id", "collaboration", "procedure", "date")


def declare_capacity(
    bound: Engine,
    department_id: str | None,
    source: str,
    *,
    capacity: list[dict[str, Any]] | None = None,
    weekly_caps: list[dict[str, Any]] | None = None,
    recorded: Recorded | None = None,
    partial: bool = False,
) -> LoadReport:
    """Validate and store a department's capacity rows and weekly caps in one load.

    Each ISO week the rows touch supersedes the department's previous declaration of that
    week (history kept). ``partial``: the rows change only the (service, day) cells they give,
    every other cell of those weeks keeps its current value (:func:`merge_declaration`).
    Raises :class:`~capacity.errors.Forbidden` for another department's rows and
    :class:`~capacity.errors.Invalid` with ``capacity[i].column`` paths.
    ``recorded`` (the caller's audit entry) commits with the declaration.
    """
    given = {"capacity": capacity or [], "weekly_caps": weekly_caps or []}
    foreign = [
        {"field": f"{table}[{i}].department_id", "message": "not your department"}
        for table, records in given.items()
        for i, record in enumerate(records)
        if record.get("department_id") != department_id
    ]
    if foreign:
        raise Forbidden("a department may declare only its own capacity", errors=foreign)
    with bound.connect() as connection:
        frames_given = {
            table: validated_records(connection, table, records)
            for table, records in given.items()
            if records
        }
    admit = merged_declarations if partial else None
    return store(bound, dataset_of(source, **frames_given), admit=admit, recorded=recorded)


def merged_declarations(connection: Connection, dataset: Dataset) -> Dataset:
    """The dataset with its capacity completed by :func:`merge_declaration` (an admission for
    :func:`~capacity.storage.load_dataset`: it runs inside the load's transaction, after its
    lock, so no declaration can change between the read and the write)."""
    if dataset.capacity.empty:
        return dataset
    return replace(dataset, capacity=merge_declaration(connection, dataset.capacity))


def merge_declaration(connection: Connection, capacity: pd.DataFrame) -> pd.DataFrame:
    """A partial declaration completed to whole ones: the rows to store so that ``capacity``
    (typed capacity rows, :data:`capacity.frames.CAPACITY`) changes only the (department,
    collaboration, procedure, day) cells it gives.

    For every department and ISO week the rows touch, the current declaration's rows of the
    cells not given are kept unchanged; a given cell takes exactly the given rows (several
    rows of one cell add up, as in a file). Stored rows keep their order, a given cell's rows
    take its place, new cells follow in the given order. Weeks the rows do not touch are not
    returned (a load leaves them as they are).
    """
    given = frames.conform(capacity, frames.CAPACITY)[list(frames.CAPACITY)]
    if given.empty:
        return given
    weeks = calendar.weeks_of(given["date"])
    touched = set(zip(given["department_id"], weeks, strict=True))
    stored = _current_rows(connection, touched)
    if stored.empty:
        return given
    cells: dict[tuple[Any, ...], list[int]] = {}
    for position, cell in enumerate(given[list(_CELL)].itertuples(index=False, name=None)):
        cells.setdefault(cell, []).append(position)
    offset = len(stored)  # given rows follow the stored ones in ``both`` below
    order: list[int] = []
    placed: set[tuple[Any, ...]] = set()
    for position, cell in enumerate(stored[list(_CELL)].itertuples(index=False, name=None)):
        if cell not in cells:
            order.append(position)
        elif cell not in placed:
            placed.add(cell)
            order += [offset + p for p in cells[cell]]
    for cell, positions in cells.items():
        if cell not in placed:
            order += [offset + p for p in positions]
    both = pd.concat([stored[list(frames.CAPACITY)], given], ignore_index=True)
    return frames.conform(both.iloc[order], frames.CAPACITY)


def _current_rows(connection: Connection, touched: set[tuple[str, str]]) -> pd.DataFrame:
    """The current declarations' rows of the (department, week) pairs, in stored order."""
    d, c = schema.capacity_declarations, schema.capacity
    departments = sorted({department for department, _ in touched})
    weeks = sorted({week for _, week in touched})
    query = (
        select(*(c.c[column] for column in frames.CAPACITY), d.c.week)
        .join(d, d.c.declaration_id == c.c.declaration_id)
        .where(
            d.c.superseded.is_(False),
            d.c.department_id.in_(departments),
            d.c.week.in_(weeks),
        )
        .order_by(d.c.department_id, d.c.week, c.c.position)
    )
    result = connection.execute(query)
    rows = pd.DataFrame(result.all(), columns=list(result.keys()))
    if rows.empty:
        return frames.empty(frames.CAPACITY)
    keep = [
        (department, week) in touched
        for department, week in zip(rows["department_id"], rows["week"], strict=True)
    ]
    rows = rows[keep].drop(columns="week")
    rows["date"] = pd.to_datetime(rows["date"])
    return frames.conform(rows.reset_index(drop=True), frames.CAPACITY)
