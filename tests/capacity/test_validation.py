"""Validation: every planted mistake reported at its file, row and column; the validate command."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from capacity.io import TABLES, read_folder
from capacity.validation import MAX_PROBLEMS_PER_FILE, Problem, ValidationFailed
from kapacitet.cli import app

PLANTED = Path(__file__).resolve().parents[1] / "data" / "planted"
EXAMPLE = Path(__file__).resolve().parents[2].parent / "shared" / "contract" / "example"

#: (file, row, column, part of the message) of every mistake planted in tests/data/planted.
PLANTED_MISTAKES = [
    ("departments.csv", 3, "region", "did you mean 'Sjælland'?"),
    ("departments.csv", 4, "department_id", "duplicate department id 'H-01' (first at line 2)"),
    ("departments.csv", 5, "provider_type", "did you mean 'private'?"),
    (
        "departments.csv",
        6,
        "region",
        "ISO 3166-1 alpha-2 country code (e.g. DE, SE), not 'Germany'",
    ),
    ("departments.csv", 7, "department_id", "'H 05' is not a valid id"),
    ("departments.csv", 8, "latitude", "latitude 95 is outside -90..90"),
    ("departments.csv", 10, "region", "public department needs a Danish region"),
    ("services.csv", 3, "collaboration", "unknown collaboration 'brest'; did you mean 'breast'?"),
    ("services.csv", 4, "department_id", "department 'H-09' is not in departments.csv"),
    ("services.csv", 6, "price_dkk", "price_dkk -10 is negative"),
    ("capacity.csv", 3, "free_slots", "-1 is negative"),
    ("capacity.csv", 4, "free_slots", "1.5 is not a whole number"),
    ("capacity.csv", 5, "procedure", "'H-01' does not offer lung surgery"),
    ("capacity.csv", 6, "date", "'23/11/2026' is not a date; write dates as YYYY-MM-DD"),
    ("capacity.csv", 7, "free_slots", "empty, but a value is required"),
    ("weekly_caps.csv", 2, "week", "'2026-48' is not an ISO week"),
    ("patients.csv", 3, "patient_id", "looks like a Danish CPR number"),
    ("patients.csv", 4, "patient_id", "duplicate patient id 'pt-001' (first at line 2)"),
    ("patients.csv", 5, "procedure", "unknown procedure 'surgury'; did you mean 'surgery'?"),
    ("patients.csv", 6, "home_department_id", "department 'H-99' is not in departments.csv"),
    ("patients.csv", 7, "booked_department_id", "which does not offer lung surgery"),
    ("patients.csv", 8, "booked_date", "empty, but booked_department_id is 'H-02'"),
    ("patients.csv", 9, "accepts_private", "'yes' is not a boolean; write true or false"),
    ("patients.csv", 10, "max_travel_km", "max_travel_km -5 is negative"),
    ("patients.csv", 11, "deadline", "empty, and no clock date to compute it from"),
    ("patients.csv", 12, "earliest_date", "'2026-13-01' is not a date"),
    ("patients.csv", 13, "deadline_status", "did you mean 'paused_health'?"),
    ("patients.csv", 14, "patient_id", "looks like a Danish CPR number"),
    ("patients.csv", 17, "consent_date", "'2026-11-2' is not a date"),
    ("patients.csv", 18, "longitude", "longitude 200 is outside -180..180"),
    ("patients.csv", 18, "booked_department_id", "empty, but booked_date is 2026-11-25"),
]


@pytest.fixture(scope="module")
def planted_problems() -> tuple[Problem, ...]:
    with pytest.raises(ValidationFailed) as failed:
        read_folder(PLANTED)
    return failed.value.problems


@pytest.mark.parametrize(
    ("file", "row", "column", "message"),
    PLANTED_MISTAKES,
    ids=[f"{f}:{r}:{c}" for f, r, c, _ in PLANTED_MISTAKES],
)
def test_planted_mistake_is_reported_at_its_file_row_and_column(
    planted_problems: tuple[Problem, ...], file: str, row: int, column: str, message: str
) -> None:
    """Each planted mistake is reported at exactly its file, spreadsheet line and column."""
    at_place = [p for p in planted_problems if (p.file, p.row, p.column) == (file, row, column)]
    assert any(message in p.message for p in at_place), at_place


def test_planted_folder_reports_nothing_else(planted_problems: tuple[Problem, ...]) -> None:
    """No problem is reported beyond the planted ones (no follow-on noise)."""
    planted = {(f, r, c) for f, r, c, _ in PLANTED_MISTAKES}
    assert {(p.file, p.row, p.column) for p in planted_problems} == planted


def test_region_mismatch_of_home_department_is_not_a_problem(
    planted_problems: tuple[Problem, ...],
) -> None:
    """A patient living in Nordjylland referred to a Hovedstaden department is valid."""
    assert not [p for p in planted_problems if (p.file, p.row) == ("patients.csv", 16)]


def test_cpr_number_is_never_echoed(planted_problems: tuple[Problem, ...]) -> None:
    """The message for a CPR-like id does not repeat the number."""
    text = "\n".join(str(p) for p in planted_problems)
    assert "0101901234" not in text
    assert "010190-1234" not in text


@pytest.mark.parametrize("patient_id", ["0101901234", "010190-1234", "3112999999"])
def test_cpr_like_patient_ids_are_rejected(tmp_path: Path, patient_id: str) -> None:
    """A patient_id shaped like a CPR number (ten digits or DDMMYY-XXXX) is rejected."""
    folder = example_copy(tmp_path)
    patients = read_patients(folder)
    patients.loc[0, "patient_id"] = patient_id
    patients.to_csv(folder / "patients.csv", index=False)
    with pytest.raises(ValidationFailed) as failed:
        read_folder(folder)
    assert [(p.row, p.column) for p in failed.value.problems] == [(2, "patient_id")]
    assert "pseudonym" in failed.value.problems[0].message


def test_pseudonyms_with_digits_are_accepted(tmp_path: Path) -> None:
    """Ids with digits that are not CPR-shaped (nine or twelve digits, letters) are fine."""
    folder = example_copy(tmp_path)
    patients = read_patients(folder)
    patients.loc[0:2, "patient_id"] = ["123456789", "123456789012", "p1234567890"]
    patients.to_csv(folder / "patients.csv", index=False)
    assert len(read_folder(folder).patients) == len(patients)


def test_problem_prints_as_file_row_column_message() -> None:
    """A problem reads ``file:row:column: message``; absent parts are left out."""
    assert (
        str(Problem("patients.csv", 14, "patient_id", "bad")) == "patients.csv:14:patient_id: bad"
    )
    assert (
        str(Problem("patients.json", "$[3]", "deadline", "x")) == "patients.json:$[3]:deadline: x"
    )
    assert str(Problem("capacity.csv", None, None, "missing")) == "capacity.csv: missing"


def test_validation_failed_lists_one_problem_per_line() -> None:
    """str(ValidationFailed) is the problems, one per line."""
    failed = ValidationFailed([Problem("a.csv", 2, "x", "one"), Problem("b.csv", 3, "y", "two")])
    assert str(failed) == "a.csv:2:x: one\nb.csv:3:y: two"


def test_problems_beyond_the_limit_are_counted(tmp_path: Path) -> None:
    """A file with more problems than the limit lists the first ones and counts the rest."""
    folder = example_copy(tmp_path)
    capacity = pd.read_csv(folder / "capacity.csv", dtype=str, keep_default_na=False)
    capacity["free_slots"] = "-1"
    capacity.to_csv(folder / "capacity.csv", index=False)
    with pytest.raises(ValidationFailed) as failed:
        read_folder(folder)
    problems = failed.value.problems
    assert len(problems) == MAX_PROBLEMS_PER_FILE + 1
    assert [p.row for p in problems[:3]] == [2, 3, 4]
    more = len(capacity) - MAX_PROBLEMS_PER_FILE
    assert problems[-1].message.startswith(f"... and {more} more problems in this file")


def test_foreign_department_with_danish_region_is_reported(tmp_path: Path) -> None:
    """A foreign provider in a Danish region is told to use its country code."""
    folder = example_copy(tmp_path)
    departments = pd.read_csv(folder / "departments.csv", dtype=str, keep_default_na=False)
    departments.loc[departments["provider_type"].eq("foreign"), "region"] = "Hovedstaden"
    departments.to_csv(folder / "departments.csv", index=False)
    with pytest.raises(ValidationFailed) as failed:
        read_folder(folder)
    assert {p.column for p in failed.value.problems} == {"region"}
    assert "should provider_type be public or private?" in failed.value.problems[0].message


def test_validate_command_prints_summary_and_exits_0() -> None:
    """`kapacitet validate` on a valid folder exits 0 with the summary tables."""
    result = CliRunner().invoke(app, ["validate", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    for title in ("Patients per collaboration", "provider_type", "Free slots per ISO week"):
        assert title in result.output
    assert "2026-W48" in result.output


def test_validate_command_lists_every_problem_and_exits_1() -> None:
    """`kapacitet validate` on the planted folder exits 1 listing file:row:column problems."""
    result = CliRunner().invoke(app, ["validate", str(PLANTED)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert "patients.csv:5:procedure: unknown procedure 'surgury'" in result.output
    assert len([line for line in lines if ".csv:" in line]) == len(PLANTED_MISTAKES)


def example_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "folder"
    folder.mkdir()
    for table in TABLES:
        shutil.copy(EXAMPLE / f"{table}.csv", folder / f"{table}.csv")
    return folder


def read_patients(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "patients.csv", dtype=str, keep_default_na=False)
