"""`kapacitet example`: write a generated, contract-conformant reference week."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the reference-data commands to the app."""
