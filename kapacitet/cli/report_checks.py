"""`kapacitet report monitoring|capacity-check`: the quarterly and annual reports."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add ``monitoring`` and ``capacity-check`` to the ``report`` group."""
