"""The monitoring report's period, a calendar quarter, and the error for input it cannot use."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Final

QUARTER: Final = re.compile(r"(\d{4})-Q([1-4])")


class MonitoringError(ValueError):
    """Input the report cannot use; the message says what to change."""


@dataclass(frozen=True)
class Quarter:
    """A calendar quarter, ``2026-Q3``: its first and last day."""

    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """The quarter named ``YYYY-Qn``; :class:`MonitoringError` otherwise."""
        match = QUARTER.fullmatch(text.strip())
        if not match:
            raise MonitoringError(f"quarter {text!r}: expected YYYY-Qn, e.g. 2026-Q3")
        return cls(int(match.group(1)), int(match.group(2)))

    @property
    def first(self) -> dt.date:
        """The quarter's first day."""
        return dt.date(self.year, 3 * self.number - 2, 1)

    @property
    def last(self) -> dt.date:
        """The quarter's last day."""
        following = (
            dt.date(self.year + 1, 1, 1)
            if self.number == 4
            else dt.date(self.year, 3 * self.number + 1, 1)
        )
        return following - dt.timedelta(days=1)

    def mondays(self) -> list[dt.date]:
        """The Mondays inside the quarter (13 or 14)."""
        day = self.first + dt.timedelta(days=(7 - self.first.weekday()) % 7)
        out = []
        while day <= self.last:
            out.append(day)
            day += dt.timedelta(days=7)
        return out

    def previous(self) -> Quarter:
        """The quarter before this one."""
        if self.number == 1:
            return Quarter(self.year - 1, 4)
        return Quarter(self.year, self.number - 1)

    def __str__(self) -> str:
        return f"{self.year}-Q{self.number}"
