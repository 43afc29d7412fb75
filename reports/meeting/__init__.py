"""The collaboration meeting's content, built once: proposals grouped by sending and receiving
department, key figures, the capacity heatmap and the at-risk list.

The review page (``api.routers.web``) and the meeting pack (``kapacitet report meeting``:
HTML, PDF, Excel) both render a :class:`Meeting`, so what the chairs discuss on screen is what
they print. One module a concern:

- :mod:`~reports.meeting.text`: the words in Danish and English;
- :mod:`~reports.meeting.model`: filters, rows, groups, heatmap cells, the :class:`Meeting`;
- :mod:`~reports.meeting.queries`: the reads of the store (runs, decisions, patients, capacity);
- :mod:`~reports.meeting.views`: the meeting built for one caller (:func:`build_meeting`);
- :mod:`~reports.meeting.render`: the Jinja environment and the printable page;
- :mod:`~reports.meeting.workbook`: the Excel workbook;
- :mod:`~reports.meeting.pack`: the pack from the store, its three files written together.

Runs, proposals and decisions come from :mod:`workflow` (the same scoping and the same audit
log as the JSON API).
"""

from capacity.calendar import week_monday
from capacity.calendar import week_of as iso_week
from reports.meeting.model import (
    AT_RISK_DAYS,
    SCALE,
    SORT_KEYS,
    AtRiskRow,
    CapacityCell,
    CapacityRowView,
    Filters,
    Meeting,
    ProposalGroup,
    ProposalRow,
)
from reports.meeting.queries import (
    at_risk_patients,
    capacity_overview,
    default_week,
    department_names,
    horizon,
    meeting_runs,
)
from reports.meeting.render import render_pack_html, template_environment
from reports.meeting.text import ACTION_LABELS_DA, LANGUAGES, SHEET_TEXT, TEXT, term
from reports.meeting.views import build_meeting, group_rows, sort_rows
from reports.render.templates import TEMPLATES

__all__ = [
    "ACTION_LABELS_DA",
    "AT_RISK_DAYS",
    "LANGUAGES",
    "SCALE",
    "SHEET_TEXT",
    "SORT_KEYS",
    "TEMPLATES",
    "TEXT",
    "AtRiskRow",
    "CapacityCell",
    "CapacityRowView",
    "Filters",
    "Meeting",
    "ProposalGroup",
    "ProposalRow",
    "at_risk_patients",
    "build_meeting",
    "capacity_overview",
    "default_week",
    "department_names",
    "group_rows",
    "horizon",
    "iso_week",
    "meeting_runs",
    "render_pack_html",
    "sort_rows",
    "template_environment",
    "term",
    "week_monday",
]
