"""The HTML report and the comparison of runs."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from scenarios.compare import compare_runs, welch_difference
from scenarios.report import scenario_report
from scenarios.runner import ScenarioRun, run_scenario
from tests.scenarios.test_runner import cli, tiny_scenario


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[ScenarioRun, ScenarioRun]:
    """A base run and the same scenario without cross-regional sharing, two replications each."""
    folder = tmp_path_factory.mktemp("scenarios")
    base = run_scenario(tiny_scenario(folder, "base", horizon_weeks=1), workers=1)
    changed = run_scenario(
        tiny_scenario(folder, "changed", horizon_weeks=1, policy={"allow_cross_region": False}),
        workers=1,
    )
    return base, changed


def test_report_holds_the_kpi_table_and_embedded_images(
    runs: tuple[ScenarioRun, ScenarioRun],
) -> None:
    """The report has a KPI table with headers and only inline base64 PNGs with alt texts;
    Danish by default, KPIs in words, English on request."""
    page = scenario_report(runs[0])
    assert '<html lang="da">' in page
    assert "<caption>Nøgletal over hele perioden" in page
    assert '<th scope="col">' in page
    assert "<th scope='row'>Andel startet inden for fristen</th>" in page
    assert "within_share" not in page
    english = scenario_report(runs[0], lang="en")
    assert "<caption>KPIs over the whole horizon" in english
    assert "<th scope='row'>Share started within the deadline</th>" in english
    images = re.findall(r"<img [^>]*>", page)
    assert len(images) == 3
    assert all('src="data:image/png;base64,' in image and 'alt="' in image for image in images)
    assert not re.search(r'(src|href)="(https?:|/|\.\.?/)', page)  # no external assets


def test_report_with_a_base_shows_differences(runs: tuple[ScenarioRun, ScenarioRun]) -> None:
    """With a base run, the answer comes first: how many more start in time, how certain, and
    how the settings differ from the base."""
    base, changed = runs
    page = scenario_report(changed, base=base)
    answer = page.index('id="answer"')
    assert answer < page.index("Hvad scenariet sætter") < page.index("Alle nøgletal")
    assert "patienter starter inden for fristen" in page or "Lige så mange" in page
    assert "95 %-interval" in page or "for få gentagelser" in page
    assert "Forskellen fra basis (base)" in page
    assert "Deling på tværs af regioner: nej" in page
    assert len(re.findall(r"<img ", page)) == 3


def test_compare_table_has_differences_to_the_first_run(
    runs: tuple[ScenarioRun, ScenarioRun],
) -> None:
    """Differences are the second run's mean minus the first's; the first run's are zero;
    runs sharing a seed are paired."""
    base, changed = runs
    table = compare_runs([base, changed]).set_index(["run", "kpi"])
    assert table["paired"].all()
    for kpi in ("within_share", "days_late_total"):
        expected = table.at[("changed", kpi), "mean"] - table.at[("base", kpi), "mean"]
        assert table.at[("changed", kpi), "difference"] == pytest.approx(expected)
        assert table.at[("base", kpi), "difference"] == 0
        low, high = table.loc[("changed", kpi), ["difference_ci_low", "difference_ci_high"]]
        assert low <= expected <= high


def test_runs_of_the_same_name_get_numbered_labels(runs: tuple[ScenarioRun, ScenarioRun]) -> None:
    """Comparing a run with itself labels the second one apart instead of merging them."""
    table = compare_runs([runs[0], runs[0]])
    assert list(dict.fromkeys(table["run"])) == ["base", "base #2"]
    assert (table["difference"] == 0).all()


def test_welch_interval_matches_the_textbook_case() -> None:
    """Welch difference and interval agree with scipy's Welch t test on a worked example."""
    from scipy import stats

    base, other = np.array([1.0, 2.0, 3.0, 4.0]), np.array([2.0, 4.0, 6.0, 8.0, 10.0])
    difference, low, high = welch_difference(base, other)
    assert difference == pytest.approx(3.5)
    half = (high - low) / 2
    t = stats.ttest_ind(other, base, equal_var=False)
    assert difference / half * stats.t.ppf(0.975, t.df) == pytest.approx(t.statistic)


def test_welch_interval_needs_two_replications() -> None:
    """With a single replication on a side there is no interval, only the difference."""
    difference, low, high = welch_difference(np.array([1.0]), np.array([2.0, 3.0]))
    assert difference == 1.5 and np.isnan(low) and np.isnan(high)


def test_cli_compare_prints_and_writes_the_table(
    runs: tuple[ScenarioRun, ScenarioRun], tmp_path: Path
) -> None:
    """`scenario compare BASE RUN --out F.csv` prints the table and writes F.csv (one row per
    KPI: base and run means, the difference and its interval, paired) and the report F.html."""
    folders = [str(run.save(tmp_path / run.name)) for run in runs]
    out = tmp_path / "comparison.csv"
    result = CliRunner().invoke(cli(), ["scenario", "compare", *folders, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Startet inden for fristen" in result.output
    written = pd.read_csv(out)
    assert list(written.columns) == [
        "kpi",
        "base_mean",
        "run_mean",
        "difference",
        "difference_low",
        "difference_high",
        "paired",
    ]
    assert written["paired"].all()
    assert 'id="answer"' in out.with_suffix(".html").read_text(encoding="utf-8")
