"""The meeting pack's Excel workbook, one sheet a purpose: key figures (against current
practice), per region, the agenda, every proposal, the duty-to-act list, the capacity heatmap
(coloured as on the page) and the at-risk list, narrowed by the page's filters as the printed
pack is (:mod:`reports.meeting.selection`).

Numbers are numbers and dates are dates (moments in Danish time); every sheet has a frozen,
bold header row and an autofilter. Text cells stay text (:mod:`reports.render.spreadsheet`),
so no reason a user wrote becomes a formula.
"""

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

from reports.meeting.formats import DANISH_TIME
from reports.meeting.model import Meeting, ProposalRow
from reports.meeting.pack_text import PACK_TEXT
from reports.meeting.selection import narrowed, selection_text
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

#: How dates and moments read in the sheets (stored as Excel dates, shown this way).
DATE_FORMAT: Final = "yyyy-mm-dd"
MOMENT_FORMAT: Final = "yyyy-mm-dd hh:mm"


def proposal_header(lang: str) -> list[str]:
    """Column titles of the agenda and every-proposal sheets."""
    t, w, p = TEXT[lang], SHEET_TEXT[lang], PACK_TEXT[lang]
    return [
        t["patient"],
        t["procedure"],
        t["region"],
        w["sending_id"],
        f"{w['sending_id']} ({w['name']})",
        t["deadline"],
        t["days_to_deadline"],
        p["paused"],
        w["booked_department"],
        w["booked_date"],
        w["proposed_department"],
        f"{w['proposed_department']} ({w['name']})",
        p["receiving_region"],
        w["proposed_date"],
        t["action"],
        t["provider_type"],
        p["travel_km"],
        t["days_late"],
        p["breach"],
        t["at_risk"],
        p["reasons"],
        p["needs_decision"],
        t["reason"],
        p["alternatives"],
        p["slot_to"],
        t["decision"],
        w["decision_reason"],
        p["decided_by"],
        p["decided_at"],
        p["decision_run"],
        p["offer_status"],
    ]


def _day(value: str | dt.date | None) -> dt.date | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def local_moment(value: dt.datetime | None) -> dt.datetime | None:
    """A stored moment (UTC when naive) in Danish time, without its zone (Excel has none)."""
    if value is None:
        return None
    when = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    return when.astimezone(DANISH_TIME).replace(tzinfo=None)


def proposal_cells(meeting: Meeting, row: ProposalRow) -> list[Any]:
    """One proposal as workbook cells (dates as dates, numbers as numbers)."""
    lang, names = meeting.lang, meeting.departments
    t, w = TEXT[lang], SHEET_TEXT[lang]
    yes = w["yes"]
    alternatives = "; ".join(
        f"{a.department_id} {a.date}"
        + (f", {a.travel_km:.0f} km" if a.travel_km is not None else "")
        + (f": {a.cost_text}" if a.cost_text else "")
        for a in row.alternatives
    )
    return [
        row.patient_id,
        term(row.procedure, lang),
        row.home_region or None,
        row.home_department_id or None,
        names.get(row.home_department_id, row.home_department_id) or None,
        _day(row.deadline),
        row.days_to_deadline,
        None if row.deadline_active else yes,
        row.booked_department_id or None,
        _day(row.booked_date),
        row.department_id or None,
        names.get(row.department_id, row.department_id) if row.department_id else None,
        row.region or None,
        _day(row.date),
        term(row.action, lang),
        term(row.provider_type, lang) or None,
        None if row.travel_km is None else round(row.travel_km, 1),
        row.days_late,
        yes if row.breach else None,
        yes if row.at_risk else None,
        ", ".join(t[f"reason_{reason}"] for reason in row.agenda) or None,
        yes if row.needs_decision else None,
        row.reason_text or row.reason or None,
        alternatives or None,
        ", ".join(taker.patient_id for taker in row.slot_to) or None,
        t[row.decision] if row.decision else None,
        row.decision_reason,
        row.decided_by,
        local_moment(row.decided_at),
        row.decision_run_id,
        PACK_TEXT[lang].get(f"status_{row.offer_status}", row.offer_status)
        if row.offer_status
        else None,
    ]


