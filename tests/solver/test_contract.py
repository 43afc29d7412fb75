"""Contract conformance: `kapacitet solve DIR --today --out` on the worked examples."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from capacity import frames

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "contract"
EXAMPLES = ["example", "example-tight"]


def _run_solve(folder: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "kapacitet",
            "solve",
            str(folder),
            "--today",
            "2026-11-23",
            "--out",
            str(out),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("example", EXAMPLES)
def test_cli_reaches_expected_tiers(example: str, tmp_path: Path) -> None:
    """The CLI's proposals reach exactly the independent MILP's optimal tiers 1-3."""
    out = tmp_path / "proposals.csv"
    result = _run_solve(SHARED / example, out)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    expected = json.loads((SHARED / example / "expected_tiers.json").read_text())
    unassigned = sum(1 for r in rows if not r["department_id"])
    late = [int(r["days_late"]) for r in rows if r["department_id"] and r["days_late"]]
    assert (unassigned, sum(1 for x in late if x > 0), sum(late)) == (
        expected["unassigned"],
        expected["breaches"],
        expected["days_late"],
    )


@pytest.mark.parametrize("example", EXAMPLES)
def test_proposals_csv_has_contract_columns_and_one_row_per_patient(
    example: str, tmp_path: Path
) -> None:
    """proposals.csv starts with the contract's columns and lists every patient once."""
    out = tmp_path / "proposals.csv"
    assert _run_solve(SHARED / example, out).returncode == 0
    with out.open(encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ())[: len(frames.PROPOSALS)] == frames.PROPOSALS
        rows = list(reader)
    with (SHARED / example / "patients.csv").open(encoding="utf-8") as handle:
        patient_ids = [r["patient_id"] for r in csv.DictReader(handle)]
    assert sorted(r["patient_id"] for r in rows) == sorted(patient_ids)
    for r in rows:
        assert r["action"] in {"keep", "move", "new", "unassigned"}
        assert r["reason"]
        if r["action"] == "unassigned":
            assert r["department_id"] == "" and r["date"] == ""
        else:
            assert r["provider_type"] in {"public", "private", "foreign"}
            assert r["travel_km"] == f"{float(r['travel_km']):.1f}"


def test_solve_reports_bad_folder_without_traceback(tmp_path: Path) -> None:
    """A missing folder is a clear error and exit 1, not a Python traceback."""
    result = _run_solve(tmp_path / "nowhere", tmp_path / "p.csv")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
