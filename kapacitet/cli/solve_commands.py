"""`kapacitet solve` and `kapacitet demo`: propose slots for a waiting list."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the solve commands to the app."""
