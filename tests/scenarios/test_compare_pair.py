"""Honest comparisons (issue 17.2): paired intervals for runs that share seeds, Welch
otherwise, no negative bounds on counts, the settings a run actually used in its report."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from scenarios.compare import PAIR_COLUMNS, compare_pair, paired_difference
from scenarios.kpis import KPIS, SHARES
from scenarios.report import scenario_report
from scenarios.runner import ScenarioRun, run_scenario
from scenarios.text import settings
from tests.scenarios.test_runner import cli, tiny_scenario

LOSS = {
    "type": "reduce",
    "department": "OUH-KIR",
    "collaboration": "upper_gi",
    "procedure": "surgery",
    "percent": 30,
    "weeks": [1, 2],
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ScenarioRun]:
    """A base, the same with a 50 % loss (same seed), and the base with another seed."""
    folder = tmp_path_factory.mktemp("pairs")
    base = tiny_scenario(
        folder,
        "loss",
        description="OUH loses 30 % of upper-GI surgery.",
        replications=3,
        capacity={"changes": [LOSS]},
    )
    return {
        "base": run_scenario(base, workers=1),
        "changed": run_scenario(
            base.with_changes(capacity={"changes": [{**LOSS, "percent": 50}]}), workers=1
        ),
        "other_seed": run_scenario(base.with_changes(seed=12), workers=1),
    }


def test_a_run_compared_with_itself_differs_by_exactly_zero(
    runs: dict[str, ScenarioRun],
) -> None:
    table = compare_pair(runs["base"], runs["base"])
    assert list(table.columns) == PAIR_COLUMNS
    assert list(table["kpi"]) == list(KPIS)
    assert table["paired"].all()
    numbers = table.dropna(subset=["difference"])
    assert (numbers["difference"] == 0).all()
    assert (numbers["difference_low"] == 0).all() and (numbers["difference_high"] == 0).all()


def test_runs_sharing_seeds_are_paired_others_are_not(runs: dict[str, ScenarioRun]) -> None:
    paired = compare_pair(runs["base"], runs["changed"]).set_index("kpi")
    assert paired["paired"].all()
    expected = paired["run_mean"] - paired["base_mean"]
    np.testing.assert_allclose(paired["difference"], expected, atol=1e-9)
    base = runs["base"].replication_kpis.set_index("replication")
    changed = runs["changed"].replication_kpis.set_index("replication")
    d, low, _high = paired_difference(
        base["treated_within"].to_numpy(), changed["treated_within"].to_numpy()
    )
    assert paired.at["treated_within", "difference"] == pytest.approx(d)
    assert paired.at["treated_within", "difference_low"] == pytest.approx(low)
    welch = compare_pair(runs["base"], runs["other_seed"])
    assert not welch["paired"].any()


def test_the_paired_interval_is_the_t_interval_of_the_differences() -> None:
    from scipy import stats

    base, other = np.array([10.0, 12.0, 9.0, 11.0]), np.array([12.0, 13.0, 12.0, 12.5])
    d, low, high = paired_difference(base, other)
    diffs = other - base
    half = stats.t.ppf(0.975, 3) * diffs.std(ddof=1) / np.sqrt(4)
    assert (d, low, high) == pytest.approx((diffs.mean(), diffs.mean() - half, diffs.mean() + half))
    assert paired_difference(base, base + 2.0) == (2.0, 2.0, 2.0)


def test_counts_never_get_negative_bounds_and_shares_stay_in_0_1(
    runs: dict[str, ScenarioRun],
) -> None:
    for run in runs.values():
        summary = run.summary.set_index("kpi")
        assert (summary["ci_low"].dropna() >= 0).all()
        shares = summary.loc[sorted(SHARES)]
        assert (shares["ci_high"].dropna() <= 1).all()


def test_the_report_shows_the_settings_run_not_the_stale_description(
    runs: dict[str, ScenarioRun],
) -> None:
    """The file says 30 %, the run used 50 %: the report says 50 % (and shows the difference
    from the base), the description only as the file's own free text."""
    changed, base = runs["changed"], runs["base"]
    lines = settings(changed.scenario, "da")
    assert any("OUH-KIR mister 50 % af Øvre GI, operation i uge 1–2" in line for line in lines)
    page = scenario_report(changed, base=base)
    answer = page[page.index('id="answer"') : page.index("</section>")]
    assert "Basis: OUH-KIR mister 30 %" in answer and "Scenarie: OUH-KIR mister 50 %" in answer
    assert page.index("OUH loses 30 %") > page.index("Om kørslen")
    english = scenario_report(changed, base=base, lang="en")
    assert "OUH-KIR loses 50 % of Upper GI, surgery in weeks 1–2" in english


def test_cli_compare_takes_the_newest_run_of_a_name(
    runs: dict[str, ScenarioRun], tmp_path: Path
) -> None:
    """`compare runs/base runs/loss` finds runs/loss-<timestamp> (a run saved without --out)."""
    runs["base"].save(tmp_path / "base")
    runs["base"].save(tmp_path / "loss-20260101-000000")
    time.sleep(0.05)
    runs["changed"].save(tmp_path / "loss-20260102-000000")
    out = tmp_path / "comparison.csv"
    result = CliRunner().invoke(
        cli(),
        ["scenario", "compare", str(tmp_path / "base"), str(tmp_path / "loss"), "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out).set_index("kpi")
    expected = compare_pair(runs["base"], runs["changed"]).set_index("kpi")
    assert table.at["treated_within", "difference"] == pytest.approx(
        expected.at["treated_within", "difference"]
    )


def test_cli_compare_of_several_runs_writes_a_run_column_and_each_runs_settings(
    runs: dict[str, ScenarioRun], tmp_path: Path
) -> None:
    folders = [str(runs[name].save(tmp_path / name)) for name in ("base", "changed", "other_seed")]
    out = tmp_path / "all.csv"
    result = CliRunner().invoke(cli(), ["scenario", "compare", *folders, "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert list(table.columns) == ["run", *PAIR_COLUMNS]
    assert table.groupby("run")["paired"].first().to_dict() == {
        folders[1]: True,
        folders[2]: False,
    }
    page = out.with_suffix(".html").read_text(encoding="utf-8")
    assert "OUH-KIR mister 50 %" in page and "frø 12" in page
