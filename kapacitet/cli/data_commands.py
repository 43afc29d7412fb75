"""`kapacitet validate`: check a contract folder and summarise it, or list every problem."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from capacity.calendar import weeks_of
from capacity.frames import Dataset
from capacity.io import read_folder
from capacity.rules import GIVEN, RulesError, load_rules
from capacity.validation import ValidationFailed
from capacity.vocabulary import COLLABORATIONS, PROVIDER_TYPES, REGIONS


def register(app: typer.Typer) -> None:
    """Add the data commands to the app."""

    @app.command("validate")
    def validate(
        folder: Annotated[Path, typer.Argument(help="Contract folder (CSV, YAML or JSON files).")],
        rules: Annotated[
            Path | None,
            typer.Option(help="Rules file for missing deadlines (default: the bundled one)."),
        ] = None,
    ) -> None:
        """Validate a contract folder and print its summary (exit 1 listing every problem)."""
        try:
            dataset = read_folder(folder, rules=load_rules(rules))
        except (RulesError, OSError) as error:
            typer.echo(f"rules: {error}", err=True)
            raise typer.Exit(2) from error
        except ValidationFailed as failed:
            for problem in failed.problems:
                typer.echo(str(problem))
            typer.echo(f"{folder}: {_count(len(failed.problems), 'problem')}; nothing was read")
            raise typer.Exit(1) from failed
        # Piped or captured output gets room for the region columns instead of 80 characters.
        console = Console() if sys.stdout.isatty() else Console(width=120)
        print_summary(dataset, console)


def print_summary(dataset: Dataset, console: Console) -> None:
    """Rich tables of a valid dataset: patients, departments and free slots per ISO week."""
    patients, departments = dataset.patients, dataset.departments
    console.print(
        f"[bold green]valid[/]: {dataset.source} - {_count(len(patients), 'patient')},"
        f" {_count(len(departments), 'department')}, {_count(len(dataset.services), 'service')},"
        f" {_count(len(dataset.capacity), 'capacity row')}",
        highlight=False,
    )
    console.print(_patients_table(patients))
    console.print(_counts_table("Departments", "provider_type", departments, PROVIDER_TYPES))
    console.print(_weekly_slots_table(dataset.capacity))
    computed = int((patients["deadline_rule"].notna() & patients["deadline_rule"].ne(GIVEN)).sum())
    if computed:
        console.print(f"{_count(computed, 'deadline')} computed by the rules", highlight=False)


def _patients_table(patients: pd.DataFrame) -> Table:
    """Patients per collaboration (rows) and home region (columns), with totals."""
    counts = pd.crosstab(
        patients["collaboration"].astype(object), patients["home_region"].astype(object)
    )
    regions = [r for r in REGIONS if r in counts.columns]
    table = Table(title="Patients per collaboration and home region")
    table.add_column("collaboration")
    for region in regions:
        table.add_column(region, justify="right")
    table.add_column("total", justify="right", style="bold")
    for collaboration in COLLABORATIONS:
        if collaboration not in counts.index:
            continue
        row = counts.loc[collaboration]
        table.add_row(collaboration, *(str(row[r]) for r in regions), str(row.sum()))
    totals = counts.sum()
    table.add_row("total", *(str(totals[r]) for r in regions), str(len(patients)), style="bold")
    return table


def _counts_table(title: str, column: str, frame: pd.DataFrame, order: tuple[str, ...]) -> Table:
    counts = frame[column].value_counts()
    table = Table(title=f"{title} per {column}")
    table.add_column(column)
    table.add_column("count", justify="right")
    for value in order:
        table.add_row(value, str(int(counts.get(value, 0))))
    return table


def _weekly_slots_table(capacity: pd.DataFrame) -> Table:
    """Declared free slots per ISO week, with the days declared."""
    table = Table(title="Free slots per ISO week")
    table.add_column("week")
    table.add_column("first day")
    table.add_column("free_slots", justify="right")
    if capacity.empty:
        return table
    weeks = weeks_of(capacity["date"]).rename("week")
    per_week = capacity.groupby(weeks).agg(
        first_day=("date", "min"), free_slots=("free_slots", "sum")
    )
    for week, row in per_week.iterrows():
        table.add_row(str(week), row["first_day"].date().isoformat(), str(int(row["free_slots"])))
    table.add_row("total", "", str(int(per_week["free_slots"].sum())), style="bold")
    return table


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
