"""Partial capacity declarations (workflow.capacity.merge_declaration), on SQLite and PostgreSQL:
only the given (department, service, day) cells change, as a new version of their week."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from capacity.io import read_folder
from capacity.storage import create_database_engine, declaration_history, load_dataset
from workflow.capacity import declare_capacity, merge_declaration

DEPARTMENT = "H42-11"


def _cell(capacity: pd.DataFrame, procedure: str, day: str) -> pd.Series:
    return (
        (capacity["department_id"] == DEPARTMENT)
        & (capacity["collaboration"] == "breast")
        & (capacity["procedure"] == procedure)
        & (capacity["date"] == day)
    )


def test_merge_keeps_every_cell_not_given_in_stored_order(
    database_url: str, shared_dir: Path
) -> None:
    example = read_folder(shared_dir / "contract" / "example")
    load_dataset(database_url, example)
    capacity = example.capacity
    given = pd.concat(
        [
            capacity[_cell(capacity, "surgery", "2026-11-25")].assign(free_slots=7),
            # a cell the week did not have yet: it follows the stored ones
            capacity[_cell(capacity, "surgery", "2026-11-25")].assign(
                procedure="radiotherapy", date=pd.Timestamp("2026-11-28")
            ),
        ],
        ignore_index=True,
    )
    engine = create_database_engine(database_url)
    try:
        with engine.connect() as connection:
            merged = merge_declaration(connection, given)
    finally:
        engine.dispose()
    week = capacity[
        (capacity["department_id"] == DEPARTMENT)
        & capacity["date"].between("2026-11-23", "2026-11-29")
    ].reset_index(drop=True)
    assert len(merged) == len(week) + 1
    expected = week.copy()
    expected.loc[_cell(week, "surgery", "2026-11-25"), "free_slots"] = 7
    pd.testing.assert_frame_equal(merged.iloc[:-1].reset_index(drop=True), expected)
    assert merged.iloc[-1]["procedure"] == "radiotherapy"


def test_a_partial_declaration_is_a_new_version_of_its_week_only(
    database_url: str, shared_dir: Path
) -> None:
    example = read_folder(shared_dir / "contract" / "example")
    load_dataset(database_url, example)
    row = example.capacity[_cell(example.capacity, "surgery", "2026-12-02")]
    record = {
        "department_id": DEPARTMENT,
        "collaboration": "breast",
        "procedure": "surgery",
        "date": "2026-12-02",
        "free_slots": 2,
    }
    assert len(row) == 1
    engine = create_database_engine(database_url)
    try:
        report = declare_capacity(engine, DEPARTMENT, "test", capacity=[record], partial=True)
    finally:
        engine.dispose()
    assert (report.declarations.new, report.declarations.superseded) == (1, 1)
    history = declaration_history(database_url, department_id=DEPARTMENT)
    latest = history[history["version"] == 2]
    assert latest["week"].tolist() == ["2026-W49"]
    week = example.capacity[
        (example.capacity["department_id"] == DEPARTMENT)
        & example.capacity["date"].between("2026-11-30", "2026-12-06")
    ]
    assert latest["rows"].tolist() == [len(week)]
    assert latest["free_slots"].tolist() == [
        int(week["free_slots"].sum()) - int(row.iloc[0]["free_slots"]) + 2
    ]
