"""The one write path for declared capacity: a department declares its own free slots and caps."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from capacity.errors import Forbidden
from capacity.storage.repository import LoadReport, Recorded
from workflow.records import dataset_of, store, validated_records


def declare_capacity(
    bound: Engine,
    department_id: str | None,
    source: str,
    *,
    capacity: list[dict[str, Any]] | None = None,
    weekly_caps: list[dict[str, Any]] | None = None,
    recorded: Recorded | None = None,
) -> LoadReport:
    """Validate and store a department's capacity rows and weekly caps in one load.

    Each ISO week the rows touch supersedes the department's previous declaration of that
    week (history kept). Raises :class:`~capacity.errors.Forbidden` for another department's
    rows and :class:`~capacity.errors.Invalid` with ``capacity[i].column`` paths.
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
        frames = {
            table: validated_records(connection, table, records)
            for table, records in given.items()
            if records
        }
    return store(bound, dataset_of(source, **frames), recorded=recorded)
