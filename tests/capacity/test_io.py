"""Reading contract folders: CSV, YAML and JSON files into typed frames."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from capacity import frames
from capacity.io import TABLES, read_folder
from capacity.validation import ValidationFailed

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
EXAMPLE = SHARED / "contract" / "example"
EXAMPLE_TIGHT = SHARED / "contract" / "example-tight"


def copy_example(tmp_path: Path) -> Path:
    """A writable copy of the 40-patient worked example."""
    folder = tmp_path / "folder"
    folder.mkdir()
    for table in TABLES:
        shutil.copy(EXAMPLE / f"{table}.csv", folder / f"{table}.csv")
    return folder


def csv_records(path: Path) -> list[dict[str, object]]:
    """A CSV file's rows as records with native JSON types (numbers, booleans, null)."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    records: list[dict[str, object]] = []
    for row in raw.to_dict("records"):
        record: dict[str, object] = {}
        for name, value in row.items():
            if value == "":
                record[str(name)] = None
            elif value in ("true", "false"):
                record[str(name)] = value == "true"
            else:
                try:
                    record[str(name)] = int(value) if value.lstrip("-").isdigit() else float(value)
                except ValueError:
                    record[str(name)] = value
        records.append(record)
    return records


def problems_of(folder: Path) -> list[str]:
    with pytest.raises(ValidationFailed) as failed:
        read_folder(folder)
    return [str(problem) for problem in failed.value.problems]


@pytest.mark.parametrize("folder", [EXAMPLE, EXAMPLE_TIGHT], ids=["example", "example-tight"])
def test_worked_examples_load_without_problems(folder: Path) -> None:
    """Both worked examples of the contract read without a single problem."""
    dataset = read_folder(folder)
    assert len(dataset.patients) == len(pd.read_csv(folder / "patients.csv"))


def test_frames_have_the_spec_dtypes() -> None:
    """Every frame has its spec's columns, in order, with the spec's dtypes."""
    dataset = read_folder(EXAMPLE)
    specs = {
        "departments": frames.DEPARTMENTS,
        "services": frames.SERVICES,
        "capacity": frames.CAPACITY,
        "patients": frames.PATIENTS | frames.PATIENT_CLOCKS,
        "weekly_caps": frames.WEEKLY_CAPS,
    }
    for table, spec in specs.items():
        frame = getattr(dataset, table)
        assert list(frame.columns[: len(spec)]) == list(spec), table
        assert {c: str(frame[c].dtype) for c in spec} == spec, table


def test_empty_accepts_columns_default_to_true(tmp_path: Path) -> None:
    """An empty accepts_private / accepts_foreign cell means the patient accepts."""
    folder = copy_example(tmp_path)
    patients = pd.read_csv(folder / "patients.csv", dtype=str, keep_default_na=False)
    patients.loc[0, ["accepts_private", "accepts_foreign"]] = ""
    patients.to_csv(folder / "patients.csv", index=False)
    dataset = read_folder(folder)
    assert bool(dataset.patients.loc[0, "accepts_private"])
    assert bool(dataset.patients.loc[0, "accepts_foreign"])


def test_json_and_yaml_read_identically_to_csv(tmp_path: Path) -> None:
    """A folder of JSON and YAML records gives the same frames as the CSV files."""
    folder = tmp_path / "records"
    folder.mkdir()
    for table in ("departments", "patients"):
        (folder / f"{table}.json").write_text(
            json.dumps(csv_records(EXAMPLE / f"{table}.csv"), ensure_ascii=False), "utf-8"
        )
    for table in ("services", "capacity"):
        (folder / f"{table}.yaml").write_text(
            yaml.safe_dump(csv_records(EXAMPLE / f"{table}.csv"), allow_unicode=True), "utf-8"
        )
    from_records, from_csv = read_folder(folder), read_folder(EXAMPLE)
    for table in TABLES:
        pd.testing.assert_frame_equal(getattr(from_records, table), getattr(from_csv, table))


def test_yaml_with_quoted_strings_reads_like_csv(tmp_path: Path) -> None:
    """YAML records are read without type guessing: quoted and plain scalars are the same."""
    folder = copy_example(tmp_path)
    (folder / "patients.csv").unlink()
    rows = pd.read_csv(EXAMPLE / "patients.csv", dtype=str, keep_default_na=False)
    records = [{k: v for k, v in row.items() if v != ""} for row in rows.to_dict("records")]
    (folder / "patients.yml").write_text(
        yaml.safe_dump(records, allow_unicode=True, default_style='"'), "utf-8"
    )
    pd.testing.assert_frame_equal(read_folder(folder).patients, read_folder(EXAMPLE).patients)


