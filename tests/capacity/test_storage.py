"""Storage: migrations, loads (upserts, versioned declarations, one transaction) and snapshots."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from pathlib import Path

import pandas as pd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine
from typer.testing import CliRunner

from capacity.frames import Dataset
from capacity.io import read_folder
from capacity.storage import (
    LoadRejected,
    database,
    declaration_history,
    load_dataset,
    load_folder,
    read_snapshot,
    repository,
    table_counts,
    upgrade_database,
)
from capacity.storage.schema import metadata
from kapacitet.cli import app

FRAMES = ("departments", "services", "capacity", "patients", "weekly_caps")


@pytest.fixture
def example(shared_dir: Path) -> Path:
    """The contract's 40-patient example folder."""
    return shared_dir / "contract" / "example"


def assert_same_frames(left: Dataset, right: Dataset) -> None:
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(left, name), getattr(right, name), obj=name)


def test_migrations_create_the_declared_schema(database_url: str) -> None:
    """Migrating an empty database to head yields exactly the tables schema.py declares."""
    assert upgrade_database(database_url) == database.head_revision()
    engine = create_engine(database_url)
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), metadata) == []
    engine.dispose()


def test_migrations_ship_inside_the_package() -> None:
    """The Alembic config and migration scripts live in the capacity.storage package."""
    package = Path(database.__file__).parent
    assert database.ALEMBIC_INI.is_file() and database.ALEMBIC_INI.parent == package
    assert (database.MIGRATIONS / "versions" / "0001_initial.py").is_file()
    assert (database.MIGRATIONS / "versions" / "0002_api.py").is_file()
    assert (database.MIGRATIONS / "versions" / "0003_async_runs_tokens.py").is_file()
    assert (database.MIGRATIONS / "versions" / "0004_leases_sessions.py").is_file()
    assert (database.MIGRATIONS / "versions" / "0005_pathway_events.py").is_file()
    assert (database.MIGRATIONS / "versions" / "0006_referral_offers.py").is_file()
    assert (database.MIGRATIONS / "versions" / "0007_followon_referral.py").is_file()
    assert (database.MIGRATIONS / "versions" / "0008_department_codes.py").is_file()
    assert database.head_revision() == "0008"


@pytest.mark.parametrize("folder", ["example", "example-tight"])
def test_snapshot_round_trips_a_loaded_folder(
    database_url: str, shared_dir: Path, folder: str
) -> None:
    """read_snapshot after load_folder returns the frames read_folder gives, dtypes included."""
    path = shared_dir / "contract" / folder
    load_folder(database_url, path)
    assert_same_frames(read_snapshot(database_url), read_folder(path))


def test_weekly_caps_round_trip(database_url: str, example: Path) -> None:
    """Weekly caps are stored with the dataset and read back in a week's horizon."""
    dataset = read_folder(example)
    service = dataset.services.iloc[0]
    caps = pd.DataFrame(
        {
            "department_id": [service["department_id"]] * 2,
            "collaboration": [service["collaboration"]] * 2,
            "procedure": [service["procedure"]] * 2,
            "week": ["2026-W48", "2027-W10"],
            "max_slots": [3, 4],
        }
    ).astype(dataset.weekly_caps.dtypes.to_dict())
    load_dataset(database_url, dataclasses.replace(dataset, weekly_caps=caps))
    pd.testing.assert_frame_equal(read_snapshot(database_url).weekly_caps, caps)
    in_horizon = read_snapshot(database_url, week="2026-W48").weekly_caps
    pd.testing.assert_frame_equal(in_horizon, caps.iloc[:1])


def test_loading_twice_changes_nothing(database_url: str, example: Path) -> None:
    """A second load of the same folder reports everything unchanged and writes no row."""
    first = load_folder(database_url, example)
    counts = table_counts(database_url)
    second = load_folder(database_url, example)
    assert not second.changed and second.load_id is None
    assert second.patients.unchanged == first.patients.inserted
    assert second.declarations.unchanged == first.declarations.new
    assert table_counts(database_url) == counts


