"""The reports' one Jinja environment: templates in ``reports/templates``, HTML autoescaped.

Every report renders through :func:`template_environment` (the review page too, with its own
folder searched first), so escaping, whitespace handling and undefined names behave the same
on every page and in every printed file.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Any, Final

import jinja2

#: The folder of the reports' templates (``meeting/`` holds the meeting's).
TEMPLATES: Final = Path(__file__).resolve().parents[1] / "templates"


def template_environment(*extra: Path) -> jinja2.Environment:
    """A new Jinja environment over the report templates, ``extra`` folders searched first.

    HTML is autoescaped, block tags leave no blank lines, and a name the template uses but
    the caller did not pass is an error rather than an empty string.
    """
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader([*map(str, extra), str(TEMPLATES)]),
        autoescape=jinja2.select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


@functools.cache
def _reports_environment() -> jinja2.Environment:
    return template_environment()


def render(template: str, **context: Any) -> str:
    """``template`` (a name under ``reports/templates``) rendered with ``context``."""
    return _reports_environment().get_template(template).render(**context)


def printed_at(moment: dt.datetime | None = None) -> str:
    """When a report was made, as its footer says it: ``2026-11-27 12:00 UTC`` (now by default)."""
    return (moment or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC")
