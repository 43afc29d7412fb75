"""Scenario runs: the same numbers wherever replications run, save/load, and the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import typer
import yaml
from typer.testing import CliRunner

from scenarios.runner import FRAMES, ScenarioRun, load_run, run_scenario
from scenarios.schema import Scenario, load_scenario


def tiny_scenario_file(folder: Path, name: str = "tiny", **changes: Any) -> Path:
    """A scenario file small enough for a test: few weeks, few replications."""
    data: dict[str, Any] = {
        "name": name,
        "description": "A tiny scenario for tests.",
        "base": {"type": "reference", "scale": 0.05},
        "horizon_weeks": 2,
        "replications": 2,
        "seed": 11,
    }
    data.update(changes)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def tiny_scenario(folder: Path, name: str = "tiny", **changes: Any) -> Scenario:
    """The validated tiny scenario of :func:`tiny_scenario_file`."""
    return load_scenario(tiny_scenario_file(folder, name, **changes))


def assert_same_run(left: ScenarioRun, right: ScenarioRun) -> None:
    """Every frame and the summary are equal, value for value."""
    for frame in (*FRAMES, "summary"):
        pd.testing.assert_frame_equal(getattr(left, frame), getattr(right, frame))


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    return tiny_scenario(tmp_path_factory.mktemp("scenario"))


@pytest.fixture(scope="module")
def progress_calls() -> list[tuple[int, int]]:
    return []


@pytest.fixture(scope="module")
def in_process(scenario: Scenario, progress_calls: list[tuple[int, int]]) -> ScenarioRun:
    return run_scenario(
        scenario, workers=1, progress=lambda done, total: progress_calls.append((done, total))
    )


def test_local_processes_give_the_same_numbers_as_one_process(
    scenario: Scenario, in_process: ScenarioRun
) -> None:
    """Two worker processes reproduce the in-process run exactly (same seed, same numbers)."""
    parallel = run_scenario(scenario, workers=2)
    assert parallel.metadata["executor"] == "processes"
    assert_same_run(in_process, parallel)


def test_dask_cluster_gives_the_same_numbers_as_one_process(
    scenario: Scenario, in_process: ScenarioRun
) -> None:
    """A Dask LocalCluster of two worker processes reproduces the in-process run exactly."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        on_dask = run_scenario(scenario, cluster=cluster)
    assert on_dask.metadata["executor"] == "dask"
    assert_same_run(in_process, on_dask)


def test_replications_draw_different_numbers(in_process: ScenarioRun) -> None:
    """Each replication has its own random streams: two replications' weeks differ."""
    weekly = in_process.weekly.drop(columns="replication")
    first, second = (weekly[in_process.weekly["replication"] == r] for r in (0, 1))
    assert not first.reset_index(drop=True).equals(second.reset_index(drop=True))


def test_run_holds_every_replication_in_order(in_process: ScenarioRun) -> None:
    """Each frame holds replications 0..n-1, sorted, and the summary covers them."""
    for frame in FRAMES:
        replications = getattr(in_process, frame)["replication"]
        assert replications.is_monotonic_increasing
        assert sorted(replications.unique()) == [0, 1]
    assert in_process.replications == 2


def test_progress_is_reported_per_replication(
    in_process: ScenarioRun, progress_calls: list[tuple[int, int]]
) -> None:
    """The progress callback hears (done, total) once per finished replication."""
    assert progress_calls == [(1, 2), (2, 2)]


def test_save_and_load_round_trip(in_process: ScenarioRun, tmp_path: Path) -> None:
    """A saved run reads back with the same scenario, frames, summary and metadata."""
    folder = in_process.save(tmp_path / "run")
    for name in ("weekly.parquet", "scenario.yaml", "summary.csv", "summary.json", "report.html"):
        assert (folder / name).is_file()
    loaded = load_run(folder)
    assert loaded.scenario == in_process.scenario
    assert loaded.metadata == in_process.metadata
    assert_same_run(in_process, loaded)


def test_load_run_names_a_folder_that_is_no_run(tmp_path: Path) -> None:
    """Loading a folder without run files says which folder and what is missing."""
    with pytest.raises(FileNotFoundError, match=r"weekly\.parquet"):
        load_run(tmp_path)


def cli() -> typer.Typer:
    """A fresh app holding only the scenario commands."""
    from kapacitet.cli.scenario_commands import register

    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """Test shell."""

    register(app)
    return app


def test_cli_run_saves_the_run_and_prints_the_kpis(tmp_path: Path) -> None:
    """`scenario run FILE --workers 1 --out DIR` writes the run folder and prints its KPIs."""
    file = tiny_scenario_file(tmp_path, horizon_weeks=1, replications=1)
    out = tmp_path / "run"
    result = CliRunner().invoke(
        cli(), ["scenario", "run", str(file), "--workers", "1", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "report.html" in result.output
    assert load_run(out).replications == 1


def test_cli_run_with_a_base_compares_in_the_report(tmp_path: Path) -> None:
    """`--base RUN_FOLDER` puts the comparison with the base run into the report."""
    base = run_scenario(tiny_scenario(tmp_path, "base", horizon_weeks=1, replications=1), workers=1)
    base.save(tmp_path / "base")
    file = tiny_scenario_file(tmp_path, "changed", horizon_weeks=1, replications=1, seed=5)
    out = tmp_path / "changed-run"
    result = CliRunner().invoke(
        cli(),
        [
            "scenario",
            "run",
            str(file),
            "--workers",
            "1",
            "--out",
            str(out),
            "--base",
            str(tmp_path / "base"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Forskellen fra basis (base)" in (out / "report.html").read_text(encoding="utf-8")


def test_cli_validate_accepts_a_good_file(tmp_path: Path) -> None:
    """`scenario validate` on a valid file exits 0 and names the scenario."""
    result = CliRunner().invoke(cli(), ["scenario", "validate", str(tiny_scenario_file(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "tiny" in result.output


def test_cli_validate_rejects_a_broken_file_with_its_yaml_path(tmp_path: Path) -> None:
    """`scenario validate` on a broken file exits 1 and names the offending YAML path."""
    file = tiny_scenario_file(tmp_path, horizon_weeks="many")
    result = CliRunner().invoke(cli(), ["scenario", "validate", str(file)])
    assert result.exit_code == 1
    assert "horizon_weeks" in result.output
