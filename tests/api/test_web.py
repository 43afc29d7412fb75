"""The review page under /web: in headless Chromium (Playwright) and over plain HTTP."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from capacity.storage import create_database_engine, schema
from tests.web_support import (
    TODAY,
    WEEK,
    Site,
    artifacts_dir,
    browser_like,
    browser_page,
    form_csrf,
    proposal_ids,
    running_site,
    session_csrf,
    sign_in,
    start_run,
    watch_csp,
)
from workflow import tables as store


@pytest.fixture
def site(database_url: str) -> Iterator[Site]:
    """The generated week (small scale) stored and served on a free loopback port."""
    with running_site(database_url) as running:
        yield running


@pytest.fixture
def browser_site(tmp_path: Path) -> Iterator[Site]:
    """As ``site``, on SQLite only: the browser tests are the slow ones, the store is the same."""
    with running_site(f"sqlite:///{(tmp_path / 'web.sqlite').as_posix()}") as running:
        yield running


def _audit(database_url: str) -> list[dict[str, Any]]:
    engine = create_database_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(store.audit_log).order_by(store.audit_log.c.entry_id))
        entries = [dict(row._mapping) for row in rows]
    engine.dispose()
    return entries


# ---- in the browser ------------------------------------------------------------------------


def test_pages_are_keyboard_usable_labelled_and_screenshotted(browser_site: Site) -> None:
    """Skip link first, every control labelled, focus visible; each page screenshotted."""
    shots = artifacts_dir()
    with browser_page(viewport={"width": 1366, "height": 800}, locale="da-DK") as page:
        refused = watch_csp(page)
        page.goto(f"{browser_site.base}/web/review?collaboration=lung&week={WEEK}")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip-link"
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "token"
        page.keyboard.type(browser_site.tokens.chair)
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/web/review"))
        page.get_by_label("Dato").fill(TODAY)
        page.get_by_role("button", name="Start ny kørsel").press("Enter")
        page.wait_for_selector("table.proposals")
        unlabelled = page.evaluate(
            """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
                 .filter(e => e.labels.length === 0).map(e => e.name)"""
        )
        assert unlabelled == []
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Spring til indhold"
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
        page.keyboard.press("Tab")
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline == "solid"
        for name, path in (("capacity", "/web/capacity"), ("at-risk", "/web/at-risk?days=10")):
            page.goto(f"{browser_site.base}{path}")
            page.wait_for_selector("main h1")
            page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
        page.goto(f"{browser_site.base}/web/review?display=large&lang=en&action=move")
        assert page.locator("html").get_attribute("lang") == "en"
        page.screenshot(path=str(shots / "review-projector-en.png"))
        page.goto(f"{browser_site.base}/web/capacity")
        assert page.locator("html").get_attribute("lang") == "en", "language is remembered"
        assert page.locator("h1").inner_text().startswith("Free slots against demand")
        page.goto(f"{browser_site.base}/web/pack")
        page.wait_for_selector("h1")
        page.screenshot(path=str(shots / "pack-page.png"))
        assert refused == [], "the pages, the pack included, work under the security policy"


def test_capacity_page_in_the_browser_filters_by_region_and_scrolls_by_keyboard(
    browser_site: Site,
) -> None:
    """The look-ahead capacity page in Chromium: the table region is reached with Tab and named
    by its caption, the region filter works, no inline style or script is refused; screenshots
    ``capacity.png`` (Danish) and ``capacity-en.png`` (English, one region)."""
    shots = artifacts_dir()
    with browser_page(viewport={"width": 1366, "height": 900}, locale="da-DK") as page:
        refused = watch_csp(page)
        page.goto(f"{browser_site.base}/web/capacity?collaboration=lung&week={WEEK}")
        page.get_by_label("Adgangstoken").fill(browser_site.tokens.chair)
        page.get_by_role("button", name="Log ind").click()
        page.wait_for_url(re.compile(r"/web/capacity"))
        page.wait_for_selector("table.capview")
        region = page.get_by_role("region", name=re.compile(r"^Kapacitet pr\. afdeling og ydelse"))
        assert region.count() == 1
        page.get_by_role("button", name="Filtrér").focus()
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.getAttribute('role')") == "region"
        assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
        holiday = page.locator("th.week.holiday").first
        assert holiday.inner_text().startswith("2026-W52") and "juledag" in holiday.inner_text()
        page.screenshot(path=str(shots / "capacity.png"))

        page.get_by_label("Region", exact=True).select_option("Syddanmark")
        page.get_by_role("button", name="Filtrér").press("Enter")
        page.wait_for_url(re.compile(r"region=Syddanmark"))
        heads = page.locator("tr.department-head .region").all_inner_texts()
        assert heads and len(set(heads)) == 1
        page.get_by_role("link", name="English").click()
        page.wait_for_url(re.compile(r"lang=en"))
        assert page.locator("html").get_attribute("lang") == "en"
        assert "region=Syddanmark" in page.url
        assert page.get_by_role("region", name=re.compile(r"^Capacity per department")).count()
        page.screenshot(path=str(shots / "capacity-en.png"))
        assert refused == [], "the page works under the security policy"


# ---- over HTTP -----------------------------------------------------------------------------


def test_login_sets_a_strict_httponly_session_and_rejects_unknown_tokens(site: Site) -> None:
    """The session cookie is HttpOnly and SameSite=Strict; an unknown token gets no session."""
    client = browser_like(site.base)
    client.follow_redirects = False
    bad = client.post(
        "/web/login",
        data={"token": "not-a-token", "csrf": form_csrf(client.get("/web/login").text)},
    )
    assert bad.status_code == 401 and "kapacitet_session" not in bad.headers.get("set-cookie", "")
    good = client.post(
        "/web/login",
        data={"token": site.tokens.chair, "csrf": form_csrf(bad.text)},
    )
    assert good.status_code == 303
    session = next(
        h for h in good.headers.get_list("set-cookie") if h.startswith("kapacitet_session=")
    )
    assert "HttpOnly" in session and "SameSite=strict" in session and "Path=/web" in session
    assert site.tokens.chair not in session, "the cookie holds a session id, not the token"
    no_csrf = browser_like(site.base).post("/web/login", data={"token": site.tokens.chair})
    assert no_csrf.status_code == 403 and "kapacitet_session" not in str(no_csrf.cookies)


def test_a_decision_without_the_csrf_token_is_refused(site: Site) -> None:
    """A form post missing the CSRF token changes nothing."""
    client = sign_in(site.base, site.tokens.chair)
    page = start_run(client).text
    run_id = re.search(r'<option value="(\d+)" selected', page)
    assert run_id is not None
    patient = proposal_ids(page)[0]
    url = f"/web/runs/{run_id[1]}/proposals/{patient}/decision"
    answer = client.post(url, data={"decision": "hold", "csrf": "forged"})
    assert answer.status_code == 403 and "Formularen er udløbet" in answer.text
    assert not [e for e in _audit(site.database_url) if e["path"] == url]


def test_reject_needs_a_reason_and_viewers_cannot_decide(site: Site) -> None:
    """A reject without a reason is refused; the specialist unit sees proposals but no forms."""
    chair = sign_in(site.base, site.tokens.chair)
    page = start_run(chair).text
    run_id = re.search(r'<option value="(\d+)" selected', page)
    assert run_id is not None
    patient = next(
        pid for pid in proposal_ids(page) if 'class="new' in page.split(f'<tr id="p-{pid}"')[1][:40]
    )
    url = f"/web/runs/{run_id[1]}/proposals/{patient}/decision"
    answer = chair.post(url, data={"decision": "reject", "csrf": form_csrf(page)})
    assert "En afvisning kræver en begrundelse" in answer.text
    specialist = sign_in(site.base, site.tokens.specialist)
    seen = specialist.get("/web/review", params={"collaboration": "lung", "week": WEEK}).text
    assert proposal_ids(seen) and 'class="decide' not in seen
    refused = specialist.post(url, data={"decision": "hold", "csrf": form_csrf(seen)})
    assert "Din rolle må ikke træffe beslutninger" in refused.text


def test_region_sees_only_its_own_patients(site: Site) -> None:
    """A region token's page lists only proposals for its own home region."""
    chair = sign_in(site.base, site.tokens.chair)
    start_run(chair)
    listed = {"collaboration": "lung", "week": WEEK, "view": "all"}
    everyone = proposal_ids(chair.get("/web/review", params=listed).text)
    region = sign_in(site.base, site.tokens.region)
    own = region.get("/web/review", params=listed).text
    engine = create_database_engine(site.database_url)
    with engine.connect() as conn:
        p = schema.patients.c
        syd = set(
            conn.execute(
                sa.select(p.patient_id).where(
                    p.home_region == "Syddanmark", p.collaboration == "lung"
                )
            ).scalars()
        )
    engine.dispose()
    assert set(proposal_ids(own)) == syd and syd < set(everyone)


