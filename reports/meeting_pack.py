"""The meeting pack: the review page's content as printable HTML, PDF and an Excel workbook.

``kapacitet report meeting`` calls :func:`meeting_from_store` and :func:`write_pack`. The pack
reads the newest finished run of the collaboration and week (or solves one on the store's
snapshot when there is none) and renders the same :class:`reports.meeting.Meeting` the page
shows. All three files are written in a scratch folder and moved into place only when every one
of them succeeded, so a failure leaves no half-written pack.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from api import runs
from api.schemas import SolveRun, SolveRunIn
from api.security import Principal, Role
from capacity.storage import create_database_engine, upgrade_database
from reports.files import staged_output
from reports.meeting import (
    AT_RISK_DAYS,
    TEXT,
    Meeting,
    ProposalRow,
    build_meeting,
    meeting_runs,
    render_pack_html,
    term,
    week_monday,
)
from reports.pdf import html_to_pdf
from reports.spreadsheet import append_row

#: Who the command line acts as: the specialist unit, which sees every proposal. Its runs and
#: their audit entries carry token id 0 and this name (no bearer token is involved).
COMMAND_LINE = Principal(token_id=0, name="kapacitet report meeting", role=Role.SPECIALIST_UNIT)

#: Heatmap colours in the workbook, as on the page (ARGB without alpha).
LEVEL_FILL = {
    "none": "F1F1F1",
    "surplus": "B9E4B0",
    "balanced": "FFF1A8",
    "short": "FDB97D",
    "severe": "EE7B70",
}

#: Words the workbook needs beyond the page's.
SHEET_TEXT: dict[str, dict[str, str]] = {
    "da": {
        "kpis": "Nøgletal",
        "proposals": "Forslag",
        "capacity": "Kapacitet",
        "at_risk": "I risiko",
        "from": "Fra",
        "sending_id": "Fra afdeling",
        "receiving_id": "Til afdeling",
        "name": "navn",
        "booked_department": "Booket afdeling",
        "booked_date": "Booket dato",
        "proposed_department": "Foreslået afdeling",
        "proposed_date": "Foreslået dato",
        "decision_reason": "Begrundelse for beslutning",
        "yes": "ja",
        "run": "Kørsel",
        "week": "Uge",
    },
    "en": {
        "kpis": "Key figures",
        "proposals": "Proposals",
        "capacity": "Capacity",
        "at_risk": "At risk",
        "from": "From",
        "sending_id": "From department",
        "receiving_id": "To department",
        "name": "name",
        "booked_department": "Booked department",
        "booked_date": "Booked date",
        "proposed_department": "Proposed department",
        "proposed_date": "Proposed date",
        "decision_reason": "Reason for decision",
        "yes": "yes",
        "run": "Run",
        "week": "Week",
    },
}


@dataclass(frozen=True)
class PackFiles:
    """Where the meeting pack's three files were written."""

    html: Path
    pdf: Path | None
    xlsx: Path


def meeting_from_store(
    database_url: str | None,
    collaboration: str,
    week: str,
    *,
    run_id: int | None = None,
    today: dt.date | None = None,
    lang: str = "da",
    at_risk_days: int = AT_RISK_DAYS,
) -> Meeting:
    """The meeting of ``collaboration`` and ``week``: run ``run_id``, else the newest finished
    run covering them, else a new run solved on the store's snapshot now (dated ``today``, or
    the week's Monday)."""
    week_monday(week)  # a ValueError names a malformed week before anything is solved
    engine = create_database_engine(database_url)
    try:
        upgrade_database(engine)
        with engine.begin() as conn:
            run: SolveRun | None
            if run_id is not None:
                run = _usable_run(runs.get_run(conn, run_id), collaboration)
            else:
                found = meeting_runs(conn, collaboration, week)
                run = found[0] if found else None
        if run is None:
            body = SolveRunIn.model_validate(
                {
                    "today": today or week_monday(week),
                    "week": week,
                    "collaboration": collaboration,
                }
            )
            run = runs.start_run(engine, COMMAND_LINE, body, "kapacitet report meeting")
        with engine.begin() as conn:
            return build_meeting(
                conn,
                COMMAND_LINE,
                run,
                collaboration=collaboration,
                week=week,
                today=today,
                lang=lang,
                at_risk_days=at_risk_days,
            )
    finally:
        engine.dispose()


def _usable_run(run: SolveRun, collaboration: str) -> SolveRun:
    """``run`` when it is finished and covers ``collaboration``; ValueError saying why not."""
    status = getattr(run, "status", "done")
    if status != "done":
        raise ValueError(f"solve run {run.run_id} is {status}, not done; choose a finished run")
    if run.collaboration not in (None, collaboration):
        raise ValueError(f"solve run {run.run_id} solved {run.collaboration}, not {collaboration}")
    return run


def pack_stem(meeting: Meeting) -> str:
    """The files' common name: ``meeting-lung-2026-W48``."""
    return f"meeting-{meeting.collaboration}-{meeting.week}"


def write_pack(meeting: Meeting, out_dir: Path, *, pdf: bool = True) -> PackFiles:
    """Write the pack's HTML, PDF (unless ``pdf`` is false) and workbook into ``out_dir``.

    Everything is rendered in a scratch folder beside ``out_dir`` first; the files replace any
    earlier pack only when all of them were written.
    """
    stem = pack_stem(meeting)
    with staged_output(out_dir, stem) as staged:
        work = staged.work
        html_path = work / f"{stem}.html"
        html_path.write_text(render_pack_html(meeting), encoding="utf-8")
        write_workbook(meeting, work / f"{stem}.xlsx")
        if pdf:
            html_to_pdf(html_path, work / f"{stem}.pdf")
    return PackFiles(
        html=out_dir / f"{stem}.html",
        pdf=out_dir / f"{stem}.pdf" if pdf else None,
        xlsx=out_dir / f"{stem}.xlsx",
    )


