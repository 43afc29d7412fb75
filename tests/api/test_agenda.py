"""Issue 14: the meeting's agenda on the review page, in Chromium and over HTTP.

The agenda shows exactly what needs the meeting (referrals away from home, breaches, moved
bookings, open items, duty to act), most urgent first across departments; decisions stand
across runs with who made them and when; a chosen alternative is respected by the next solve;
the pages have no serious accessibility violations (axe-core).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from capacity.storage import create_database_engine
from reports.meeting import Filters, build_meeting, views
from reports.meeting.formats import day
from tests.web_support import (
    TODAY,
    WEEK,
    Site,
    artifacts_dir,
    browser_page,
    form_csrf,
    proposal_ids,
    running_site,
    sign_in,
    start_run,
    watch_csp,
)
from workflow import runs
from workflow import tables as store
from workflow.access import Principal, Role


@pytest.fixture
def site(database_url: str) -> Iterator[Site]:
    with running_site(database_url) as running:
        yield running


@pytest.fixture
def browser_site(tmp_path: Path) -> Iterator[Site]:
    with running_site(f"sqlite:///{(tmp_path / 'web.sqlite').as_posix()}") as running:
        yield running


def _row(page: str, patient_id: str) -> str:
    """The markup of ``patient_id``'s row on a review page."""
    return page.split(f'<tr id="p-{patient_id}"')[1].split("</tr>")[0]


def _run_id(page: str) -> int:
    found = re.search(r'<option value="(\d+)" selected', page)
    assert found is not None
    return int(found[1])


def _stored(database_url: str, run_id: int) -> dict[str, dict[str, Any]]:
    engine = create_database_engine(database_url)
    with engine.connect() as conn:
        p = store.run_proposals.c
        rows = conn.execute(
            sa.select(p.patient_id, p.proposal).where(p.run_id == run_id, p.collaboration == "lung")
        ).all()
    engine.dispose()
    return {row.patient_id: row.proposal for row in rows}