def test_at_risk_lists_exactly_the_near_deadlines_the_proposed_slot_misses(site: Site) -> None:
    """Issue 14: at risk = an active deadline within N days that the run's *proposed* slot
    misses (or no slot proposed); paused clocks never; nobody else."""
    # two patients whose deadline passed three days ago: no slot can meet it
    engine = create_database_engine(site.database_url)
    with engine.begin() as conn:
        p = schema.patients.c
        late = (
            conn.execute(
                sa.select(p.patient_id)
                .where(p.collaboration == "lung", p.deadline_status == "active")
                .order_by(p.patient_id)
                .limit(2)
            )
            .scalars()
            .all()
        )
        conn.execute(
            schema.patients.update()
            .where(p.patient_id.in_(late))
            .values(deadline=dt.date.fromisoformat(TODAY) - dt.timedelta(days=3))
        )
    engine.dispose()
    chair = sign_in(site.base, site.tokens.chair)
    run_page = start_run(chair).text
    run_id = re.search(r'<option value="(\d+)" selected', run_page)
    assert run_id is not None
    days = 5
    page = chair.get("/web/at-risk", params={"collaboration": "lung", "week": WEEK, "days": days})
    listed = set(re.findall(r'<tr data-patient="([^"]+)"', page.text))
    engine = create_database_engine(site.database_url)
    with engine.connect() as conn:
        patients = conn.execute(
            sa.select(schema.patients).where(schema.patients.c.collaboration == "lung")
        ).all()
        proposed = {
            row.patient_id: row.proposal
            for row in conn.execute(
                sa.select(store.run_proposals).where(store.run_proposals.c.run_id == int(run_id[1]))
            )
        }
    engine.dispose()
    horizon = dt.date.fromisoformat(TODAY) + dt.timedelta(days=days)

    def misses(patient: Any) -> bool:
        slot = proposed[patient.patient_id]
        return not slot.get("date") or slot["date"] > patient.deadline.isoformat()

    expected = {
        p.patient_id
        for p in patients
        if p.deadline_status == "active"
        and p.deadline is not None
        and p.deadline <= horizon
        and misses(p)
    }
    assert set(late) <= expected and listed == expected
    paused = {p.patient_id for p in patients if p.deadline_status != "active"}
    assert paused and not listed & paused