# ---- the workbook -------------------------------------------------------------------------


def proposal_header(lang: str) -> list[str]:
    """Column titles of the proposals sheets."""
    t, w = TEXT[lang], SHEET_TEXT[lang]
    return [
        w["sending_id"],
        f"{w['sending_id']} ({w['name']})",
        w["receiving_id"],
        f"{w['receiving_id']} ({w['name']})",
        t["patient"],
        t["procedure"],
        t["deadline"],
        w["booked_department"],
        w["booked_date"],
        w["proposed_department"],
        w["proposed_date"],
        t["travel_km"],
        t["provider_type"],
        t["action"],
        t["days_late"],
        t["at_risk"],
        t["reason"],
        t["decision"],
        w["decision_reason"],
    ]


def _day(value: str) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def proposal_cells(meeting: Meeting, row: ProposalRow) -> list[Any]:
    """One proposal as workbook cells (dates as dates, numbers as numbers)."""
    lang, names = meeting.lang, meeting.departments
    t, w = TEXT[lang], SHEET_TEXT[lang]
    return [
        row.home_department_id,
        names.get(row.home_department_id, row.home_department_id),
        row.department_id or None,
        names.get(row.department_id, row.department_id) if row.department_id else None,
        row.patient_id,
        term(row.procedure, lang),
        _day(row.deadline),
        row.booked_department_id or None,
        _day(row.booked_date),
        row.department_id or None,
        _day(row.date),
        None if row.travel_km is None else round(row.travel_km, 1),
        term(row.provider_type, lang),
        term(row.action, lang),
        row.days_late,
        w["yes"] if row.at_risk else None,
        row.reason,
        t[row.decision] if row.decision else None,
        row.decision_reason,
    ]


def _table(sheet: Worksheet, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Header and rows with a frozen bold header, an autofilter and fitted column widths; text
    cells stay text (:mod:`reports.spreadsheet`)."""
    append_row(sheet, header)
    for cells in rows:
        append_row(sheet, cells)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    if header:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{max(len(rows) + 1, 2)}"
    for index, title in enumerate(header, start=1):
        values = [title, *(r[index - 1] for r in rows)]
        longest = max(len(_shown(v)) for v in values)
        sheet.column_dimensions[get_column_letter(index)].width = min(max(longest + 2, 8), 60)
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _sheet_title(text: str) -> str:
    """A valid, at most 31 characters long sheet title."""
    return re.sub(r"[\[\]:*?/\\]", "-", text)[:31]


def write_workbook(meeting: Meeting, path: Path) -> Path:
    """Save :func:`meeting_workbook` at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    meeting_workbook(meeting).save(path)
    return path


def meeting_workbook(meeting: Meeting) -> Workbook:
    """The pack's Excel workbook: key figures, every proposal, one sheet per sending
    department, the capacity overview and the at-risk list."""
    lang = meeting.lang
    t, w = TEXT[lang], SHEET_TEXT[lang]
    book = Workbook()
    kpis = book.active
    assert kpis is not None
    kpis.title = _sheet_title(w["kpis"])
    facts = [
        (t["collaboration"], term(meeting.collaboration, lang)),
        (w["week"], meeting.week),
        (w["run"], meeting.run.run_id),
        (t["today"], meeting.today),
        *meeting.kpis,
    ]
    _table(kpis, [t["kpis"], ""], facts)

    header = proposal_header(lang)
    rows = [proposal_cells(meeting, row) for row in meeting.rows]
    _table(book.create_sheet(_sheet_title(w["proposals"])), header, rows)
    for group_sending in dict.fromkeys(g.sending for g in meeting.groups):
        own = [
            proposal_cells(meeting, row)
            for g in meeting.groups
            if g.sending == group_sending
            for row in g.rows
        ]
        title = _sheet_title(f"{w['from']} {group_sending}")
        _table(book.create_sheet(title), header, own)

    capacity = book.create_sheet(_sheet_title(w["capacity"]))
    cap_header = [t["department"], f"{t['department']} ({w['name']})", t["region"]]
    for week in meeting.weeks:
        cap_header += [f"{week} {t['free']}", f"{week} {t['demand']}"]
    cap_rows = []
    for dept in meeting.capacity:
        cells: list[Any] = [dept.department_id, dept.name, dept.region]
        for cell in dept.cells:
            cells += [cell.free, cell.demand]
        cap_rows.append(cells)
    _table(capacity, cap_header, cap_rows)
    for r, dept in enumerate(meeting.capacity, start=2):
        for i, cell in enumerate(dept.cells):
            fill = PatternFill("solid", fgColor=LEVEL_FILL[cell.level])
            for column in (4 + 2 * i, 5 + 2 * i):
                capacity.cell(row=r, column=column).fill = fill

    risk_header = [
        t["patient"],
        t["procedure"],
        t["region"],
        t["sending"],
        t["deadline"],
        t["days_left"],
        w["booked_department"],
        w["booked_date"],
        w["proposed_department"],
        w["proposed_date"],
        t["action"],
        t["days_late"],
    ]
    risk_rows = [
        [
            r.patient_id,
            term(r.procedure, lang),
            r.home_region,
            r.home_department_id,
            _day(r.deadline),
            r.days_left,
            r.booked_department_id or None,
            _day(r.booked_date),
            r.proposed_department_id or None,
            _day(r.proposed_date),
            term(r.proposed_action, lang) if r.proposed_action else None,
            r.proposed_days_late if r.proposed_action else None,
        ]
        for r in meeting.at_risk
    ]
    _table(book.create_sheet(_sheet_title(w["at_risk"])), risk_header, risk_rows)
    return book
