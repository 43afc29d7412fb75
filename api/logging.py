"""The server's own logs never hold a CPR-like run: uvicorn's access and error logs, redacted.

A client may put anything in a URL (``GET /v1/patients/0101901234``); the access log writes
the path as sent. :func:`install_redaction` attaches a filter that rewrites each record's
message, arguments and traceback text with :func:`capacity.pseudonym.redact` before any
handler formats it.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from capacity.pseudonym import redact

#: The loggers whose records are redacted: uvicorn's access log and its error log.
REDACTED_LOGGERS: Final = ("uvicorn.access", "uvicorn.error")


class CprRedaction(logging.Filter):
    """Rewrites a record so that no CPR-like run reaches a handler (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _redacted(value) for key, value in record.args.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def _redacted(value: Any) -> Any:
    """A log argument with CPR-like runs redacted (numbers and other values as they are)."""
    return redact(value) if isinstance(value, str) else value


def install_redaction() -> None:
    """Attach the CPR redaction to uvicorn's loggers (once, however often it is called)."""
    for name in REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, CprRedaction) for existing in logger.filters):
            logger.addFilter(CprRedaction())
