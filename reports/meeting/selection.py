"""The pack's selection: the page's filters applied to the pack's and the workbook's lists.

:func:`reports.meeting.views.build_meeting` narrows the agenda and the proposals by the filters;
:func:`narrowed` narrows the rest the same way, so the printed pack, its appendix and the
workbook show what the page shows: a duty-to-act or at-risk patient is listed when their
proposal passes the filters, and the capacity overview keeps the chosen region's or
department's rows. The key figures stay the whole meeting's (as on the page).
"""

from __future__ import annotations

from dataclasses import replace

from reports.meeting.model import Filters, Meeting
from reports.meeting.pack_text import PACK_TEXT
from reports.meeting.text import TEXT, term


def is_narrowed(filters: Filters) -> bool:
    """Whether any filter (not the sort) narrows what is shown."""
    return bool(
        filters.region
        or filters.department
        or filters.action
        or filters.provider_type
        or filters.at_risk
        or filters.away
    )


def narrowed(meeting: Meeting) -> Meeting:
    """``meeting`` with its duty-to-act, at-risk and capacity lists narrowed by its filters."""
    f = meeting.filters
    if not is_narrowed(f):
        return meeting
    shown = {row.patient_id for row in meeting.rows}
    return replace(
        meeting,
        duty_to_act=tuple(d for d in meeting.duty_to_act if d.patient_id in shown),
        at_risk=tuple(r for r in meeting.at_risk if r.patient_id in shown),
        capacity=tuple(
            c
            for c in meeting.capacity
            if (not f.region or c.region == f.region)
            and (not f.department or c.department_id == f.department)
        ),
    )


def selection_text(meeting: Meeting) -> str:
    """The filters in words (``Region: Nordjylland · kun i risiko``); blank when unfiltered."""
    f, lang = meeting.filters, meeting.lang
    t, p = TEXT[lang], PACK_TEXT[lang]
    parts = []
    if f.region:
        parts.append(f"{t['region']}: {f.region}")
    if f.department:
        name = meeting.departments.get(f.department, f.department)
        parts.append(f"{t['department']}: {name} ({f.department})")
    if f.action:
        parts.append(f"{t['action']}: {term(f.action, lang)}")
    if f.provider_type:
        parts.append(f"{t['provider_type']}: {term(f.provider_type, lang)}")
    if f.at_risk:
        parts.append(p["only_at_risk"])
    if f.away:
        parts.append(p["only_away"])
    return " · ".join(parts)
