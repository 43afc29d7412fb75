"""Danish public holidays (helligdage), and the ISO weeks they fall in.

The holidays of the Danish calendar as the hospitals plan by them: New Year's Day, Maundy
Thursday, Good Friday, Easter Sunday and Monday, Ascension Day, Whit Sunday and Monday,
Christmas Day and Boxing Day, and Great Prayer Day (store bededag) up to 2023 (abolished from
2024 by lov nr. 153 af 28. februar 2023). Easter is computed (the Gregorian computus), the
others follow from it or are fixed. Days that are customarily off but are no public holiday
(Constitution Day, Christmas Eve, New Year's Eve) are not included.

Keys name each holiday in English; :data:`NAMES_DA` gives its Danish name.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Final

from capacity import calendar

#: The last year with Great Prayer Day (store bededag) as a public holiday.
LAST_GREAT_PRAYER_DAY: Final = 2023

#: Days after Easter Sunday of the movable holidays.
_AFTER_EASTER: Final[dict[str, int]] = {
    "maundy_thursday": -3,
    "good_friday": -2,
    "easter_sunday": 0,
    "easter_monday": 1,
    "great_prayer_day": 26,
    "ascension_day": 39,
    "whit_sunday": 49,
    "whit_monday": 50,
}

#: The Danish name of each holiday.
NAMES_DA: Final[dict[str, str]] = {
    "new_years_day": "nytårsdag",
    "maundy_thursday": "skærtorsdag",
    "good_friday": "langfredag",
    "easter_sunday": "påskedag",
    "easter_monday": "2. påskedag",
    "great_prayer_day": "store bededag",
    "ascension_day": "Kristi himmelfartsdag",
    "whit_sunday": "pinsedag",
    "whit_monday": "2. pinsedag",
    "christmas_day": "juledag",
    "boxing_day": "2. juledag",
}


def easter_sunday(year: int) -> dt.date:
    """Easter Sunday of ``year`` in the Gregorian calendar (the anonymous computus)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month, day = divmod(h + leap - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


@cache
def public_holidays(year: int) -> dict[dt.date, str]:
    """The Danish public holidays of ``year``: date -> key, in date order."""
    easter = easter_sunday(year)
    days = {dt.date(year, 1, 1): "new_years_day"}
    for key, offset in _AFTER_EASTER.items():
        if key == "great_prayer_day" and year > LAST_GREAT_PRAYER_DAY:
            continue
        days[easter + dt.timedelta(days=offset)] = key
    days[dt.date(year, 12, 25)] = "christmas_day"
    days[dt.date(year, 12, 26)] = "boxing_day"
    return dict(sorted(days.items()))


def holiday(day: dt.date) -> str | None:
    """The key of the public holiday on ``day``, or None on an ordinary day."""
    return public_holidays(day.year).get(day)


def holidays_in_week(week: str) -> tuple[tuple[dt.date, str], ...]:
    """The public holidays in ISO week ``week`` (``YYYY-Www``) as ``(date, key)``, in order."""
    found = ((day, holiday(day)) for day in calendar.week_days(week))
    return tuple((day, key) for day, key in found if key is not None)
