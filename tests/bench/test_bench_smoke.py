"""Smoke tests of the benchmark's straightforward formulation (bench/straightforward.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import straightforward
from capacity.io import read_folder

EXAMPLE = Path(__file__).resolve().parents[2].parent / "shared" / "contract" / "example"


def test_straightforward_reaches_the_contract_examples_tiers() -> None:
    """The straightforward min-cost flow reaches the example's expected tiers 1-3."""
    expected = json.loads((EXAMPLE / "expected_tiers.json").read_text(encoding="utf-8"))
    dataset = read_folder(EXAMPLE)
    net = straightforward.build_network(dataset, expected["today"])
    tiers = straightforward.solve_ortools(net)
    assert tiers.hard() == (expected["unassigned"], expected["breaches"], expected["days_late"])


@pytest.mark.slow
def test_benchmark_competitors_match_kapacitet_at_the_smallest_size() -> None:
    """At scale 0.05 the straightforward formulation and HiGHS reach kapacitet's tiers 1-3."""
    from bench import solve as bench
    from capacity.generate import generate_week

    dataset = generate_week(week=bench.WEEK, seed=bench.SEED, scale=0.05)
    kapacitet = bench.measure_kapacitet(dataset)
    assert bench.measure_straightforward(dataset)["tiers"] == kapacitet["tiers"]
    assert bench.measure_highs(dataset, time_limit_s=120)["tiers"] == kapacitet["tiers"]


def test_meeting_benchmark_runs_and_prints_the_ratio(capsys: pytest.CaptureFixture[str]) -> None:
    """bench/meeting.py at a small scale: the agenda, the full list and the competitor."""
    from bench import meeting

    assert meeting.main(["--scale", "0.05", "--repeat", "1"]) == 0
    printed = capsys.readouterr().out
    assert "ratio competitor / agenda" in printed and "agenda (default view)" in printed
