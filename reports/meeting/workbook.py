"""The meeting pack's Excel workbook: key figures, every proposal, one sheet per sending
department, the capacity heatmap (coloured as on the page) and the at-risk list. Text cells stay
text (:mod:`reports.render.spreadsheet`)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from reports.meeting.model import Meeting, ProposalRow
from reports.meeting.text import SHEET_TEXT, TEXT, days_left_text, term
from reports.render.spreadsheet import append_row

#: Heatmap colours in the workbook, as on the page (ARGB without alpha).
LEVEL_FILL: Final = {
    "none": "F1F1F1",
    "surplus": "B9E4B0",
    "balanced": "FFF1A8",
    "short": "FDB97D",
    "severe": "EE7B70",
}


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
    cells stay text (:mod:`reports.render.spreadsheet`)."""
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
    _duty_sheet(book, meeting)
    return book


def _duty_sheet(book: Workbook, meeting: Meeting) -> None:
    """The duty-to-act list (sheet "Handlepligt"): days left as a number and in words."""
    lang = meeting.lang
    t, w = TEXT[lang], SHEET_TEXT[lang]
    header = [
        t["patient"],
        t["procedure"],
        t["region"],
        t["sending"],
        f"{t['sending']} ({w['name']})",
        t["deadline"],
        t["days_left"],
        f"{t['days_left']} ({w['in_words']})",
        t["why"],
        w["proposed_department"],
        w["proposed_date"],
        w["run"],
    ]
    rows = [
        [
            d.patient_id,
            term(d.procedure, lang),
            d.home_region,
            d.home_department_id,
            meeting.departments.get(d.home_department_id, d.home_department_id),
            d.deadline,
            d.days_left,
            days_left_text(d.days_left, lang),
            t.get(f"why_{d.why}", d.why),
            d.proposed_department_id,
            d.proposed_date,
            d.run_id,
        ]
        for d in meeting.duty_to_act
    ]
    _table(book.create_sheet(_sheet_title(w["duty_to_act"])), header, rows)