def _duty_ids(site: Site) -> set[str]:
    answer = httpx.get(
        f"{site.base}/v1/duty-to-act",
        params={"today": TODAY, "collaboration": "lung"},
        headers={"Authorization": f"Bearer {site.tokens.chair}"},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    return {row["patient_id"] for row in answer.json()}


def _needs_meeting(p: dict[str, Any], duty: set[str]) -> bool:
    away = bool(p.get("department_id")) and p["department_id"] != p["home_department_id"]
    moved = p["action"] == "move" and (
        p["date"] > (p.get("booked_date") or "")
        or p["department_id"] != p.get("booked_department_id")
    )
    active = p.get("deadline_status") == "active"
    return (
        (bool(p.get("breach")) and active)
        or p["action"] == "unassigned"
        or (away and p["action"] in ("new", "move"))
        or moved
        or p["patient_id"] in duty
    )


def _urgency(p: dict[str, Any]) -> tuple[int, int, str]:
    if p.get("deadline_status") != "active" or not p.get("deadline"):
        days = 10**6
    else:
        days = (dt.date.fromisoformat(p["deadline"]) - dt.date.fromisoformat(TODAY)).days
    return (days, -(p.get("days_late") or 0), p["patient_id"])


def test_agenda_is_exactly_what_needs_the_meeting_most_urgent_first(site: Site) -> None:
    """The default view lists exactly the run's referrals away, breaches, moved bookings,
    unassigned and duty-to-act patients, sorted by urgency across departments (not grouped);
    the rest is summarised with a link to the full list."""
    chair = sign_in(site.base, site.tokens.chair)
    page = start_run(chair).text
    proposals = _stored(site.database_url, _run_id(page))
    duty = _duty_ids(site)
    expected = sorted((p for p in proposals.values() if _needs_meeting(p, duty)), key=_urgency)
    listed = proposal_ids(page)
    assert listed and listed == [p["patient_id"] for p in expected]
    assert len(listed) < len(proposals), "kept bookings and home placements are not listed"
    assert 'class="group"' not in page, "one list across departments"
    assert "Ikke på dagsordenen" in page and "view=all" in page
    # every listed row says why it is there
    reasons = re.findall(r'data-agenda="([^"]*)"', page)
    assert len(reasons) == len(listed) and all(reasons)
    # kept rows that need nothing have no accept/reject buttons
    for pid in listed:
        row = _row(page, pid)
        if proposals[pid]["action"] in ("keep", "unassigned"):
            assert 'value="accept"' not in row and 'value="reject"' not in row
    # paused clocks are shown as paused, never as late
    for pid in listed:
        row = _row(page, pid)
        if proposals[pid].get("deadline_status") != "active":
            assert "sat i bero" in row and "for sent" not in row


def test_the_full_list_is_paginated_and_every_proposal_is_on_exactly_one_page(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No page ships thousands of rows: the full list comes a page at a time."""
    chair = sign_in(site.base, site.tokens.chair)
    run_id = _run_id(start_run(chair).text)
    proposals = _stored(site.database_url, run_id)
    monkeypatch.setattr(views, "PAGE_SIZE", 7)
    engine = create_database_engine(site.database_url)
    who = Principal(token_id=0, name="t", role=Role.COLLABORATION_CHAIR, collaboration="lung")
    seen: list[str] = []
    with engine.connect() as conn:
        run = runs.get_run(conn, run_id)
        first = build_meeting(
            conn, who, run, collaboration="lung", week=WEEK, filters=Filters(view="all")
        )
        for number in range(1, first.pages + 2):
            built = build_meeting(
                conn,
                who,
                run,
                collaboration="lung",
                week=WEEK,
                filters=Filters(view="all", page=number),
            )
            assert len(built.page_rows) <= 7
            if number <= first.pages:
                seen += [r.patient_id for r in built.page_rows]
            else:
                assert built.filters.page == first.pages, "past the end shows the last page"
    engine.dispose()
    assert first.pages == -(-len(proposals) // 7)
    assert sorted(seen) == sorted(proposals)


def test_key_figures_compare_with_current_practice_per_region(site: Site) -> None:
    """Breaches and days late with sharing against current practice (stored with the run),
    overall and per region; Danish numbers; solver jargon only in the details panel."""
    chair = sign_in(site.base, site.tokens.chair)
    page = start_run(chair).text
    run_id = _run_id(page)
    engine = create_database_engine(site.database_url)
    with engine.connect() as conn:
        kpis = conn.execute(
            sa.select(store.solve_runs.c.kpis).where(store.solve_runs.c.run_id == run_id)
        ).scalar_one()
    engine.dispose()
    baseline = kpis["baseline"]
    assert baseline["method"] == "current_practice" and baseline["by_region"]
    proposals = _stored(site.database_url, run_id)
    breaches = sum(bool(p.get("breach")) for p in proposals.values())
    row = re.search(r'<tr data-figure="breaches">(.*?)</tr>', page, re.S)
    assert row is not None
    cells = re.findall(r'<td class="num[^"]*">([^<]*)</td>', row[1])
    assert cells[0] == str(breaches) and cells[1] == str(baseline["breaches"])
    assert "niveau" not in page.split('class="details"')[0], "no tier jargon above the details"
    assert "collaboration_chair" not in page and "formand for samarbejde" in page


def test_a_rejection_without_a_reason_is_an_error_next_to_its_row(site: Site) -> None:
    chair = sign_in(site.base, site.tokens.chair)
    page = start_run(chair).text
    run_id = _run_id(page)
    patient = next(pid for pid in proposal_ids(page) if 'value="reject"' in _row(page, pid))
    answer = chair.post(
        f"/web/runs/{run_id}/proposals/{patient}/decision",
        data={"decision": "reject", "csrf": form_csrf(page)},
    )
    row = _row(answer.text, patient)
    assert 'role="alert"' in row and "En afvisning kræver en begrundelse" in row
    assert 'aria-invalid="true"' in row
    top = answer.text.split("<table")[0]
    assert "En afvisning kræver en begrundelse" not in top


# ---- in the browser ------------------------------------------------------------------------


def _sign_in(page: Any, site: Site) -> None:
    page.goto(f"{site.base}/web/review?collaboration=lung&week={WEEK}")
    page.get_by_label("Adgangstoken").fill(site.tokens.chair)
    page.get_by_label("Adgangstoken").press("Enter")
    page.wait_for_url(re.compile(r"/web/review"))


def _new_run(page: Any) -> str:
    page.get_by_label("Dato").fill(TODAY)
    page.get_by_role("button", name="Start ny kørsel").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#agenda-h")
    return str(page.locator("#run").input_value())


def _press(page: Any, locator: Any) -> None:
    """Operate a control with the keyboard only: focus it, press Enter; for a decision, wait
    for the answer and fail with the page's own message if it refused."""
    locator.focus()
    if page.evaluate("document.activeElement.closest('form.decide, form.choose-alt') !== null"):
        with page.expect_navigation(wait_until="load"):
            page.keyboard.press("Enter")
        alert = page.locator("[role=alert]")
        if alert.count() and "error=" in page.url and "reject_needs_reason" not in page.url:
            raise AssertionError(f"the decision was refused: {alert.first.inner_text()}")
    else:
        page.keyboard.press("Enter")


def test_a_chair_decides_the_agenda_by_keyboard_and_decisions_survive_a_new_run(
    browser_site: Site,
) -> None:
    """Done-when in Chromium: the agenda in Danish, accept one, hold one, reject one with a
    reason, pick an alternative for one, start a new run: every decision is still shown with
    who made it, and the chosen alternative is what the next solve keeps."""
    shots = artifacts_dir()
    with browser_page(viewport={"width": 1440, "height": 900}, locale="da-DK") as page:
        page.set_default_timeout(60_000)  # CI runs this beside other browser tests on 2 cores
        refused = watch_csp(page)
        _sign_in(page, browser_site)
        first_run = _new_run(page)
        assert page.locator("html").get_attribute("lang") == "da"
        assert "nuværende praksis" in page.locator("p.headline").inner_text()
        page.screenshot(path=str(shots / "agenda.png"))
        decidable = page.locator("table.agenda tbody tr").filter(
            has=page.get_by_role("button", name="Acceptér")
        )
        assert decidable.count() >= 3
        ids = [decidable.nth(i).get_attribute("data-patient") for i in range(decidable.count())]
        with_alternative = next(
            (pid for pid in ids if page.locator(f"#p-{pid} form.choose-alt").count() > 0),
            None,
        )
        assert with_alternative is not None, "referrals carry their alternatives"
        others = [pid for pid in ids if pid != with_alternative]
        accepted, held, rejected = others[0], others[1], others[2]

        _press(page, page.locator(f"#p-{accepted}").get_by_role("button", name="Acceptér"))
        page.wait_for_selector(f"#p-{accepted} .tag.accept")
        assert f"Accepteret: {accepted}" in page.get_by_role("status").first.inner_text()
        _press(page, page.locator(f"#p-{held}").get_by_role("button", name="Afvent"))
        page.wait_for_selector(f"#p-{held} .tag.hold")
        # a rejection without a reason: the error is next to the row, not at the top
        _press(page, page.locator(f"#p-{rejected}").get_by_role("button", name="Afvis"))
        page.wait_for_selector(f"#p-{rejected} [role=alert]")
        page.locator(f"#p-{rejected}").get_by_role("textbox").fill("patienten ønsker nærmere")
        _press(page, page.locator(f"#p-{rejected}").get_by_role("button", name="Afvis"))
        page.wait_for_selector(f"#p-{rejected} .tag.reject")

        row = page.locator(f"#p-{with_alternative}")
        row.locator("details.alternatives summary").focus()
        page.keyboard.press("Enter")
        form = row.locator("form.choose-alt").first
        chosen = (
            str(form.locator("input[name=department_id]").get_attribute("value")),
            str(form.locator("input[name=date]").get_attribute("value")),
        )
        _press(page, form.get_by_role("button"))
        page.wait_for_selector(f"#p-{with_alternative} .tag.accept")
        decided = page.locator(f"#p-{with_alternative} td.decision").inner_text()
        assert "valgt i stedet" in decided
        page.screenshot(path=str(shots / "agenda-decided.png"))

        second_run = _new_run(page)
        assert second_run != first_run
        for pid, tag in ((accepted, "accept"), (held, "hold")):
            row = page.locator(f"#p-{pid}")
            assert row.locator(f".tag.{tag}").count() == 1, pid
            assert "Lungeformand" in row.locator("td.decision").inner_text()
        assert page.locator(f"#p-{held}").get_by_role("button", name="Acceptér").count() == 1
        page.goto(page.url.split("#")[0] + "&view=all")
        row = page.locator(f"#p-{rejected}")
        assert row.locator(".tag.reject").count() == 1 and "patienten ønsker nærmere" in (
            row.inner_text()
        )
        row = page.locator(f"#p-{with_alternative}")
        assert row.get_attribute("class").split()[0] == "keep", "the next solve keeps it"
        assert row.get_attribute("data-to") == chosen[0]
        assert day(chosen[1], "da", weekday=True) in row.locator("td").nth(3).inner_text()
        # projector mode: the agenda's first rows are visible at 1920x1080
        page.set_viewport_size({"width": 1920, "height": 1080})
        page.goto(page.url.split("#")[0].replace("&view=all", "") + "&display=large")
        first_row = page.locator("table.agenda tbody tr").first
        box = first_row.bounding_box()
        assert box is not None and box["y"] + 40 < 1080, "a proposal row on the first screen"
        page.screenshot(path=str(shots / "agenda-projector.png"))
        assert refused == []


def test_the_meeting_pages_have_no_serious_accessibility_violations(browser_site: Site) -> None:
    """axe-core on the agenda, the full list, the capacity and at-risk pages, the referrals and
    duty-to-act lists: no serious or critical violation; scroll regions are keyboard reachable."""
    axe = pytest.importorskip("axe_playwright_python.sync_playwright")
    checker = axe.Axe()
    with browser_page(viewport={"width": 1366, "height": 900}, locale="da-DK") as page:
        _sign_in(page, browser_site)
        _new_run(page)
        found: dict[str, list[str]] = {}
        for path in (
            "/web/review",
            "/web/review?view=all",
            "/web/review?display=large",
            "/web/capacity",
            "/web/at-risk?days=10",
            "/web/referrals",
            "/web/duty-to-act",
            "/web/review?lang=en",
        ):
            page.goto(f"{browser_site.base}{path}")
            page.wait_for_selector("main h1")
            results = checker.run(page)
            serious = [
                f"{v['id']}: {v['help']} ({len(v['nodes'])})"
                for v in results.response["violations"]
                if v.get("impact") in ("serious", "critical")
            ]
            if serious:
                found[path] = serious
        assert found == {}
        page.goto(f"{browser_site.base}/web/at-risk?days=10&lang=da")
        region = page.locator(".table-wrap").first
        if region.count():
            assert region.get_attribute("tabindex") == "0"