#: A look-ahead cell: free slots / known + expected demand (expected as the page writes it).
CELL = re.compile(
    r'<td class="cell level-(\w+)[^"]*"[^>]*><span class="free">(\d+)</span> / '
    r'<span class="known">(\d+)</span> \+ <span class="expected">([\d,.]+)</span>'
)


def _cells(page: str) -> list[tuple[str, int, int, float]]:
    return [
        (level, int(free), int(known), float(expected.replace(",", ".")))
        for level, free, known, expected in CELL.findall(page)
    ]


def test_capacity_heatmap_shows_numbers_and_a_legend(site: Site) -> None:
    """Every heatmap cell carries its numbers (free / known + expected), not colour only, and
    its colour is the legend's for free slots against known + expected; a legend."""
    chair = sign_in(site.base, site.tokens.chair)
    start_run(chair)
    page = chair.get("/web/capacity", params={"collaboration": "lung", "week": WEEK}).text
    cells = _cells(page)
    assert len(cells) >= 6 and {level for level, *_ in cells} <= {
        "none",
        "surplus",
        "balanced",
        "short",
        "severe",
    }
    for level, free, known, expected in cells:
        assert level == _level(free, known + expected), (level, free, known, expected)
    assert {level for level, *_ in cells} > {"none"}, "some cells have slots or demand"
    assert any(expected > 0 for *_, expected in cells), "expected referrals in later weeks"
    assert 'class="legend"' in page


