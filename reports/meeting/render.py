"""The meeting rendered: the Jinja environment of the meeting templates (the shared one with
the meeting's words, scale and filters added), the printable pack, its appendix of every
proposal and the minutes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2

from reports.meeting import formats
from reports.meeting.agenda import rest_summary
from reports.meeting.model import AGENDA_REASONS, SCALE, Meeting
from reports.meeting.pack_text import PACK_TEXT
from reports.meeting.selection import narrowed, selection_text
from reports.meeting.text import TEXT, days_left_text, term
from reports.render.templates import template_environment as report_environment

if TYPE_CHECKING:
    from reports.meeting.minutes import Minutes


def template_environment(*extra: Path) -> jinja2.Environment:
    """A Jinja environment over the meeting templates (and ``extra`` folders searched first)."""
    env = report_environment(*extra)
    env.globals["term"] = term
    env.globals["TEXT"] = TEXT
    env.globals["PACK_TEXT"] = PACK_TEXT
    env.globals["SCALE"] = SCALE
    env.globals["days_left"] = days_left_text
    env.filters["km"] = lambda v: "" if v is None else f"{v:.0f}"
    env.globals["number"] = formats.number
    env.globals["signed"] = formats.signed
    env.globals["day"] = formats.day
    env.globals["moment"] = formats.moment
    return env


def render_pack_html(
    meeting: Meeting,
    printed: dt.datetime | None = None,
    *,
    appendix: str | None = None,
    appendix_label: str | None = None,
) -> str:
    """The meeting pack as one self-contained, printable HTML page: the summary, the agenda
    (the decisions to take), the duty-to-act list and the capacity overview, narrowed by the
    meeting's filters; ``appendix`` links the file (or page) with every proposal, shown as
    ``appendix_label`` (default the link itself: a file name beside the pack)."""
    shown = narrowed(meeting)
    reasons = tuple(
        (reason, sum(reason in row.agenda for row in shown.page_rows)) for reason in AGENDA_REASONS
    )
    return _render(
        "meeting/pack.html",
        shown,
        printed,
        appendix=appendix,
        appendix_label=appendix_label,
        selection=selection_text(shown),
        reasons=tuple((reason, n) for reason, n in reasons if n),
        rest=rest_summary(row for row in shown.rows if not row.agenda),
    )


def render_appendix_html(meeting: Meeting, printed: dt.datetime | None = None) -> str:
    """The pack's appendix: every proposal the filters show, by sending and receiving
    department, with its reason and decision."""
    return _render("meeting/appendix.html", meeting, printed, selection=selection_text(meeting))


def render_minutes_html(minutes: Minutes, printed: dt.datetime | None = None) -> str:
    """The minutes (referat) as one self-contained, printable HTML page."""
    env = template_environment()
    lang = minutes.lang
    return env.get_template("meeting/minutes.html").render(
        n=minutes,
        m=minutes.meeting,
        t=TEXT[lang],
        p=PACK_TEXT[lang],
        lang=lang,
        printed=formats.moment(printed or dt.datetime.now(dt.UTC), lang),
        interactive=False,
    )


def _render(name: str, meeting: Meeting, printed: dt.datetime | None, **extra: object) -> str:
    env = template_environment()
    lang = meeting.lang
    return env.get_template(name).render(
        m=meeting,
        t=TEXT[lang],
        p=PACK_TEXT[lang],
        lang=lang,
        printed=formats.moment(printed or dt.datetime.now(dt.UTC), lang),
        interactive=False,
        ui=PACK_TEXT[lang],  # the shared partials word an offer's status with ui's status_* words
        **extra,
    )