def test_redeclaration_supersedes_and_keeps_history(database_url: str, example: Path) -> None:
    """New capacity for a department and week becomes version 2; version 1 stays, superseded."""
    dataset = read_folder(example)
    load_dataset(database_url, dataset)
    before = dt.datetime.now(dt.UTC)
    department_id = dataset.capacity["department_id"].iloc[0]
    first_day = dataset.capacity["date"].min()
    same_week = dataset.capacity["date"].dt.isocalendar()["week"].eq(first_day.isocalendar()[1])
    changed = (dataset.capacity["department_id"] == department_id) & same_week
    capacity = dataset.capacity.copy()
    capacity.loc[changed, "free_slots"] += 1
    report = load_dataset(database_url, dataclasses.replace(dataset, capacity=capacity))
    assert (report.declarations.new, report.declarations.superseded) == (1, 1)
    history = declaration_history(database_url, department_id=department_id)
    versions = history[history["week"] == history["week"].min()]
    assert versions["version"].tolist() == [1, 2]
    assert versions["superseded"].tolist() == [True, False]
    pd.testing.assert_frame_equal(read_snapshot(database_url).capacity, capacity)
    pd.testing.assert_frame_equal(
        read_snapshot(database_url, as_of=before).capacity, dataset.capacity
    )


def test_patient_upsert_updates_a_changed_deadline(database_url: str, example: Path) -> None:
    """A patient whose deadline changed is updated in place; the others stay untouched."""
    dataset = read_folder(example)
    load_dataset(database_url, dataset)
    patients = dataset.patients.copy()
    patients.loc[0, "deadline"] = pd.Timestamp("2027-01-15")
    report = load_dataset(database_url, dataclasses.replace(dataset, patients=patients))
    assert (report.patients.inserted, report.patients.updated) == (0, 1)
    assert report.patients.unchanged == len(patients) - 1
    pd.testing.assert_frame_equal(read_snapshot(database_url).patients, patients)


def test_load_naming_an_unknown_department_stores_nothing(database_url: str, example: Path) -> None:
    """A patient referring to a department nobody declared rejects the whole load."""
    dataset = read_folder(example)
    load_dataset(database_url, dataset)
    counts = table_counts(database_url)
    patients = dataset.patients.copy()
    patients.loc[0, "deadline"] = pd.Timestamp("2027-01-15")
    patients.loc[1, "home_department_id"] = "NO-SUCH-DEPT"
    with pytest.raises(LoadRejected, match="NO-SUCH-DEPT"):
        load_dataset(database_url, dataclasses.replace(dataset, patients=patients))
    assert table_counts(database_url) == counts
    assert_same_frames(read_snapshot(database_url), dataset)


