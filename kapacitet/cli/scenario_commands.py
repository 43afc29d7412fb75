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

    from scenarios.runner import ScenarioRun
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


def resolve_run(folder: Path) -> Path:
    """A run folder, or the newest ``FOLDER-<timestamp>`` beside it (a run saved without
    ``--out`` under ``runs/<name>-<timestamp>/``, named by ``runs/<name>``)."""
    if (folder / "weekly.parquet").is_file():
        return folder
    candidates = [
        c
        for c in folder.parent.glob(f"{folder.name}-*")
        if c.is_dir() and (c / "weekly.parquet").is_file()
    ]
    if not candidates:
        return folder
    newest = max(candidates, key=lambda c: (c / "weekly.parquet").stat().st_mtime)
    errors.print(f"{folder}: using the newest run, {newest}", markup=False, highlight=False)
    return newest


def _load_runs(folders: Sequence[Path]) -> list[ScenarioRun]:
    from scenarios.runner import load_run

    try:
        return [load_run(resolve_run(folder)) for folder in folders]
    except FileNotFoundError as exc:
        errors.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(1) from None


def _check_lang(lang: str) -> str:
    from scenarios.text import LANGUAGES

    if lang not in LANGUAGES:
        errors.print(f"--lang: one of {', '.join(LANGUAGES)}")
        raise typer.Exit(2)
    return lang


def print_summary(summary: pd.DataFrame, title: str, lang: str) -> None:
    """Print a run's KPIs in words: mean [95 % interval]."""
    from scenarios.text import interval, kpi_label, words

    t = words(lang)
    shown = Table(title=title)
    shown.add_column(t["kpi"])
    shown.add_column(t["mean_ci"], justify="right")
    for row in summary.itertuples(index=False):
        kpi = str(row.kpi)
        shown.add_row(kpi_label(kpi, lang), interval(kpi, row.mean, row.ci_low, row.ci_high, lang))
    console.print(shown)


def print_pair(table: pd.DataFrame, title: str, lang: str) -> None:
    """Print :func:`scenarios.compare.compare_pair`: per KPI base, run, difference [95 %]."""
    from scenarios.text import interval, kpi_label, value, words

    t = words(lang)
    shown = Table(title=title)
    for i, heading in enumerate((t["kpi"], t["base"], t["run"], t["difference"])):
        shown.add_column(heading, justify="right" if i else "left")
    for row in table.itertuples(index=False):
        shown.add_row(
            kpi_label(str(row.kpi), lang),
            value(str(row.kpi), row.base_mean, lang),
            value(str(row.kpi), row.run_mean, lang),
            interval(
                str(row.kpi),
                row.difference,
                row.difference_low,
                row.difference_high,
                lang,
                signed=True,
            ),
        )
    console.print(shown)
    paired = bool(table["paired"].iloc[0]) if len(table) else False
    console.print(t["paired" if paired else "welch"])


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
        Path | None,
        typer.Option(
            help="A saved run folder to compare with in the report (or runs/<name>: its "
            "newest run)."
        ),
    ] = None,
    lang: Annotated[str, typer.Option(help="Report language: da (default) or en.")] = "da",
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

    from scenarios.compare import compare_pair
    from scenarios.runner import run_scenario
    from scenarios.schema import ScenarioError

    if workers is not None and scheduler is not None:
        errors.print("give --workers or --scheduler, not both")
        raise typer.Exit(2)
    _check_lang(lang)
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
    folder = run.save(out, base=base_run, lang=lang)
    title = (
        f"{run.name}: {run.replications} replications of {scenario.horizon_weeks} weeks "
        f"({run.metadata['seconds']:.1f} s, {run.metadata['executor']})"
    )
    if base_run is not None:
        print_pair(compare_pair(base_run, run), title, lang)
    else:
        print_summary(run.summary, title, lang)
    console.print(f"run saved in {folder}/; report: {folder / 'report.html'}")


@scenario_app.command("compare")
def compare_command(
    folders: Annotated[
        list[Path],
        typer.Argument(
            help="BASE RUN...: run folders, the first is the base (runs/<name> stands for the "
            "newest runs/<name>-<timestamp>)."
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write the table as CSV here (kpi, base_mean, run_mean, difference, "
            "difference_low, difference_high, paired; a run column first with several runs), "
            "and the report beside it (.html)."
        ),
    ] = None,
    lang: Annotated[str, typer.Option(help="Report language: da (default) or en.")] = "da",
) -> None:
    """Compare saved runs with the first (the base): per KPI both means and the difference
    with a 95 % interval, paired where the runs share seeds (a run against itself gives 0)."""
    import pandas as pd

    from scenarios.compare import compare_pair
    from scenarios.report import page, runs_table, scenario_report
    from scenarios.text import words

    _check_lang(lang)
    if len(folders) < 2:
        errors.print("give a base run and at least one run to compare with it")
        raise typer.Exit(2)
    base, *runs = _load_runs(folders)
    tables = []
    for folder, run in zip(folders[1:], runs, strict=True):
        table = compare_pair(base, run)
        print_pair(table, f"{folder} − {folders[0]}", lang)
        tables.append(table.assign(run=str(folder)))
    if out is None:
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    if len(runs) == 1:
        tables[0].drop(columns="run").to_csv(out, index=False)
        report = scenario_report(runs[0], base, lang=lang)
    else:
        combined = pd.concat(tables, ignore_index=True)
        combined[["run", *combined.columns[:-1]]].to_csv(out, index=False)
        t = words(lang)
        names = ", ".join(r.name for r in (base, *runs))
        report = page(
            t["comparison_title"].format(runs=names), runs_table([base, *runs], lang), lang
        )
    html_path = out.with_suffix(".html")
    html_path.write_text(report, encoding="utf-8")
    console.print(f"written {out} and {html_path}")
