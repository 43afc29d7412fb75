"""`kapacitet report meeting`: the pack for the table (agenda first, at most 12 A4 pages for the
national lung week), its appendix of every proposal, and the workbook, all following the
review page's filters."""

from __future__ import annotations

import datetime as dt
import io
import re
import time
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from openpyxl.worksheet.worksheet import Worksheet
from typer.testing import CliRunner

from capacity.generate import generate_week
from capacity.storage import create_database_engine, load_dataset
from kapacitet import cli
from reports.meeting.pack import COMMAND_LINE, meeting_from_store
from reports.meeting.render import render_pack_html
from reports.render.pdf import html_to_pdf
from tests.http_server import serve
from tests.web_support import (
    WEEK,
    artifacts_dir,
    browser_page,
    chromium_path,
    proposal_ids,
    seed_store,
    sign_in,
    start_run,
)
from workflow import tables as store
from workflow.duty_to_act import duty_to_act

#: The workbook's sheets, one a purpose (Danish and English names).
SHEETS_DA = [
    "Nøgletal",
    "Pr. region",
    "Dagsorden",
    "Alle forslag",
    "Handlepligt",
    "Kapacitet",
    "I risiko",
]
SHEETS_EN = [
    "Key figures",
    "By region",
    "Agenda",
    "All proposals",
    "Duty to act",
    "Capacity",
    "At risk",
]
#: Text that reads as a number (a number stored as text in a sheet).
NUMBER_AS_TEXT = re.compile(r"[−+-]?\d[\d.,]*")


def _invoke(*arguments: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli.app, list(arguments))
    return result.exit_code, result.output


def _pack(database_url: str, out: Path, *extra: str) -> str:
    code, output = _invoke(
        "report",
        "meeting",
        "--collaboration",
        "lung",
        "--week",
        WEEK,
        "--db",
        database_url,
        "--out",
        str(out),
        *extra,
    )
    assert code == 0, output
    return output


def _column(sheet: Worksheet, title: str) -> list[object]:
    header = [cell.value for cell in sheet[1]]
    index = header.index(title)
    return [row[index] for row in sheet.iter_rows(min_row=2, values_only=True)]


def _section(page: str, section_id: str) -> str:
    return page.split(f'<section id="{section_id}"')[1].split("</section>")[0]


def _agenda_ids(pack_html: str) -> list[str]:
    """The patients of the pack's agenda table, in its order."""
    return proposal_ids(_section(pack_html, "agenda"))


def _pdf_pages(pdf: bytes) -> int:
    """Pages of a PDF Chromium printed (its page objects)."""
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))


def _assert_typed(book: openpyxl.Workbook) -> None:
    """Every sheet has a frozen header and an autofilter, and no number is stored as text."""
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        assert sheet.auto_filter.ref, sheet.title
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str):
                    assert not NUMBER_AS_TEXT.fullmatch(cell.value), (sheet.title, cell.coordinate)
                    assert cell.data_type != "f", (sheet.title, cell.coordinate)


