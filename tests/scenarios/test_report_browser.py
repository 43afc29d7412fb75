"""The scenario report in headless Chromium: it fits a 1280 px screen (no sideways scrolling)
and the answer is on the first screen (issue 17.3). Screenshots in tests/artifacts."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.report import write_report
from scenarios.runner import run_scenario
from tests.scenarios.test_runner import tiny_scenario
from tests.web_support import artifacts_dir, browser_page


@pytest.mark.parametrize("lang", ["da", "en"])
def test_the_report_fits_1280_pixels_with_the_answer_on_the_first_screen(
    tmp_path: Path, lang: str
) -> None:
    loss = {
        "type": "reduce",
        "department": "OUH-KIR",
        "collaboration": "upper_gi",
        "procedure": "surgery",
        "percent": 30,
        "weeks": [1, 2],
    }
    base = run_scenario(tiny_scenario(tmp_path, "base", capacity={"changes": [loss]}), workers=1)
    changed = run_scenario(
        base.scenario.with_changes(capacity={"changes": [{**loss, "percent": 80}]}), workers=1
    )
    page_file = write_report(changed, tmp_path / "report.html", base=base, lang=lang)
    with browser_page(viewport={"width": 1280, "height": 900}) as page:
        page.goto(page_file.as_uri())
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1280
        answer = page.locator("#answer").bounding_box()
        assert answer is not None and answer["y"] < 900
        page.screenshot(path=str(artifacts_dir() / f"scenario-report-{lang}.png"), full_page=True)