def test_error_mid_load_leaves_the_database_unchanged(
    database_url: str, example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error after departments and services were written rolls the whole load back."""
    upgrade_database(database_url)
    empty = table_counts(database_url)

    def fail(*args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(repository, "_store_capacity_rows", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        load_folder(database_url, example)
    assert table_counts(database_url) == empty


def test_snapshot_by_week_keeps_a_six_week_horizon(database_url: str, example: Path) -> None:
    """A week filter keeps capacity of that ISO week and the five after it, in file order."""
    dataset = read_folder(example)
    load_dataset(database_url, dataset)
    first = dataset.capacity["date"].min()
    year, week, _ = first.isocalendar()
    start = pd.Timestamp(dt.date.fromisocalendar(year, week + 1, 1))
    expected = dataset.capacity[dataset.capacity["date"] >= start].reset_index(drop=True)
    snapshot = read_snapshot(database_url, week=f"{year}-W{week + 1:02d}")
    pd.testing.assert_frame_equal(snapshot.capacity, expected)
    pd.testing.assert_frame_equal(snapshot.patients, dataset.patients)
    assert read_snapshot(database_url, week=f"{year + 1}-W30").capacity.empty


def test_snapshot_by_collaboration_keeps_its_rows(database_url: str, example: Path) -> None:
    """A collaboration filter keeps that collaboration's services, capacity and patients."""
    dataset = read_folder(example)
    load_dataset(database_url, dataset)
    collaboration = dataset.patients["collaboration"].iloc[0]
    snapshot = read_snapshot(database_url, collaboration=collaboration)
    for name in ("services", "capacity", "patients"):
        frame = getattr(dataset, name)
        expected = frame[frame["collaboration"] == collaboration].reset_index(drop=True)
        pd.testing.assert_frame_equal(getattr(snapshot, name), expected, obj=name)
    offering = set(snapshot.services["department_id"])
    assert offering <= set(snapshot.departments["department_id"])


def test_snapshot_rejects_a_malformed_week(database_url: str) -> None:
    """A week that is not ISO ``YYYY-Www`` is an error naming the expected form."""
    with pytest.raises(ValueError, match="ISO week like"):
        read_snapshot(database_url, week="2026-48")


def test_as_of_needs_a_timezone(database_url: str, example: Path) -> None:
    """A naive as_of is refused rather than silently read in some time zone."""
    load_folder(database_url, example)
    with pytest.raises(Exception, match="time zone"):
        read_snapshot(database_url, as_of=dt.datetime(2026, 11, 23))


def test_cli_load_prints_the_report_and_history(database_url: str, example: Path) -> None:
    """`kapacitet load` prints counts per table; `kapacitet db history` lists the versions."""
    runner = CliRunner()
    loaded = runner.invoke(app, ["load", str(example), "--db", database_url])
    assert loaded.exit_code == 0, loaded.output
    assert "patients" in loaded.output and "40" in loaded.output
    again = runner.invoke(app, ["load", str(example), "--db", database_url])
    assert again.exit_code == 0 and "nothing changed" in again.output
    department_id = read_folder(example).capacity["department_id"].iloc[0]
    history = runner.invoke(
        app, ["db", "history", "--db", database_url, "--department", department_id]
    )
    assert history.exit_code == 0, history.output
    assert department_id in history.output
    assert runner.invoke(app, ["db", "upgrade", "--db", database_url]).exit_code == 0


def test_cli_load_of_an_invalid_folder_exits_1_and_stores_nothing(
    database_url: str, example: Path, tmp_path: Path
) -> None:
    """An invalid folder makes `kapacitet load` exit 1 with the problems; nothing is stored."""
    pytest.importorskip("capacity.validation")
    folder = tmp_path / "invalid"
    folder.mkdir()
    for name in ("departments", "services", "capacity"):
        (folder / f"{name}.csv").write_text((example / f"{name}.csv").read_text())
    lines = (example / "patients.csv").read_text().splitlines()
    first = lines[1].split(",")
    first[0] = "010190-1234"  # looks like a CPR number: must be rejected
    (folder / "patients.csv").write_text("\n".join([lines[0], ",".join(first), *lines[2:]]))
    result = CliRunner().invoke(app, ["load", str(folder), "--db", database_url])
    assert result.exit_code == 1, result.output
    assert set(table_counts(database_url).values()) == {0}


def synthetic_dataset(example: Dataset, patients: int, days: int) -> Dataset:
    """The example's departments and services with every service declared on ``days`` days."""
    dates = pd.date_range("2026-11-23", periods=days, freq="D")
    capacity = example.services[["department_id", "collaboration", "procedure"]].merge(
        pd.DataFrame({"date": dates}), how="cross"
    )
    capacity["free_slots"] = (capacity.index % 5).astype("int64")
    waiting = example.patients.sample(patients, replace=True, random_state=1).reset_index(drop=True)
    waiting["patient_id"] = ("pt" + pd.Series(range(patients)).astype(str)).astype("string")
    return dataclasses.replace(example, capacity=capacity, patients=waiting)


@pytest.mark.slow
def test_loading_5000_patients_and_20000_capacity_rows_is_fast(
    database_url: str, shared_dir: Path
) -> None:
    """A 5,000-patient, ~20,000-row load and its snapshot each take a few seconds at most."""
    dataset = synthetic_dataset(read_folder(shared_dir / "contract" / "example-tight"), 5000, 180)
    upgrade_database(database_url)
    started = time.perf_counter()
    report = load_dataset(database_url, dataset)
    loaded = time.perf_counter() - started
    assert report.patients.inserted == 5000 and len(dataset.capacity) > 20_000
    started = time.perf_counter()
    assert len(read_snapshot(database_url).capacity) == len(dataset.capacity)
    read = time.perf_counter() - started
    assert loaded < 5.0 and read < 5.0
