"""Posted contract records checked exactly as a contract folder is, against the stored rows."""

from __future__ import annotations

from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from capacity import frames
from capacity.errors import Invalid
from capacity.frames import Dataset
from capacity.rules import load_rules
from capacity.storage import schema
from capacity.storage.repository import (
    Admission,
    LoadRejected,
    LoadReport,
    Recorded,
    load_dataset,
)
from capacity.validation import Problem, RawTable, text_table, validate_tables


def validated_records(
    connection: Connection, table: str, records: list[dict[str, Any]]
) -> pd.DataFrame:
    """Records of one contract table as its typed frame, validated against the stored
    departments and services exactly as a file would be.

    Raises :class:`~capacity.errors.Invalid` with an error per problem at ``table[i].column``.
    """
    tables = {
        "departments": _stored_table(connection, schema.departments, "departments"),
        "services": _stored_table(connection, schema.services, "services"),
        table: text_table(table, records),
    }
    typed, problems = validate_tables(tables, load_rules())
    errors = [_field_error(table, problem) for problem in problems]
    if errors:
        raise Invalid(f"{len(errors)} problem(s) in the {table}", errors=errors)
    return typed[table]


def dataset_of(source: str, **given: pd.DataFrame) -> Dataset:
    """A dataset holding the given contract frames, every other table empty."""
    return Dataset(
        departments=given.get("departments", frames.empty(frames.DEPARTMENTS)),
        services=given.get("services", frames.empty(frames.SERVICES)),
        capacity=given.get("capacity", frames.empty(frames.CAPACITY)),
        patients=given.get("patients", frames.empty(frames.PATIENTS)),
        weekly_caps=given.get("weekly_caps", frames.empty(frames.WEEKLY_CAPS)),
        source=source,
    )


def store(
    bound: Engine,
    dataset: Dataset,
    admit: Admission | None = None,
    recorded: Recorded | None = None,
) -> LoadReport:
    """Load the dataset (``admit`` checking it, ``recorded`` auditing it, both inside the
    transaction); a dataset naming departments or services nobody declared is
    :class:`~capacity.errors.Invalid`."""
    try:
        return load_dataset(bound, dataset, admit=admit, recorded=recorded)
    except LoadRejected as error:
        raise Invalid(str(error)) from error


def _field_error(table: str, problem: Problem) -> dict[str, str]:
    """A validation problem as a field error: ``patients[3].deadline`` and its message."""
    if problem.file == table and isinstance(problem.row, str) and problem.column:
        return {
            "field": f"{table}{problem.row.removeprefix('$')}.{problem.column}",
            "message": problem.message,
        }
    where = table if problem.file == table else f"stored {problem.file}"
    return {"field": where, "message": problem.message}


def _stored_table(connection: Connection, table: sa.Table, name: str) -> RawTable:
    """A stored contract table as the strings its file would hold."""
    columns = [c for c in table.c if c.name not in ("load_id", "position")]
    rows = [dict(row._mapping) for row in connection.execute(sa.select(*columns))]
    if not rows:
        spec = frames.REQUIRED_COLUMNS[name]
        return RawTable(name, name, pd.DataFrame({c: pd.Series(dtype=frames.STR) for c in spec}))
    return text_table(name, rows)