def test_capacity_looks_ahead_per_department_and_procedure(site: Site) -> None:
    """Rows per department and procedure grouped by department, known + expected demand
    (none expected in the first two weeks), holiday weeks marked in the header, a region
    filter, Danish by default and English with ?lang=en; shown before any run too."""
    chair = sign_in(site.base, site.tokens.chair)
    params = {"collaboration": "lung", "week": WEEK}
    page = chair.get("/web/capacity", params=params).text
    assert "<h1>Ledige tider mod efterspørgsel pr. afdeling, ydelse og uge: lunge</h1>" in page
    assert "ledige / kendt + forventet" in page
    groups = re.findall(r'<tbody class="department" data-department="([^"]+)">', page)
    assert len(groups) >= 5 and len(set(groups)) == len(groups)
    rows = re.findall(r'<tr data-procedure="(\w+)">', page)
    assert set(rows) <= {"pre_examination", "surgery", "chemotherapy", "radiotherapy"}
    assert len(set(rows)) > 1 and len(rows) > len(groups)
    # each procedure row: six weeks, nothing expected in the first two
    body = page.split("<tbody", 1)[1]
    for row in re.findall(r'<tr data-procedure="\w+">(.*?)</tr>', body, flags=re.S):
        cells = _cells(row)
        assert len(cells) == 6 and cells[0][3] == cells[1][3] == 0
    headers = re.findall(r'<th scope="col" class="week( holiday)?">(\d{4}-W\d{2})', page)
    assert [w for _, w in headers] == [f"2026-W{n}" for n in range(48, 54)]
    assert [w for h, w in headers if h] == ["2026-W52", "2026-W53"]
    assert "Helligdag: juledag 25/12, 2. juledag 26/12" in page
    assert "Helligdag: nytårsdag 1/1" in page
    assert 'tabindex="0" role="region" aria-labelledby="capview-caption"' in page
    assert '<caption id="capview-caption">' in page and "style=" not in page

    select = page.split('id="capview-region"')[1].split("</select>")[0]
    regions = re.findall(r'<option value="([^"]+)"', select)
    assert "Syddanmark" in regions
    south = chair.get("/web/capacity", params={**params, "region": "Syddanmark"}).text
    shown = re.findall(r'<tbody class="department" data-department="([^"]+)">', south)
    assert shown and set(shown) < set(groups)
    engine = create_database_engine(site.database_url)
    with engine.connect() as conn:
        d = schema.departments.c
        region_of = dict(conn.execute(sa.select(d.department_id, d.region)).all())
    engine.dispose()
    assert {region_of[x] for x in shown} == {"Syddanmark"}
    assert shown == [x for x in groups if region_of[x] == "Syddanmark"]
    assert '<option value="Syddanmark" selected>' in south
    # the language links keep the region
    assert "region=Syddanmark" in south.split('class="lang"')[1].split("</nav>")[0]

    english = chair.get("/web/capacity", params={**params, "region": "Syddanmark", "lang": "en"})
    text = english.text
    assert '<html lang="en">' in text
    assert "Free slots against demand per department, procedure and week" in text
    assert "free / known + expected" in text and "Public holiday: Christmas Day 25/12" in text
    assert re.findall(r'<tbody class="department" data-department="([^"]+)">', text) == shown
    assert "all regions" in text
    procedures = re.findall(r'<th scope="row" class="procedure">([^<]+)</th>', text)
    assert procedures and set(procedures) <= {
        "pre examination",
        "surgery",
        "chemotherapy",
        "radiotherapy",
        "total",
    }


