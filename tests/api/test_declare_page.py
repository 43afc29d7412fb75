"""Issue 15.1 (with 15.2): the department's declaration page. A secretary downloads the Excel
template, fills two weeks, uploads it and sees the grid, then changes one day on the page
without touching the rest; bad values are shown next to their cell and nothing is saved."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.web_support import (
    WEEK,
    Site,
    artifacts_dir,
    browser_page,
    declared_slots,
    department_token,
    department_with_services,
    form_csrf,
    running_site,
    sign_in,
    watch_csp,
)


@pytest.fixture
def site(database_url: str) -> Iterator[Site]:
    with running_site(database_url) as running:
        yield running


def _key(name: str) -> tuple[str, str, str]:
    """(collaboration, procedure, day) of a grid input's name."""
    found = re.match(r"slots-(\w+?)-(\w+)-(\d{4}-\d\d-\d\d)$", name)
    assert found is not None, name
    return found[1], found[2], found[3]


def _inputs(page: str) -> dict[str, str]:
    return dict(re.findall(r'name="(slots-[^"]+)" value="([^"]*)"', page))


def test_the_secretary_uploads_two_weeks_then_changes_one_day(site: Site) -> None:
    department = department_with_services(site.database_url)
    token = department_token(site.database_url, department, "Sekretær")
    secretary = sign_in(site.base, token)
    review = secretary.get("/web/review")
    assert 'href="/web/declare"' in review.text, "the department's pages link its declaration"
    page = secretary.get("/web/declare", params={"week": WEEK})
    assert page.status_code == 200 and "<h1>Ledige tider:" in page.text
    before = declared_slots(site.database_url, department)
    cells = _inputs(page.text)
    assert len(cells) >= 2 * 7 * 4, "four weeks, seven days, at least two services"
    for name, value in cells.items():
        collaboration, procedure, day = _key(name)
        assert value == str(before.get((collaboration, procedure, day), "")), name

    # the template, two weeks filled, uploaded from the page
    template = secretary.get("/web/declare/template.xlsx", params={"week": WEEK})
    assert template.status_code == 200
    book = load_workbook(io.BytesIO(template.content))
    for week in book.sheetnames[:2]:
        for row in book[week].iter_rows(min_row=4, max_row=10, min_col=3, max_col=3):
            row[0].value = 11
    buffer = io.BytesIO()
    book.save(buffer)
    csrf = form_csrf(page.text)
    uploaded = secretary.post(
        "/web/declare/workbook",
        data={"csrf": csrf, "week": WEEK},
        files={"workbook": ("uge.xlsx", buffer.getvalue(), "application/octet-stream")},
    )
    assert uploaded.status_code == 200 and "Gemt:" in uploaded.text
    after_upload = declared_slots(site.database_url, department)
    changed = {k for k in set(before) | set(after_upload) if before.get(k) != after_upload.get(k)}
    assert changed and all(after_upload[k] == 11 for k in changed)
    assert len({k[2][:10] for k in changed}) <= 14
    grid = _inputs(uploaded.text)

    # one day changed on the page: only that cell changes
    name = next(n for n, v in grid.items() if v == "11")
    edited = dict(grid) | {name: "4", "csrf": csrf, "week": WEEK}
    saved = secretary.post("/web/declare", data=edited)
    assert saved.status_code == 200 and "Gemt: 1 celle(r) ændret." in saved.text
    after = declared_slots(site.database_url, department)
    delta = {k for k in set(after_upload) | set(after) if after_upload.get(k) != after.get(k)}
    collaboration, procedure, day = _key(name)
    assert (
        delta == {(collaboration, procedure, day)} and after[(collaboration, procedure, day)] == 4
    )
    assert "web: Sekretær" in saved.text, "the history says who changed it"

    # a bad value is shown next to its cell; nothing is saved
    other = next(n for n in grid if n != name)
    refused = secretary.post("/web/declare", data=edited | {name: "3", other: "mange"})
    assert refused.status_code == 422
    cell = refused.text.split(f'id="{other}"')[1].split("</td>")[0]
    assert 'aria-invalid="true"' in cell and "Skriv et helt tal" in cell
    assert 'value="mange"' in refused.text.split(f'id="{other}"')[0][-300:] + cell
    assert declared_slots(site.database_url, department) == after

    # a bad workbook lists its cells
    book["2026-W48"]["C5"] = "x"
    buffer = io.BytesIO()
    book.save(buffer)
    bad = secretary.post(
        "/web/declare/workbook",
        data={"csrf": csrf, "week": WEEK},
        files={"workbook": ("uge.xlsx", buffer.getvalue(), "application/octet-stream")},
    )
    assert bad.status_code == 422 and "2026-W48!C5" in bad.text
    assert declared_slots(site.database_url, department) == after


def test_copy_last_week_fills_the_grid_without_saving(site: Site) -> None:
    department = department_with_services(site.database_url)
    secretary = sign_in(site.base, department_token(site.database_url, department))
    page = secretary.get("/web/declare", params={"week": WEEK, "copy": "2026-W49"}).text
    cells = _inputs(page)
    before = declared_slots(site.database_url, department)
    monday_49 = [n for n in cells if n.endswith("2026-11-30")]
    assert monday_49
    for name in monday_49:
        collaboration, procedure, _day = _key(name)
        assert cells[name] == str(before.get((collaboration, procedure, "2026-11-23"), ""))
    assert "Udfyldt fra ugen før" in page
    assert declared_slots(site.database_url, department) == before


def test_only_a_department_may_declare(site: Site) -> None:
    chair = sign_in(site.base, site.tokens.chair)
    assert chair.get("/web/declare").status_code == 403


def test_the_declaration_pages_in_the_browser(site: Site, tmp_path: Path) -> None:
    """Chromium: the grid and the completeness page, no CSP violation, no serious axe issue."""
    if "sqlite" not in site.database_url:
        pytest.skip("the browser test runs once, on SQLite")
    axe = pytest.importorskip("axe_playwright_python.sync_playwright").Axe()
    department = department_with_services(site.database_url)
    token = department_token(site.database_url, department, "Sekretær")
    shots = artifacts_dir()
    with browser_page(viewport={"width": 1366, "height": 900}, locale="da-DK") as page:
        refused = watch_csp(page)
        page.goto(f"{site.base}/web/declare?week={WEEK}")
        page.get_by_label("Adgangstoken").fill(token)
        page.get_by_label("Adgangstoken").press("Enter")
        page.wait_for_selector("table.declare-grid")
        first = page.locator("table.declare-grid input").first
        first.fill("abc")
        page.get_by_role("button", name="Gem indmeldingen").click()
        page.wait_for_selector("[aria-invalid=true]")
        page.screenshot(path=str(shots / "declare-error.png"))
        serious = [
            v["id"]
            for v in axe.run(page).response["violations"]
            if v.get("impact") in ("serious", "critical")
        ]
        assert serious == []
        page.goto(f"{site.base}/web/declarations?week={WEEK}")
        page.wait_for_selector("table.declarations")
        page.screenshot(path=str(shots / "declarations.png"))
        serious = [
            v["id"]
            for v in axe.run(page).response["violations"]
            if v.get("impact") in ("serious", "critical")
        ]
        assert serious == []
        assert refused == []
