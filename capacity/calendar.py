"""The one calendar: ISO weeks written ``YYYY-Www``, their days, and horizons of weeks.

Every layer computes weeks here, so a week label means the same thing in a declaration, a
snapshot, a simulation and a report.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Final

import pandas as pd

#: An ISO week label: four-digit year, ``-W``, two-digit week (01–53).
WEEK_PATTERN: Final = r"^\d{4}-W(0[1-9]|[1-4]\d|5[0-3])$"
_WEEK: Final = re.compile(r"(\d{4})-W(\d{2})")


def week_monday(week: str) -> dt.date:
    """The Monday of ``YYYY-Www`` (``2026-W48`` → 2026-11-23); ValueError naming the form."""
    match = _WEEK.fullmatch(week.strip()) if isinstance(week, str) else None
    if match is None:
        raise ValueError(f"week {week!r} is not an ISO week like 2026-W48 (write YYYY-Www)")
    try:
        return dt.date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise ValueError(f"week {week!r} does not exist in the ISO calendar") from None


def is_week(text: str) -> bool:
    """Whether ``text`` names an existing ISO week."""
    try:
        week_monday(text)
    except ValueError:
        return False
    return True


def week_of(day: dt.date) -> str:
    """The ISO week of ``day`` as ``YYYY-Www``."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def weeks_of(dates: pd.Series) -> pd.Series:
    """The ISO week (``YYYY-Www``) of each date in a datetime Series, vectorised."""
    calendar = dates.dt.isocalendar()
    return calendar["year"].astype(str) + "-W" + calendar["week"].astype(str).str.zfill(2)


def week_days(week: str) -> list[dt.date]:
    """The seven days of an ISO week, Monday first."""
    monday = week_monday(week)
    return [monday + dt.timedelta(days=n) for n in range(7)]


def horizon(week: str, weeks: int) -> list[str]:
    """``week`` and the ``weeks - 1`` weeks after it, as labels."""
    monday = week_monday(week)
    return [week_of(monday + dt.timedelta(weeks=n)) for n in range(weeks)]


def weeks_in_year(year: int) -> int:
    """52 or 53: the number of ISO weeks of ``year``."""
    return dt.date(year, 12, 28).isocalendar()[1]
