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


def test_pairwise_runs_give_medians_spreads_and_ratios() -> None:
    """bench/solve.py's pairs: kapacitet and the straightforward formulation alternate in one
    process; the table shows medians [min-max] and the pairwise ratios."""
    from bench import solve as bench
    from capacity.generate import generate_week

    dataset = generate_week(week=bench.WEEK, seed=bench.SEED, scale=0.02)
    pairs = bench.measure_pairs(dataset, repeats=2, with_highs=False) | {"status": "ok"}
    stats = bench.pair_stats(pairs)
    assert stats["same_tiers"] and len(stats["straightforward_ratios"]) == 2
    row = {"size": "tiny", "scale": 0.02, "patients": len(dataset.patients), "pairs": pairs}
    assert bench.same_tiers(row) == {"pairs": True}
    table = bench.pairs_table([row])
    assert "| tiny |" in table and "x [" in table and "verified" in table


def test_quick_sizes_span_300_patients_to_30k() -> None:
    from bench import solve as bench

    assert list(bench.QUICK) == ["300", "1k", "5k", "30k"]
    assert all(label in bench.SIZES for label in bench.QUICK)
