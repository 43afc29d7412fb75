"""`kapacitet report meeting`: the meeting pack (HTML, PDF, Excel) has the page's content."""

from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from capacity.storage import create_database_engine
from kapacitet import cli
from reports.meeting.pack import COMMAND_LINE
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


def _pack(database_url: str, out: Path, *extra: str) -> str:
    result = CliRunner().invoke(
        cli.app,
        [
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
        ],
    )
    assert result.exit_code == 0, result.output
    return result.output


def _column(sheet: openpyxl.worksheet.worksheet.Worksheet, title: str) -> list[object]:
    header = [cell.value for cell in sheet[1]]
    index = header.index(title)
    return [row[index] for row in sheet.iter_rows(min_row=2, values_only=True)]


def test_pack_has_the_pages_proposals_decisions_and_sheets(tmp_path: Path) -> None:
    """HTML, PDF and workbook are written; the workbook lists the page's rows in its order."""
    # a lung chair sees all of lung, as the pack (printed as the specialist unit) does
    chromium_path()
    database_url = f"sqlite:///{tmp_path / 'pack.sqlite'}"
    tokens = seed_store(database_url)
    with serve(database_url) as base:
        chair = sign_in(base, tokens.chair)
        page = start_run(chair).text
        shown = proposal_ids(page)
        run_id = re.search(r'<option value="(\d+)" selected', page)
        assert run_id is not None
        accepted = next(
            pid for pid in shown if 'class="new' in page.split(f'<tr id="p-{pid}"')[1][:40]
        )
        chair.post(
            f"/web/runs/{run_id[1]}/proposals/{accepted}/decision",
            data={"decision": "accept", "csrf": chair.cookies["kapacitet_csrf"]},
        )
        at_risk_page = chair.get("/web/at-risk", params={"collaboration": "lung", "week": WEEK})
        at_risk = re.findall(r'<tr data-patient="([^"]+)"', at_risk_page.text)
        download = chair.get("/web/pack.xlsx", params={"collaboration": "lung", "week": WEEK})
        assert download.headers["content-type"].startswith("application/vnd.openxmlformats")
        downloaded = openpyxl.load_workbook(io.BytesIO(download.content))
        assert _column(downloaded["Forslag"], "Pseudonym") == shown
    out = tmp_path / "pack"
    printed = _pack(database_url, out, "--today", "2026-11-23")
    assert f"(run {run_id[1]}, {len(shown)} proposals" in printed
    html = out / f"meeting-lung-{WEEK}.html"
    pdf = out / f"meeting-lung-{WEEK}.pdf"
    xlsx = out / f"meeting-lung-{WEEK}.xlsx"
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 10_000
    assert proposal_ids(html.read_text(encoding="utf-8")) == shown
    book = openpyxl.load_workbook(xlsx)
    assert {"Nøgletal", "Forslag", "Kapacitet", "I risiko"} <= set(book.sheetnames)
    proposals = book["Forslag"]
    assert _column(proposals, "Pseudonym") == shown
    assert proposals.freeze_panes == "A2" and proposals.auto_filter.ref
    patients, decided = _column(proposals, "Pseudonym"), _column(proposals, "Beslutning")
    decisions = dict(zip(patients, decided, strict=True))
    assert decisions[accepted] == "accepteret"
    assert at_risk and _column(book["I risiko"], "Pseudonym") == at_risk
    per_department = [name for name in book.sheetnames if name.startswith("Fra ")]
    rows = sum(book[name].max_row - 1 for name in per_department)
    assert per_department and rows == len(shown)
    with browser_page(viewport={"width": 1366, "height": 900}) as browser:
        browser.goto(html.as_uri())
        browser.screenshot(path=str(artifacts_dir() / "meeting-pack.png"))


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
    assert {"Key figures", "Proposals", "Capacity", "At risk"} <= set(book.sheetnames)
    page = (out / f"meeting-lung-{WEEK}.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in page and not (out / f"meeting-lung-{WEEK}.pdf").exists()


def test_a_failed_print_leaves_no_half_written_pack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When Chromium fails to print, none of the three files is written."""
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
    section = page.split('<section id="duty-to-act"')[1].split("</section>")[0]
    assert "Handlepligt" in section
    assert expected and re.findall(r'data-duty-patient="([^"]+)"', section) == expected
    book = openpyxl.load_workbook(out / f"meeting-lung-{WEEK}.xlsx")
    assert _column(book["Handlepligt"], "Pseudonym") == expected
