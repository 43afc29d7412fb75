"""The capacity check's period: the ISO weeks of a year (or some of them) and the sampled weeks.

Weeks are computed by :mod:`capacity.calendar`, the project's one calendar.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from capacity import calendar


class CapacityCheckError(ValueError):
    """Input the capacity check cannot use; the message says what to change."""


def iso_weeks(year: int, weeks: str | None = None) -> list[str]:
    """The ISO week labels of ``year`` (52 or 53), or those named by ``weeks``: ``10-20``,
    ``1,5,9`` or a mix (numbers within the year)."""
    count = calendar.weeks_in_year(year)
    if weeks is None or not weeks.strip():
        numbers = list(range(1, count + 1))
    else:
        numbers = []
        for part in weeks.split(","):
            first, _, last = part.strip().partition("-")
            try:
                low, high = int(first), int(last or first)
            except ValueError:
                raise CapacityCheckError(
                    f"--weeks {weeks!r}: expected week numbers such as 1-52 or 10,20,30"
                ) from None
            if not 1 <= low <= high <= count:
                raise CapacityCheckError(
                    f"--weeks {weeks!r}: {part.strip()} is not within weeks 1-{count} of {year}"
                )
            numbers.extend(range(low, high + 1))
        numbers = sorted(set(numbers))
    return [f"{year}-W{n:02d}" for n in numbers]


def week_number(week: str) -> int:
    """The number of an ISO week label within its year (``2026-W09`` → 9)."""
    return calendar.week_monday(week).isocalendar()[1]


def sample_weeks(weeks: Sequence[str], count: int) -> list[str]:
    """``count`` weeks spread evenly over ``weeks``: the middle week of each of ``count`` equal
    parts (one week: the middle of the period)."""
    if count <= 0 or not weeks:
        return []
    count = min(count, len(weeks))
    picks = np.unique(np.floor((np.arange(count) + 0.5) * len(weeks) / count).astype(int))
    return [weeks[i] for i in picks]