def test_record_problems_are_located_by_json_path(tmp_path: Path) -> None:
    """A problem in a JSON record names the record's JSON path instead of a line."""
    folder = copy_example(tmp_path)
    records = csv_records(folder / "patients.csv")
    records[3]["procedure"] = "surgury"
    (folder / "patients.csv").unlink()
    (folder / "patients.json").write_text(json.dumps(records), "utf-8")
    assert any(p.startswith("patients.json:$[3]:procedure: ") for p in problems_of(folder))


def test_invalid_json_is_reported_with_its_line(tmp_path: Path) -> None:
    """A JSON syntax error is one problem naming the line."""
    folder = copy_example(tmp_path)
    (folder / "services.csv").unlink()
    (folder / "services.json").write_text('[\n{"department_id": "H42-01",\n}\n]', "utf-8")
    assert any(p.startswith("services.json:3: not valid JSON") for p in problems_of(folder))


def test_non_utf8_file_is_reported_with_its_line(tmp_path: Path) -> None:
    """A Latin-1 file is reported as not UTF-8, at the line of the first bad byte."""
    folder = copy_example(tmp_path)
    text = (folder / "departments.csv").read_text("utf-8")
    (folder / "departments.csv").write_bytes(text.encode("latin-1"))
    first_sjaelland = 1 + text.splitlines().index(
        next(line for line in text.splitlines() if "Sjælland" in line)
    )
    problems = problems_of(folder)
    assert problems == [
        f"departments.csv:{first_sjaelland}: not UTF-8: byte 0xe6 cannot be decoded"
        " (Latin-1/Windows-1252 æ, ø, å?); save the file as UTF-8"
        " (in Excel: 'CSV UTF-8 (comma delimited)')"
    ]


def test_missing_table_is_reported(tmp_path: Path) -> None:
    """A folder without capacity.csv (or .yaml/.json) is one problem naming the file."""
    folder = copy_example(tmp_path)
    (folder / "capacity.csv").unlink()
    assert problems_of(folder) == [
        "capacity.csv: missing: a contract folder needs capacity.csv (or .yaml, .yml, .json)"
    ]


def test_two_files_for_one_table_are_reported(tmp_path: Path) -> None:
    """A table given both as CSV and JSON is ambiguous and reported."""
    folder = copy_example(tmp_path)
    (folder / "services.json").write_text("[]", "utf-8")
    assert any("services.csv, services.json all hold services" in p for p in problems_of(folder))


def test_missing_column_is_reported_on_the_header_line(tmp_path: Path) -> None:
    """A missing required column is reported on line 1 with a rename hint for a near miss."""
    folder = copy_example(tmp_path)
    patients = pd.read_csv(folder / "patients.csv", dtype=str, keep_default_na=False)
    patients.rename(columns={"deadline_status": "deadline_state"}).to_csv(
        folder / "patients.csv", index=False
    )
    assert (
        "patients.csv:1:deadline_status: missing required column 'deadline_status';"
        " found 'deadline_state' - rename it to 'deadline_status'?"
    ) in problems_of(folder)


def test_blank_lines_do_not_shift_line_numbers(tmp_path: Path) -> None:
    """Rows after a blank line keep the line number a spreadsheet shows."""
    folder = copy_example(tmp_path)
    lines = (folder / "services.csv").read_text("utf-8").splitlines()
    lines.insert(2, "")
    lines[3] = lines[3].replace("lower_gi", "lower-gi", 1)
    (folder / "services.csv").write_text("\n".join(lines) + "\n", "utf-8")
    assert any(p.startswith("services.csv:4:collaboration: ") for p in problems_of(folder))


def test_semicolon_separated_csv_gets_a_hint(tmp_path: Path) -> None:
    """A semicolon-separated file (Danish Excel default) is reported as such."""
    folder = copy_example(tmp_path)
    text = (folder / "services.csv").read_text("utf-8")
    (folder / "services.csv").write_text(text.replace(",", ";"), "utf-8")
    assert any(
        p.startswith("services.csv:1: columns are separated by ';'") for p in problems_of(folder)
    )


def test_weekly_caps_are_read_when_present(tmp_path: Path) -> None:
    """An optional weekly_caps.csv is read into the dataset's weekly_caps frame."""
    folder = copy_example(tmp_path)
    (folder / "weekly_caps.csv").write_text(
        "department_id,collaboration,procedure,week,max_slots\n"
        "H42-01,lower_gi,surgery,2026-W48,3\n",
        "utf-8",
    )
    caps = read_folder(folder).weekly_caps
    assert caps.to_dict("records") == [
        {
            "department_id": "H42-01",
            "collaboration": "lower_gi",
            "procedure": "surgery",
            "week": "2026-W48",
            "max_slots": 3,
        }
    ]
