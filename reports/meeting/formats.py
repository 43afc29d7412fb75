"""Numbers, dates and moments as a Danish (or English) reader expects them.

Danish: decimal comma and a dot between thousands (``1.234,5``), days as ``27. nov.``, times
in Danish time (Europe/Copenhagen) as ``8. dec. kl. 10.14``. English: ``1,234.5``, ``27 Nov``,
``8 Dec 10:14``. Used by the page, the pack, the minutes and the workbook's text cells.
"""

from __future__ import annotations

import datetime as dt
from typing import Final
from zoneinfo import ZoneInfo

#: The time zone every moment is shown in (stored moments are UTC).
DANISH_TIME: Final = ZoneInfo("Europe/Copenhagen")

_MONTHS: Final = {
    "da": (
        "jan.",
        "feb.",
        "mar.",
        "apr.",
        "maj",
        "jun.",
        "jul.",
        "aug.",
        "sep.",
        "okt.",
        "nov.",
        "dec.",
    ),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}
_WEEKDAYS: Final = {
    "da": ("man.", "tir.", "ons.", "tor.", "fre.", "lør.", "søn."),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}


def _lang(lang: str) -> str:
    return "en" if lang == "en" else "da"


def number(value: float | int | None, lang: str = "da", decimals: int = 0) -> str:
    """``value`` with thousands separated and ``decimals`` places: ``1.234,5`` in Danish."""
    if value is None:
        return ""
    text = f"{value:,.{decimals}f}"
    if _lang(lang) == "da":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text.replace("-", "−") if text.startswith("-") else text


def signed(value: float | int, lang: str = "da", decimals: int = 0) -> str:
    """A difference with its sign: ``+3``, ``−12``, ``0``."""
    text = number(abs(value), lang, decimals)
    if value > 0:
        return "+" + text
    if value < 0:
        return "−" + text
    return text


def day(value: dt.date | str | None, lang: str = "da", weekday: bool = False) -> str:
    """A date as ``27. nov.`` (``tor. 27. nov.`` with ``weekday``), ``27 Nov`` in English."""
    if value in (None, ""):
        return ""
    when = dt.date.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(when, dt.date)
    lang = _lang(lang)
    month = _MONTHS[lang][when.month - 1]
    text = f"{when.day}. {month}" if lang == "da" else f"{when.day} {month}"
    if weekday:
        text = f"{_WEEKDAYS[lang][when.weekday()]} {text}"
    return text


def moment(value: dt.datetime | str | None, lang: str = "da") -> str:
    """A stored moment (UTC when naive) in Danish time: ``8. dec. kl. 10.14``."""
    if value in (None, ""):
        return ""
    when = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(when, dt.datetime)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    local = when.astimezone(DANISH_TIME)
    if _lang(lang) == "da":
        return f"{day(local.date(), lang)} kl. {local:%H.%M}"
    return f"{day(local.date(), lang)} {local:%H:%M}"
