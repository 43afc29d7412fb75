"""Issue 13, points 2 and 3 on the page: referrals (/web/referrals), a patient's timeline
(/web/patients/{id}) and the duty-to-act list (/web/duty-to-act): in headless Chromium and
over plain HTTP."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from capacity.storage import create_database_engine
from tests.web_support import (
    TODAY,
    WEEK,
    Site,
    artifacts_dir,
    away_rows,
    browser_page,
    department_token,
    form_csrf,
    running_site,
    sign_in,
    start_run,
    watch_csp,
)
from workflow.access import Principal, Role
from workflow.duty_to_act import duty_to_act

#: The timeline of an offer the department confirmed and the patient declined, in order.
DECLINED_PATHWAY = ["accept", "offer_made", "department_confirmed", "offer_declined", "reject"]


@pytest.fixture
def site(database_url: str) -> Iterator[Site]:
    """The generated week (small scale) stored and served on a free loopback port."""
    with running_site(database_url) as running:
        yield running


@pytest.fixture
def browser_site(tmp_path: Path) -> Iterator[Site]:
    """As ``site``, on SQLite only (the browser tests are the slow ones)."""
    with running_site(f"sqlite:///{(tmp_path / 'web.sqlite').as_posix()}") as running:
        yield running


def _duty_listed(page_html: str) -> list[str]:
    return re.findall(r'data-duty-patient="([^"]+)"', page_html)


def _candidate(review_html: str, duty_html: str) -> tuple[str, str]:
    """A Syddanmark patient the run moves away from home who is on the duty-to-act list."""
    listed = set(_duty_listed(duty_html))
    chosen = [
        (pid, to)
        for pid, _home, to, region in away_rows(review_html)
        if region == "Syddanmark" and pid in listed
    ]
    assert chosen, "the run moves some Syddanmark patient on the duty-to-act list away from home"
    return chosen[0]


def _timeline(page_html: str) -> list[str]:
    return re.findall(r'data-what="([^"]+)"', page_html)


# ---- over HTTP (SQLite and PostgreSQL) -------------------------------------------------------


def test_accept_confirm_decline_over_the_pages(site: Site) -> None:
    """Accept → the department's list (decline needs a reason, shown in the row) → confirm →
    the region records the patient's decline → timeline and duty-to-act list show it."""
    chair = sign_in(site.base, site.tokens.chair)
    review = start_run(chair).text
    run_id = re.search(r'<option value="(\d+)" selected', review)
    assert run_id is not None
    before = chair.get("/web/duty-to-act", params={"today": TODAY}).text
    patient, receiving = _candidate(review, before)
    chair.post(
        f"/web/runs/{run_id[1]}/proposals/{patient}/decision",
        data={"decision": "accept", "csrf": form_csrf(review)},
    )

    department = sign_in(site.base, department_token(site.database_url, receiving))
    page = department.get("/web/referrals").text
    row = re.search(
        rf'<tr id="o-(\d+)" class="awaiting_department to-answer"[^>]*'
        rf'data-patient="{re.escape(patient)}"',
        page,
    )
    assert row is not None, "the incoming referral awaits the department, with its form"
    offer = row[1]
    statuses = re.findall(r'data-status="([^"]+)"', page)
    assert statuses[0] == "awaiting_department", "what awaits the department comes first"
    refused = department.post(
        f"/web/referrals/{offer}/department",
        data={"answer": "decline", "reason": " ", "csrf": form_csrf(page)},
    )
    shown_row = refused.text.split(f'<tr id="o-{offer}"')[1].split("</tr>")[0]
    assert 'role="alert"' in shown_row and "En afvisning kræver en begrundelse." in shown_row
    assert (
        'aria-invalid="true"' in shown_row
        and 'data-status="awaiting_department"'
        in (refused.text.split(f'<tr id="o-{offer}"')[1][:400])
    )
    confirmed = department.post(
        f"/web/referrals/{offer}/department",
        data={"answer": "confirm", "csrf": form_csrf(page)},
    )
    assert f"Bekræftet: {patient}" in confirmed.text
    assert str(confirmed.url).endswith(f"#o-{offer}")

    region = sign_in(site.base, site.tokens.region)
    offers = region.get("/web/referrals", params={"status": "awaiting_patient"}).text
    assert re.findall(r'data-offer="(\d+)"', offers) == [offer]
    answered = region.post(
        f"/web/referrals/{offer}/patient",
        data={"answer": "declined", "reason": "for langt hjemmefra", "csrf": form_csrf(offers)},
    )
    assert f"Patienten sagde nej: {patient}" in answered.text
    again = region.post(
        f"/web/referrals/{offer}/patient",
        data={"answer": "accepted", "csrf": form_csrf(offers)},
    )
    assert "Tilbuddet er allerede besvaret" in again.text

    timeline = region.get(f"/web/patients/{patient}").text
    steps = [what for what in _timeline(timeline) if what in DECLINED_PATHWAY]
    assert steps == DECLINED_PATHWAY
    assert "Patienten takkede nej til tilbuddet" in timeline and "for langt hjemmefra" in timeline
    missing = region.get("/web/patients/no-such-patient")
    assert missing.status_code == 404 and "Patienten findes ikke" in missing.text

    after = chair.get("/web/duty-to-act", params={"today": TODAY}).text
    listed = _duty_listed(after)
    engine = create_database_engine(site.database_url)
    lung_chair = Principal(
        token_id=1, name="x", role=Role.COLLABORATION_CHAIR, collaboration="lung"
    )
    expected = duty_to_act(engine, lung_chair, dt.date.fromisoformat(TODAY))
    engine.dispose()
    assert listed and listed == [d.patient_id for d in expected]
    assert patient not in listed, "a documented offer takes the patient off the list"

    specialist = sign_in(site.base, site.tokens.specialist).get("/web/referrals").text
    assert f'data-offer="{offer}"' in specialist and "answer-form" not in specialist
    assert "afvist af patienten" in specialist