def test_pack_has_the_agenda_first_the_appendix_every_proposal_and_typed_sheets(
    tmp_path: Path,
) -> None:
    """The pack is the page's agenda (in its order, with the decision taken), after the key
    figures and before the duty-to-act list and the capacity overview; the appendix holds every
    proposal the page lists; the workbook has one sheet a purpose, typed."""
    chromium_path()
    database_url = f"sqlite:///{tmp_path / 'pack.sqlite'}"
    tokens = seed_store(database_url)
    with serve(database_url) as base:
        chair = sign_in(base, tokens.chair)
        page = start_run(chair).text
        agenda = proposal_ids(page)
        run_id = re.search(r'<option value="(\d+)" selected', page)
        assert run_id is not None and agenda
        accepted = next(
            pid for pid in agenda if 'class="new' in page.split(f'<tr id="p-{pid}"')[1][:40]
        )
        chair.post(
            f"/web/runs/{run_id[1]}/proposals/{accepted}/decision",
            data={"decision": "accept", "csrf": chair.cookies["kapacitet_csrf"]},
        )
        params = {"collaboration": "lung", "week": WEEK}
        every = proposal_ids(chair.get("/web/review", params=params | {"view": "all"}).text)
        at_risk_page = chair.get("/web/at-risk", params=params | {"days": "30"})
        at_risk = re.findall(r'<tr data-patient="([^"]+)"', at_risk_page.text)
        review = chair.get("/web/review", params=params).text
        assert 'href="/web/pack/appendix?' in review and 'href="/web/minutes?' in review
        download = chair.get("/web/pack.xlsx", params=params)
        assert download.headers["content-type"].startswith("application/vnd.openxmlformats")
        downloaded = openpyxl.load_workbook(io.BytesIO(download.content))
        assert _column(downloaded["Dagsorden"], "Pseudonym") == agenda
        web_pack = chair.get("/web/pack", params=params).text
        assert _agenda_ids(web_pack) == agenda
        assert 'href="/web/pack/appendix?' in web_pack
        web_appendix = chair.get("/web/pack/appendix", params=params)
        assert web_appendix.status_code == 200
        assert sorted(proposal_ids(web_appendix.text)) == sorted(every)
    assert len(every) == len(set(every)) > len(agenda)
    out = tmp_path / "pack"
    printed = _pack(database_url, out, "--today", "2026-11-23", "--at-risk-days", "30")
    assert f"(run {run_id[1]}, {len(every)} proposals, {len(agenda)} on the agenda" in printed
    stem = out / f"meeting-lung-{WEEK}"
    html = stem.with_suffix(".html").read_text(encoding="utf-8")
    pdf = stem.with_suffix(".pdf").read_bytes()
    appendix = (out / f"meeting-lung-{WEEK}-appendix.html").read_text(encoding="utf-8")
    assert pdf[:5] == b"%PDF-" and 1 <= _pdf_pages(pdf) <= 12
    assert (out / f"meeting-lung-{WEEK}-appendix.pdf").read_bytes()[:5] == b"%PDF-"
    # the agenda first: summary, decisions, duty to act, capacity; the agenda in the page's order
    order = [
        html.index(mark)
        for mark in ('id="figures-h"', 'id="agenda"', 'id="duty-to-act"', 'id="capacity"')
    ]
    assert order == sorted(order)
    assert _agenda_ids(html) == agenda
    assert f"meeting-lung-{WEEK}-appendix.pdf" in html
    assert 'data-figure="breaches"' in html and "Nuværende praksis" in html
    assert 'class="tag accept"' in _section(html, "agenda").split(f'id="p-{accepted}"')[1]
    # the appendix: every proposal once
    listed = proposal_ids(appendix)
    assert sorted(listed) == sorted(every) and len(listed) == len(every)
    book = openpyxl.load_workbook(stem.with_suffix(".xlsx"))
    assert book.sheetnames == SHEETS_DA
    _assert_typed(book)
    assert _column(book["Dagsorden"], "Pseudonym") == agenda
    assert _column(book["Alle forslag"], "Pseudonym") == listed
    sheet = book["Dagsorden"]
    row = _column(sheet, "Pseudonym").index(accepted)
    assert _column(sheet, "Beslutning")[row] == "accepteret"
    assert _column(sheet, "Besluttet af")[row] == "Lungeformand"
    assert isinstance(_column(sheet, "Besluttet (dansk tid)")[row], dt.datetime)
    # (the small week may have nobody at risk: the proposed slots all meet their deadlines)
    assert _column(book["I risiko"], "Pseudonym") == at_risk
    with browser_page(viewport={"width": 1366, "height": 900}) as browser:
        browser.goto(stem.with_suffix(".html").as_uri())
        browser.screenshot(path=str(artifacts_dir() / "meeting-pack.png"))


def test_workbook_cells_are_numbers_dates_and_moments(tmp_path: Path) -> None:
    """Key figures, distances, days and runs are numbers; deadlines and days are dates; the
    moment of a decision is a date-time in Danish time."""
    database_url = f"sqlite:///{tmp_path / 'pack.sqlite'}"
    seed_store(database_url)
    out = tmp_path / "pack"
    _pack(database_url, out, "--no-pdf", "--lang", "en")
    book = openpyxl.load_workbook(out / f"meeting-lung-{WEEK}.xlsx")
    assert book.sheetnames == SHEETS_EN
    _assert_typed(book)
    figures = {row[4]: row for row in book["Key figures"].iter_rows(min_row=2, values_only=True)}
    breaches = figures["breaches"]
    assert isinstance(breaches[1], int) and isinstance(breaches[2], int)
    assert breaches[3] == breaches[1] - breaches[2]
    assert isinstance(figures["run"][1], int) and isinstance(figures["today"][1], dt.datetime)
    every = book["All proposals"]
    assert all(isinstance(v, dt.datetime) for v in _column(every, "Deadline") if v is not None)
    assert all(isinstance(v, int | float) for v in _column(every, "Travel (km)") if v is not None)
    days = [v for v in _column(every, "Days to deadline") if v is not None]
    assert days and all(isinstance(v, int) for v in days)
    regions = book["By region"]
    assert all(isinstance(v, int) for v in _column(regions, "Patients"))
    capacity = book["Capacity"]
    assert all(
        isinstance(c, int)
        for row in capacity.iter_rows(min_row=2, min_col=4, values_only=True)
        for c in row
    )


