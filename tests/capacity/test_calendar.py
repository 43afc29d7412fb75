"""The one calendar (capacity.calendar): ISO week labels, Mondays, days and horizons."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from capacity import calendar


def test_week_round_trips() -> None:
    assert calendar.week_monday("2026-W48") == dt.date(2026, 11, 23)
    assert calendar.week_of(dt.date(2026, 11, 29)) == "2026-W48"
    assert calendar.week_of(dt.date(2027, 1, 1)) == "2026-W53"
    assert calendar.weeks_in_year(2026) == 53 and calendar.weeks_in_year(2027) == 52


@pytest.mark.parametrize("label", ["2026-48", "2026-W60", "2027-W53", "x", ""])
def test_a_label_that_is_no_week_is_refused(label: str) -> None:
    assert not calendar.is_week(label)
    with pytest.raises(ValueError, match="ISO"):
        calendar.week_monday(label)


def test_days_and_horizons() -> None:
    assert calendar.week_days("2026-W48")[-1] == dt.date(2026, 11, 29)
    assert calendar.horizon("2026-W52", 3) == ["2026-W52", "2026-W53", "2027-W01"]
    dates = pd.Series(pd.to_datetime(["2026-11-23", "2027-01-04"]))
    assert calendar.weeks_of(dates).tolist() == ["2026-W48", "2027-W01"]