def test_the_pages_refuse_foreign_forms_and_unknown_codes(site: Site) -> None:
    """A referral answer without the session's CSRF token is refused; planted text in the
    query string never reaches the page; a department may not record a patient's answer."""
    department = sign_in(site.base, department_token(site.database_url, "X"))
    page = department.get("/web/referrals", params={"error": "<b>x</b>", "offer": "1"}).text
    assert "<b>x</b>" not in page and "&lt;b&gt;" not in page
    forged = department.post("/web/referrals/1/department", data={"answer": "confirm"})
    assert forged.status_code == 403
    refused = department.post(
        "/web/referrals/1/patient", data={"answer": "accepted", "csrf": form_csrf(page)}
    )
    assert "Kun patientens region kan registrere patientens svar." in refused.text
    assert 'href="/web/duty-to-act' not in page, "no duty-to-act link for a department"


# ---- in the browser ------------------------------------------------------------------------


def test_referral_workflow_in_the_browser(browser_site: Site) -> None:
    """Done-when in Chromium: a chair accepts a move away from home, the receiving department
    confirms it with the keyboard, the region records the patient's decline; the timeline
    and the duty-to-act list show it; screenshots of each page."""
    shots = artifacts_dir()
    site = browser_site
    with browser_page(viewport={"width": 1440, "height": 900}, locale="da-DK") as page:
        refused = watch_csp(page)

        def sign_in_as(token: str, target: str) -> None:
            page.goto(f"{site.base}{target}")
            if "/web/login" not in page.url:
                page.get_by_role("button", name="Log ud").click()
                page.goto(f"{site.base}{target}")
            page.get_by_label("Adgangstoken").fill(token)
            page.get_by_role("button", name="Log ind").click()
            page.wait_for_url(re.compile(re.escape(target.split("?")[0])))

        sign_in_as(site.tokens.chair, f"/web/review?collaboration=lung&week={WEEK}")
        page.get_by_label("Dato").fill(TODAY)
        page.get_by_role("button", name="Start ny kørsel").click()
        page.wait_for_selector("table.proposals")
        review = page.content()
        page.goto(f"{site.base}/web/duty-to-act?today={TODAY}")
        patient, receiving = _candidate(review, page.content())
        page.go_back()
        page.wait_for_selector(f"#p-{patient}")
        page.locator(f"#p-{patient}").get_by_role("button", name="Acceptér").click()
        page.wait_for_selector(f"#p-{patient} .tag.accept")

        sign_in_as(department_token(site.database_url, receiving), "/web/referrals")
        row = page.locator(f'tr[data-patient="{patient}"]')
        assert row.get_attribute("data-status") == "awaiting_department"
        assert page.locator("tbody tr").first.get_attribute("data-status") == (
            "awaiting_department"
        ), "referrals awaiting the department come first"
        row.get_by_role("button", name="Afvis").click()
        row = page.locator(f'tr[data-patient="{patient}"]')
        alert = row.get_by_role("alert")
        assert alert.inner_text() == "En afvisning kræver en begrundelse."
        page.screenshot(path=str(shots / "referrals-department.png"), full_page=True)
        # keyboard only: from the reason field, Tab to "Bekræft" and press Enter
        row.get_by_label("Begrundelse (kræves ved afvisning)").focus()
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Bekræft"
        page.keyboard.press("Enter")
        page.wait_for_selector(f'tr[data-patient="{patient}"][data-status="awaiting_patient"]')
        assert f"Bekræftet: {patient}" in page.get_by_role("status").first.inner_text()

        sign_in_as(site.tokens.region, "/web/referrals")
        row = page.locator(f'tr[data-patient="{patient}"]')
        row.get_by_label("Patientens begrundelse (valgfri)").fill("vil ikke rejse så langt")
        page.screenshot(path=str(shots / "referrals-region.png"), full_page=True)
        row.get_by_role("button", name="Patienten siger nej").click()
        page.wait_for_selector(f'tr[data-patient="{patient}"][data-status="declined_by_patient"]')

        page.locator(f'tr[data-patient="{patient}"]').get_by_role("link", name=patient).click()
        page.wait_for_url(re.compile(r"/web/patients/"))
        whats = page.locator("ol.timeline li").evaluate_all(
            "items => items.map(i => i.dataset.what)"
        )
        assert [w for w in whats if w in DECLINED_PATHWAY] == DECLINED_PATHWAY
        page.screenshot(path=str(shots / "patient-timeline.png"), full_page=True)

        page.get_by_role("link", name="Handlepligt").first.click()
        page.wait_for_url(re.compile(r"/web/duty-to-act"))
        page.get_by_label("Dato").fill(TODAY)
        page.get_by_role("button", name="Filtrér").click()
        page.wait_for_url(re.compile(r"today="))
        listed = page.locator("table.duty tbody tr").evaluate_all(
            "rows => rows.map(r => r.dataset.dutyPatient)"
        )
        assert listed and patient not in listed
        page.screenshot(path=str(shots / "duty-to-act.png"), full_page=True)
        unlabelled = page.evaluate(
            """() => [...document.querySelectorAll('input:not([type=hidden]), select')]
                 .filter(e => e.labels.length === 0).map(e => e.name)"""
        )
        assert unlabelled == []
        page.goto(f"{site.base}/web/duty-to-act?today=2026-11-30")
        overdue = page.locator("table.duty tr.overdue").first
        assert re.fullmatch(
            r"overskredet med \d+ dag(e)?", overdue.locator(".days-left").inner_text()
        )
        page.screenshot(path=str(shots / "duty-to-act-overdue.png"))
        page.goto(f"{site.base}/web/duty-to-act?lang=en&today={TODAY}")
        assert page.locator("h1").inner_text().startswith("Duty to act")
        assert refused == [], "the new pages and their forms work under the security policy"
