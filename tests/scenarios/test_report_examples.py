"""The scenario report on every example (each kind of change: losses, closures, extra sessions,
private agreements, foreign capacity off, surges, policy): it renders in Danish and English,
answers at the top, and a run against itself is exactly no difference (issue 17.3)."""

from __future__ import annotations

from pathlib import Path

import pytest

import scenarios
from scenarios.report import scenario_report
from scenarios.runner import run_scenario
from scenarios.schema import load_scenario

EXAMPLES = sorted((Path(scenarios.__file__).parent / "examples").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_gets_an_answer_at_the_top(path: Path) -> None:
    scenario = load_scenario(path)
    base = scenario.base.model_dump()
    base["scale"] = 0.02
    starts = [c.weeks[0] for c in scenario.capacity.changes if c.weeks is not None]
    starts += [s.weeks[0] for s in scenario.demand.surges]
    small = scenario.with_changes(base=base, horizon_weeks=max([2, *starts]), replications=2)
    run = run_scenario(small, workers=1)
    page = scenario_report(run, base=run)
    answer = page[page.index('id="answer"') : page.index("</section>")]
    assert "Lige så mange patienter starter inden for fristen" in answer
    assert "Samme indstillinger som basis." in answer
    assert page.index('id="answer"') < page.index("Hvad scenariet sætter")
    english = scenario_report(run, lang="en")
    assert "The answer" in english and "started within the deadline" in english
