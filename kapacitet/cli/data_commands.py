"""`kapacitet validate` and `kapacitet example`: check a contract folder, write a reference week."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the data commands to the app."""

    @app.command("validate")
    def validate(folder: str) -> None:
        """Validate a contract folder and print its summary (exit 1 listing every problem)."""
        raise typer.Exit(3)