def _level(free: int, demand: int) -> str:
    """The heatmap class the legend promises for ``free`` slots against ``demand``."""
    if demand == 0:
        return "none" if free == 0 else "surplus"
    ratio = free / demand
    return (
        "surplus"
        if ratio >= 1.5
        else "balanced"
        if ratio >= 1
        else "short"
        if ratio >= 0.5
        else "severe"
    )


def test_a_stale_run_says_why_and_logout_ends_the_session(site: Site) -> None:
    """Deciding on a run that is no longer the newest says why (a newer run); logout works."""
    chair = sign_in(site.base, site.tokens.chair)
    page = start_run(chair).text
    first = re.search(r'<option value="(\d+)" selected', page)
    assert first is not None
    start_run(chair)
    patient = proposal_ids(page)[0]
    answer = chair.post(
        f"/web/runs/{first[1]}/proposals/{patient}/decision",
        data={"decision": "hold", "csrf": form_csrf(page)},
    )
    assert 'role="alert"' in answer.text and "en nyere kørsel dækker patienten" in answer.text
    stale = chair.get(
        "/web/review", params={"collaboration": "lung", "week": WEEK, "run": first[1]}
    )
    assert 'class="decide' not in stale.text
    chair.post("/web/logout", data={"csrf": session_csrf(chair)})
    assert "/web/login" in str(chair.get("/web/review").url)


def test_filters_narrow_the_rows_and_keep_the_sort(site: Site) -> None:
    """Away-from-home and region (home or receiving) filters show exactly the matching rows of
    the full list, sorted as asked (latest deadline first)."""
    chair = sign_in(site.base, site.tokens.chair)
    start_run(chair)
    base = {"collaboration": "lung", "week": WEEK, "view": "all"}
    everything = chair.get("/web/review", params=base).text
    rows = re.findall(
        r'<tr id="p-([^"]+)" class="[^"]*" data-patient="[^"]*" data-home="([^"]*)" '
        r'data-to="([^"]*)" data-region="([^"]*)" data-to-region="([^"]*)"',
        everything,
    )
    params = base | {"away": "1", "region": "Syddanmark"}
    page = chair.get("/web/review", params=params | {"sort": "-deadline"}).text
    expected = {
        pid
        for pid, home, to, region, to_region in rows
        if to and to != home and "Syddanmark" in (region, to_region)
    }
    assert expected and set(proposal_ids(page)) == expected
    deadlines = re.findall(r'<td class="nowrap" data-deadline="(\d{4}-\d\d-\d\d)"', page)
    assert len(deadlines) == len(expected)
    assert deadlines == sorted(deadlines, reverse=True), "latest deadline first"
    assert '<option value="-deadline" selected>' in page


def test_a_hold_on_an_earlier_run_is_shown_on_the_next_run(site: Site) -> None:
    """Issue 13: a hold stands from run to run until acted on, so the next run's review page
    shows it (with the run it was made on) and still offers the decision."""
    chair = sign_in(site.base, site.tokens.chair)
    page = start_run(chair).text
    first = re.search(r'<option value="(\d+)" selected', page)
    assert first is not None
    patient = next(
        pid for pid in proposal_ids(page) if 'class="decide' in page.split(f'<tr id="p-{pid}"')[1]
    )
    held = chair.post(
        f"/web/runs/{first[1]}/proposals/{patient}/decision",
        data={"decision": "hold", "reason": "venter på scanning", "csrf": form_csrf(page)},
    )
    assert held.status_code == 200
    later = start_run(chair).text
    assert f'<option value="{first[1]}" selected' not in later
    row = re.search(rf'<tr id="p-{re.escape(patient)}".*?</tr>', later, re.S)
    assert row is not None
    assert 'class="tag hold"' in row[0] and "venter på scanning" in row[0]
    assert f"kørsel {first[1]}" in row[0] and "Lungeformand" in row[0]
    assert 'class="decide' in row[0]
