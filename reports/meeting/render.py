"""The meeting rendered: the Jinja environment of the meeting templates (the shared one with
the meeting's words, scale and filters added) and the printable pack page."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import jinja2

from reports.meeting import formats
from reports.meeting.model import SCALE, Meeting
from reports.meeting.text import TEXT, days_left_text, term
from reports.render.templates import printed_at
from reports.render.templates import template_environment as report_environment


def template_environment(*extra: Path) -> jinja2.Environment:
    """A Jinja environment over the meeting templates (and ``extra`` folders searched first)."""
    env = report_environment(*extra)
    env.globals["term"] = term
    env.globals["TEXT"] = TEXT
    env.globals["SCALE"] = SCALE
    env.globals["days_left"] = days_left_text
    env.filters["km"] = lambda v: "" if v is None else f"{v:.0f}"
    env.globals["number"] = formats.number
    env.globals["signed"] = formats.signed
    env.globals["day"] = formats.day
    env.globals["moment"] = formats.moment
    return env


def render_pack_html(meeting: Meeting, printed: dt.datetime | None = None) -> str:
    """The meeting pack as one self-contained, printable HTML page."""
    env = template_environment()
    return env.get_template("meeting/pack.html").render(
        m=meeting,
        t=TEXT[meeting.lang],
        lang=meeting.lang,
        printed=printed_at(printed),
    )