def test_filters_narrow_the_pack_the_appendix_and_the_workbook_alike(tmp_path: Path) -> None:
    """``--region`` (the page's ``?region=``) narrows the agenda, the appendix, the duty-to-act
    list, the capacity rows and the workbook's sheets the same way, on the page and the CLI."""
    database_url = f"sqlite:///{tmp_path / 'pack.sqlite'}"
    tokens = seed_store(database_url)
    _pack(database_url, tmp_path / "all", "--no-pdf")
    region = "Syddanmark"
    out = tmp_path / "region"
    _pack(database_url, out, "--no-pdf", "--region", region)
    whole = (tmp_path / "all" / f"meeting-lung-{WEEK}.html").read_text(encoding="utf-8")
    html = (out / f"meeting-lung-{WEEK}.html").read_text(encoding="utf-8")
    appendix = (out / f"meeting-lung-{WEEK}-appendix.html").read_text(encoding="utf-8")
    agenda, listed = _agenda_ids(html), proposal_ids(appendix)
    assert agenda and set(agenda) < set(_agenda_ids(whole))
    assert "Udsnit:" in html and f"Region: {region}" in html
    rows = re.findall(
        r'<tr id="p-[^"]+" [^>]*data-region="([^"]*)" data-to-region="([^"]*)"',
        _section(html, "agenda"),
    )
    assert rows and all(region in pair for pair in rows)
    book = openpyxl.load_workbook(out / f"meeting-lung-{WEEK}.xlsx")
    assert _column(book["Dagsorden"], "Pseudonym") == agenda
    assert _column(book["Alle forslag"], "Pseudonym") == listed
    sending = _column(book["Alle forslag"], "Region")
    receiving = _column(book["Alle forslag"], "Modtagende region")
    assert all(region in pair for pair in zip(sending, receiving, strict=True))
    duty = re.findall(r'data-duty-patient="([^"]+)"', _section(html, "duty-to-act"))
    assert set(duty) <= set(listed) and _column(book["Handlepligt"], "Pseudonym") == duty
    assert set(_column(book["Kapacitet"], "Region")) == {region}
    with serve(database_url) as base:
        chair = sign_in(base, tokens.chair)
        params = {"collaboration": "lung", "week": WEEK, "region": region}
        page = chair.get("/web/pack", params=params).text
        assert _agenda_ids(page) == agenda
        assert f"/web/pack/appendix?collaboration=lung&amp;week={WEEK}&amp;region={region}" in page
        assert proposal_ids(chair.get("/web/pack/appendix", params=params).text) == listed
        download = chair.get("/web/pack.xlsx", params=params)
        web_book = openpyxl.load_workbook(io.BytesIO(download.content))
        assert _column(web_book["Dagsorden"], "Pseudonym") == agenda
        assert _column(web_book["Alle forslag"], "Pseudonym") == listed
        review = chair.get("/web/review", params=params).text
        assert f"/web/pack.xlsx?collaboration=lung&amp;week={WEEK}" in review
        assert re.search(r'href="/web/pack\?[^"]*region=Syddanmark', review)


def _national_pack_pages(tmp_path: Path, scale: float) -> tuple[int, float]:
    """Pages of the pack of the generated national lung week at ``scale``, and the seconds
    it took to build and print it (solving the week first)."""
    chromium_path()
    database_url = f"sqlite:///{tmp_path / 'national.sqlite'}"
    load_dataset(database_url, generate_week(week=WEEK, seed=2026, scale=scale))
    started = time.perf_counter()
    meeting = meeting_from_store(database_url, "lung", WEEK, today=dt.date(2026, 11, 23))
    html = tmp_path / "pack.html"
    html.write_text(render_pack_html(meeting, appendix="appendix.pdf"), encoding="utf-8")
    pdf = html_to_pdf(html, tmp_path / "pack.pdf")
    assert meeting.page_rows, "the week has an agenda"
    return _pdf_pages(pdf.read_bytes()), time.perf_counter() - started


def test_the_national_lung_week_pack_has_at_most_12_pages(tmp_path: Path) -> None:
    """The generated national week at full scale (975 lung proposals, 60 on the agenda) prints
    on at most 12 A4 pages (11 measured; every proposal, as the old pack printed, took 123).
    Solving, building and printing it takes about 6 s, so it runs by default."""
    pages, seconds = _national_pack_pages(tmp_path, 1.0)
    assert pages <= 12, f"{pages} pages"
    assert seconds < 120