def _table(sheet: Worksheet, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Header and rows with a frozen bold header, an autofilter and fitted column widths; text
    cells stay text (:mod:`reports.render.spreadsheet`), dates and moments are formatted."""
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
            if isinstance(cell.value, dt.datetime):
                cell.number_format = MOMENT_FORMAT
            elif isinstance(cell.value, dt.date):
                cell.number_format = DATE_FORMAT


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
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
    """The pack's Excel workbook, one sheet a purpose (see the module), following the
    meeting's filters."""
    meeting = narrowed(meeting)
    p = PACK_TEXT[meeting.lang]
    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    _figures_sheet(book.create_sheet(_sheet_title(p["sheet_figures"])), meeting)
    _regions_sheet(book.create_sheet(_sheet_title(p["sheet_regions"])), meeting)
    header = proposal_header(meeting.lang)
    agenda = [proposal_cells(meeting, row) for row in meeting.page_rows]
    _table(book.create_sheet(_sheet_title(p["sheet_agenda"])), header, agenda)
    every = [proposal_cells(meeting, row) for row in meeting.rows]
    _table(book.create_sheet(_sheet_title(p["sheet_all"])), header, every)
    _duty_sheet(book.create_sheet(_sheet_title(p["sheet_duty"])), meeting)
    _capacity_sheet(book.create_sheet(_sheet_title(p["sheet_capacity"])), meeting)
    _at_risk_sheet(book.create_sheet(_sheet_title(p["sheet_at_risk"])), meeting)
    return book


def _figures_sheet(sheet: Worksheet, meeting: Meeting) -> None:
    """Key figures (sheet "Nøgletal"): with sharing, current practice and the difference as
    numbers, the decisions split by kind, then the meeting's facts (collaboration, week, run,
    date, selection)."""
    lang = meeting.lang
    t, w, p = TEXT[lang], SHEET_TEXT[lang], PACK_TEXT[lang]
    rows: list[list[Any]] = []
    for f in meeting.figures:
        if f.key == "decided":
            counts = _decided_counts(f.text)
            if counts is not None:
                for kind, n in zip(("accept", "reject", "hold"), counts, strict=True):
                    rows.append([f"{f.label}: {t[kind]}", n, None, None, f"decided_{kind}"])
                continue
        difference = None
        if f.value is not None and f.baseline is not None:
            difference = f.value - f.baseline
        rows.append([f.label, f.value, f.baseline, difference, f.key])
    facts: list[list[Any]] = [
        [t["collaboration"], term(meeting.collaboration, lang), None, None, "collaboration"],
        [w["week"], meeting.week, None, None, "week"],
        [w["run"], meeting.run.run_id, None, None, "run"],
        [t["today"], meeting.today, None, None, "today"],
    ]
    selection = selection_text(meeting)
    if selection:
        facts.append([p["selection"], selection, None, None, "selection"])
    header = [p["figure"], t["with_sharing"], t["current_practice"], t["difference"], p["key"]]
    _table(sheet, header, rows + facts)


def _decided_counts(text: str) -> tuple[int, int, int] | None:
    """``accept / reject / hold`` of the decided figure's text, as numbers."""
    parts = [part.strip() for part in text.split("/")]
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        return None
    return int(parts[0]), int(parts[1]), int(parts[2])


def _regions_sheet(sheet: Worksheet, meeting: Meeting) -> None:
    """Per home region (sheet "Pr. region"): breaches and days late with sharing and under
    current practice."""
    t = TEXT[meeting.lang]
    header = [
        t["region"],
        t["fig_patients"],
        f"{t['fig_breaches']}: {t['with_sharing'].lower()}",
        f"{t['fig_breaches']}: {t['current_practice'].lower()}",
        f"{t['fig_days_late']}: {t['with_sharing'].lower()}",
        f"{t['fig_days_late']}: {t['current_practice'].lower()}",
    ]
    rows = [
        [
            r.region,
            r.patients,
            r.breaches,
            r.baseline_breaches,
            r.days_late,
            r.baseline_days_late,
        ]
        for r in meeting.regions
    ]
    _table(sheet, header, rows)


def _capacity_sheet(sheet: Worksheet, meeting: Meeting) -> None:
    """Free slots and demand per department and week, coloured as the page's heatmap."""
    t, w = TEXT[meeting.lang], SHEET_TEXT[meeting.lang]
    header = [t["department"], f"{t['department']} ({w['name']})", t["region"]]
    for week in meeting.weeks:
        header += [f"{week} {t['free']}", f"{week} {t['demand']}"]
    rows = []
    for dept in meeting.capacity:
        cells: list[Any] = [dept.department_id, dept.name, dept.region]
        for cell in dept.cells:
            cells += [cell.free, cell.demand]
        rows.append(cells)
    _table(sheet, header, rows)
    for r, dept in enumerate(meeting.capacity, start=2):
        for i, cell in enumerate(dept.cells):
            fill = PatternFill("solid", fgColor=LEVEL_FILL[cell.level])
            for column in (4 + 2 * i, 5 + 2 * i):
                sheet.cell(row=r, column=column).fill = fill


def _at_risk_sheet(sheet: Worksheet, meeting: Meeting) -> None:
    """The early warning (sheet "I risiko"): days left as a number, dates as dates."""
    lang = meeting.lang
    t, w = TEXT[lang], SHEET_TEXT[lang]
    header = [
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
    rows = [
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
    _table(sheet, header, rows)


def _duty_sheet(sheet: Worksheet, meeting: Meeting) -> None:
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
            _day(d.deadline),
            d.days_left,
            days_left_text(d.days_left, lang),
            t.get(f"why_{d.why}", d.why),
            d.proposed_department_id,
            _day(d.proposed_date),
            d.run_id,
        ]
        for d in meeting.duty_to_act
    ]
    _table(sheet, header, rows)
