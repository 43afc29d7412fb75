"""CPR numbers never enter kapacitet: recognise CPR-like text, and redact it where it could leak.

A Danish CPR number is ``DDMMYY-XXXX`` (or the same ten digits without the hyphen). kapacitet
identifies patients by pseudonyms only, so every id field of every write refuses a value that
*contains* a CPR-like run (``pt0101901234`` as well as ``0101901234``), and text that leaves the
server (audit entries, access logs) has such runs replaced by :data:`REDACTED`. This module is
the one place that says what "CPR-like" means.
"""

from __future__ import annotations

import re
from typing import Any, Final

#: A CPR-like run: a plausible day (01-31) and month (01-12), two year digits, an optional
#: hyphen and four digits, anywhere in the text; or a whole value of ten digits (DDMMYY-XXXX
#: or ten digits, whatever the date), as the contract (exchange-formats.md) requires.
CPR_LIKE: Final = re.compile(
    r"(?:0[1-9]|[12]\d|3[01])(?:0[1-9]|1[0-2])\d{2}-?\d{4}|^\d{6}-?\d{4}$", re.ASCII
)
#: What a CPR-like run is replaced with in redacted text.
REDACTED: Final = "[cpr-redacted]"


def looks_like_cpr(text: str) -> bool:
    """True when ``text`` contains a CPR-like run of digits (or is ten digits)."""
    return CPR_LIKE.search(text) is not None


def redact(text: str) -> str:
    """``text`` with every CPR-like run replaced by :data:`REDACTED`."""
    return CPR_LIKE.sub(REDACTED, text)


def redact_json(value: Any) -> Any:
    """A JSON-like value (dicts, lists, strings, numbers) with every string and key redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {
            (redact(key) if isinstance(key, str) else key): redact_json(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact_json(item) for item in value]
    return value