def test_pack_solves_a_run_when_the_week_has_none(tmp_path: Path) -> None:
    """Without a run for the week, the pack solves one on the snapshot (audited) in English."""
    database_url = f"sqlite:///{tmp_path / 'pack.sqlite'}"
    seed_store(database_url)
    out = tmp_path / "pack"
    _pack(database_url, out, "--lang", "en", "--no-pdf")
    engine = create_database_engine(database_url)
    with engine.connect() as conn:
        run = conn.execute(sa.select(store.solve_runs)).one()
        audit = conn.execute(
            sa.select(store.audit_log.c.token_name).where(
                store.audit_log.c.resource_id == str(run.run_id),
                store.audit_log.c.path == "kapacitet report meeting",
            )
        ).scalars()
        names = list(audit)
    engine.dispose()
    assert (run.collaboration, run.week) == ("lung", WEEK)
    assert names == ["kapacitet report meeting"]
    book = openpyxl.load_workbook(out / f"meeting-lung-{WEEK}.xlsx")
    assert book.sheetnames == SHEETS_EN
    page = (out / f"meeting-lung-{WEEK}.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in page and not (out / f"meeting-lung-{WEEK}.pdf").exists()
    assert f"meeting-lung-{WEEK}-appendix.html" in page


def test_a_failed_print_leaves_no_half_written_pack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When Chromium fails to print, none of the pack's files is written."""
    database_url = f"sqlite:///{tmp_path / 'pack.sqlite'}"
    seed_store(database_url)
    monkeypatch.setenv("KAPACITET_CHROMIUM", "/bin/false")
    out = tmp_path / "pack"
    arguments = ["report", "meeting", "--collaboration", "lung", "--week", WEEK]
    result = CliRunner().invoke(cli.app, [*arguments, "--db", database_url, "--out", str(out)])
    assert result.exit_code == 1
    assert "nothing was written" in result.output
    assert list(out.iterdir()) == []


def test_unknown_collaboration_is_named_with_a_hint(tmp_path: Path) -> None:
    """A misspelt collaboration is refused before anything is read or solved."""
    result = CliRunner().invoke(
        cli.app, ["report", "meeting", "--collaboration", "lunge", "--week", WEEK]
    )
    assert result.exit_code == 2 and "did you mean 'lung'" in result.output


def test_a_bad_week_run_or_filter_exits_2_naming_it(tmp_path: Path) -> None:
    """A week that does not exist, an unknown run, a run of another week, or an unknown action
    is refused with exit 2 and a message naming the option; nothing is written."""
    database_url = f"sqlite:///{tmp_path / 'pack.sqlite'}"
    seed_store(database_url)
    out = tmp_path / "pack"
    _pack(database_url, out, "--no-pdf")  # run 1, of WEEK
    base = ["report", "meeting", "--collaboration", "lung", "--db", database_url, "--no-pdf"]
    cases = {
        ("--week", "2026-W99"): "--week: expected an existing ISO week",
        ("--week", "48"): "--week: expected an existing ISO week",
        ("--week", WEEK, "--run", "99"): "--run: there is no solve run 99",
        ("--week", "2026-W49", "--run", "1"): f"--run: solve run 1 is of week {WEEK}, not 2026-W49",
        ("--week", WEEK, "--action", "teleport"): "--action: expected one of",
        ("--week", WEEK, "--sort", "height"): "--sort: expected one of",
    }
    for extra, message in cases.items():
        code, output = _invoke(*base, *extra, "--out", str(tmp_path / "refused"))
        assert code == 2 and message in output, (extra, output)
        assert "Traceback" not in output
    assert not (tmp_path / "refused").exists() or not list((tmp_path / "refused").iterdir())


def test_pack_has_the_duty_to_act_section_and_sheet(tmp_path: Path) -> None:
    """The pack lists the collaboration's duty-to-act patients (as of the run's date, as the
    command line sees them) in an HTML section and a "Handlepligt" sheet, in the same order."""
    database_url = f"sqlite:///{tmp_path / 'pack.sqlite'}"
    seed_store(database_url)
    out = tmp_path / "pack"
    _pack(database_url, out, "--no-pdf")
    engine = create_database_engine(database_url)
    with engine.connect() as conn:
        run = conn.execute(sa.select(store.solve_runs)).one()
    expected = [
        d.patient_id for d in duty_to_act(engine, COMMAND_LINE, run.today, collaboration="lung")
    ]
    engine.dispose()
    page = (out / f"meeting-lung-{WEEK}.html").read_text(encoding="utf-8")
    section = _section(page, "duty-to-act")
    assert "Handlepligt" in section
    assert expected and re.findall(r'data-duty-patient="([^"]+)"', section) == expected
    book = openpyxl.load_workbook(out / f"meeting-lung-{WEEK}.xlsx")
    assert _column(book["Handlepligt"], "Pseudonym") == expected
