"""`kapacitet load` and `kapacitet db`: store validated folders, manage the database."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the storage commands to the app."""
