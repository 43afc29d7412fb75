"""`kapacitet scenario run|validate|compare`: what-if scenarios over a rolling horizon."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    import pandas as pd

    from scenarios.schema import Scenario

console = Console(width=None if sys.stdout.isatty() else 160)
errors = Console(stderr=True)

scenario_app = typer.Typer(no_args_is_help=True, add_completion=False)


def register(app: typer.Typer) -> None:
    """Add the ``scenario`` sub-app to the app."""
    app.add_typer(
        scenario_app,
        name="scenario",
        help="What-if scenarios: validate, run replications, compare runs.",
    )


def _load(file: Path) -> Scenario:
    """The validated scenario, or a printed error and exit status 1."""
    from scenarios.schema import ScenarioError, load_scenario

    try:
        return load_scenario(file)
    except ScenarioError as exc:
        errors.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(1) from None
    except OSError as exc:
        errors.print(f"{file}: {exc.strerror or exc}", markup=False, highlight=False)
        raise typer.Exit(1) from None


def print_comparison(table: pd.DataFrame, title: str) -> None:
    """Print KPIs in rows and runs in columns: mean [95 % CI], then differences to the first."""
    from scenarios.compare import comparison_grid

    headings, rows = comparison_grid(table)
    shown = Table(title=title)
    for i, heading in enumerate(headings):
        shown.add_column(heading, justify="right" if i else "left")
    for row in rows:
        shown.add_row(*row)
    console.print(shown)


def _load_runs(folders: Sequence[Path]):  # type: ignore[no-untyped-def]
    from scenarios.runner import load_run

    try:
        return [load_run(folder) for folder in folders]
    except FileNotFoundError as exc:
        errors.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(1) from None


@scenario_app.command("validate")
def validate_command(
    file: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
) -> None:
    """Check a scenario file; print what is wrong, with its YAML path, and exit 1 if anything."""
    scenario = _load(file)
    console.print(
        f"{file}: scenario [bold]{scenario.name}[/bold] is valid "
        f"({scenario.horizon_weeks} weeks, {scenario.replications} replications, "
        f"seed {scenario.seed})"
    )


@scenario_app.command("run")
def run_command(
    file: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    replications: Annotated[
        int | None, typer.Option(min=1, help="Replications (default: the file's).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Local worker processes (default: CPU count).")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address, e.g. tcp://host:8786.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Run folder (default: runs/<name>-<timestamp>/).")
    ] = None,
    base: Annotated[
        Path | None, typer.Option(help="A saved run folder to compare with in the report.")
    ] = None,
) -> None:
    """Run a scenario's replications, save the run folder and print its KPIs."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from scenarios.compare import compare_runs
    from scenarios.runner import run_scenario
    from scenarios.schema import ScenarioError

    if workers is not None and scheduler is not None:
        errors.print("give --workers or --scheduler, not both")
        raise typer.Exit(2)
    scenario = _load(file)
    base_run = _load_runs([base])[0] if base is not None else None
    if out is None:
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        out = Path("runs") / f"{scenario.name}-{stamp}"
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=errors,
        transient=False,
    ) as bar:
        task = bar.add_task(f"{scenario.name}: replications", total=None)
        try:
            run = run_scenario(
                scenario,
                replications=replications,
                workers=workers,
                scheduler=scheduler,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        except ScenarioError as exc:  # checks against a folder or database base's own data
            errors.print(str(exc), markup=False, highlight=False)
            raise typer.Exit(1) from None
    folder = run.save(out, base=base_run)
    runs = [base_run, run] if base_run is not None else [run]
    print_comparison(
        compare_runs(runs),
        f"{run.name}: {run.replications} replications of {scenario.horizon_weeks} weeks "
        f"({run.metadata['seconds']:.1f} s, {run.metadata['executor']})",
    )
    console.print(f"run saved in {folder}/; report: {folder / 'report.html'}")


@scenario_app.command("compare")
def compare_command(
    folders: Annotated[list[Path], typer.Argument(help="Run folders; the first is the base.")],
    out: Annotated[
        Path | None,
        typer.Option(help="Write the table as CSV here, and as HTML beside it (.html)."),
    ] = None,
) -> None:
    """Compare saved runs: KPIs with 95 % CIs and differences to the first run."""
    from scenarios.compare import compare_runs, comparison_page

    table = compare_runs(_load_runs(folders))
    print_comparison(table, "Scenario runs compared with " + str(table["run"].iloc[0]))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(out, index=False)
        page = out.with_suffix(".html")
        page.write_text(comparison_page(table), encoding="utf-8")
        console.print(f"written {out} and {page}")
