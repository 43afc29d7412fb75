"""`kapacitet report meeting`: the collaboration meeting pack (HTML, PDF, Excel)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add ``meeting`` to the ``report`` group."""
