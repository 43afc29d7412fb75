"""`kapacitet example`: write a generated, contract-conformant reference week."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from capacity.frames import Dataset
from capacity.generate import HORIZON_DAYS, generate_week, write_folder


def register(app: typer.Typer) -> None:
    """Add the reference-data commands to the app."""

    @app.command("example")
    def example(
        folder: Annotated[Path, typer.Argument(help="Folder to write the four contract CSVs to.")],
        week: Annotated[str, typer.Option(help="ISO week whose Monday is 'today'.")] = "2026-W48",
        seed: Annotated[
            int, typer.Option(help="Random seed; the same seed gives the same week.")
        ] = 2026,
        scale: Annotated[
            float,
            typer.Option(help="Multiplies patients and free slots (1 = a national week, ~5,000)."),
        ] = 1.0,
    ) -> None:
        """Write a generated national week (real departments, synthetic patients) to FOLDER."""
        try:
            dataset = generate_week(week=week, seed=seed, scale=scale)
        except ValueError as error:
            typer.echo(f"example: {error}", err=True)
            raise typer.Exit(2) from error
        write_folder(dataset, folder)
        typer.echo(f"wrote {folder}: {summary(dataset)}")


def summary(dataset: Dataset) -> str:
    """One line: patients (booked, paused, overdue), departments and free slots in the horizon."""
    patients, capacity = dataset.patients, dataset.capacity
    today = capacity["date"].min()
    booked = int(patients["booked_department_id"].notna().sum())
    paused = int(patients["deadline_status"].ne("active").sum())
    overdue = int((patients["deadline"] < today).sum())
    return (
        f"{len(patients):,} patients ({booked:,} booked, {paused:,} paused,"
        f" {overdue:,} past their deadline), {len(dataset.departments)} departments,"
        f" {int(capacity['free_slots'].sum()):,} free slots over {HORIZON_DAYS} days"
        f" from {today:%Y-%m-%d}"
    )
