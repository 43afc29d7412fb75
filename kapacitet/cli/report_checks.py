"""`kapacitet report monitoring|capacity-check`: the quarterly and annual reports."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console()
errors = Console(stderr=True)


def register(app: typer.Typer) -> None:
    """Add ``monitoring`` and ``capacity-check`` to the ``report`` group."""
    app.command("monitoring")(monitoring_command)
    app.command("capacity-check")(capacity_check_command)


def _fail(message: str) -> typer.Exit:
    errors.print(message, markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(1)


def monitoring_command(
    quarter: Annotated[str, typer.Option(help="The quarter, e.g. 2026-Q3.")],
    input: Annotated[
        Path | None,
        typer.Option(
            "--input",
            help="Completed pathways (CSV or Parquet; docs/reports.md) or a scenario run folder.",
        ),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            help="Count the pathway events recorded in this database (kapacitet pathways "
            "import); with none recorded, replay the quarter from the stored snapshot of --week."
        ),
    ] = None,
    simulate: Annotated[
        bool, typer.Option("--simulate", help="Simulate the quarter from the reference data.")
    ] = False,
    week: Annotated[
        str | None,
        typer.Option(
            help="With --db: the stored week to start from (default the quarter's first)."
        ),
    ] = None,
    scale: Annotated[
        float, typer.Option(help="With --simulate: size of the country (1 = Denmark).")
    ] = 1.0,
    seed: Annotated[int, typer.Option(help="With --simulate/--db: the simulation's seed.")] = 1,
    warmup_weeks: Annotated[
        int, typer.Option(help="With --simulate: weeks simulated before the quarter, not counted.")
    ] = 3,
    replication: Annotated[
        int, typer.Option(help="With a run folder: which replication is the quarter.")
    ] = 0,
    out: Annotated[
        Path, typer.Option(help="Folder for the HTML, PDF, CSV and Excel files.")
    ] = Path("."),
    lang: Annotated[str, typer.Option(help="Labels: da (Danish) or en (English).")] = "da",
    pdf: Annotated[
        bool, typer.Option("--pdf/--no-pdf", help="Also print a PDF (Chromium).")
    ] = True,
) -> None:
    """The quarterly monitoring report: the national model's three categories per region,
    collaboration and procedure, counts of 1-4 suppressed ("<5") with secondary suppression."""
    from capacity.validation import ValidationFailed
    from reports import monitoring
    from reports.render.pdf import ChromiumMissing

    started = time.perf_counter()
    if sum([input is not None, db is not None, simulate]) != 1:
        raise _fail("give exactly one of --input FILE_OR_RUN_FOLDER, --db URL or --simulate")
    if lang not in monitoring.LANGUAGES:
        raise _fail(f"--lang {lang!r}: expected da or en")
    try:
        period = monitoring.Quarter.parse(quarter)
        if input is not None and input.is_dir():
            from scenarios.runner import load_run

            pathways = monitoring.pathways_from_run(load_run(input), replication)
            source = monitoring.run_source(input, replication)
        elif input is not None:
            pathways = monitoring.read_pathways(input)
            source = monitoring.file_source(input)
        elif db is not None and (recorded := monitoring.stored_pathways(db)) is not None:
            pathways, source = recorded.pathways, recorded.source
        else:
            with console.status(f"simulating {period} ..."):
                simulated = monitoring.simulate_quarter(
                    period,
                    scale=scale,
                    seed=seed,
                    warmup_weeks=warmup_weeks,
                    database=db,
                    week=week,
                )
            pathways, source = simulated.pathways, simulated.source
        report = monitoring.build_report(pathways, period, source)
        written = monitoring.write_report(report, out, lang=lang, pdf=pdf)
    except ValidationFailed as exc:
        raise _fail(str(exc)) from None
    except (monitoring.MonitoringError, FileNotFoundError, ChromiumMissing) as exc:
        raise _fail(str(exc)) from None
    except Exception as exc:  # a scenario error from a stored snapshot, a database error
        from scenarios.schema import ScenarioError

        if isinstance(exc, ScenarioError):
            raise _fail(str(exc)) from None
        raise
    national = report.published().iloc[0]
    console.print(
        f"{period}: {report.counted} pathways; within {national['within']}, "
        f"exceeded with rules complied {national['complied']} (health {national['health']}, "
        f"patient's wish {national['patient_wish']}, capacity {national['capacity']}), "
        f"rules not complied {national['not_complied']}"
        + (f"; {report.ignored} outside the quarter not counted" if report.ignored else ""),
        markup=False,
        highlight=False,
    )
    for path in written:
        console.print(f"wrote {path}", markup=False, highlight=False)
    console.print(f"({time.perf_counter() - started:.1f} s)", markup=False, highlight=False)


def capacity_check_command(
    year: Annotated[int, typer.Option(help="The year, e.g. 2026.")],
    db: Annotated[
        str | None, typer.Option(help="Use the weekly loads stored in this database.")
    ] = None,
    reference: Annotated[
        bool, typer.Option("--reference", help="Use the bundled reference data.")
    ] = False,
    weeks: Annotated[
        str | None,
        typer.Option(help="ISO weeks of the year to include, e.g. 1-26 or 10,20,30 (default all)."),
    ] = None,
    network_weeks: Annotated[
        int,
        typer.Option(
            help="Weeks (spread over the period) analysed as networks: SPOF, shadow prices."
        ),
    ] = 2,
    flow_engine: Annotated[
        str,
        typer.Option(
            help="Max-flow/min-cut engine for the cut: networkx, or scipy (same answer, faster)."
        ),
    ] = "networkx",
    scale: Annotated[float, typer.Option(help="With --reference: size of the country.")] = 1.0,
    seed: Annotated[int, typer.Option(help="With --reference: the seed.")] = 2026,
    out: Annotated[Path, typer.Option(help="Folder for the HTML, PDF and Excel files.")] = Path(
        "."
    ),
    lang: Annotated[str, typer.Option(help="Labels: da (Danish) or en (English).")] = "da",
    pdf: Annotated[
        bool, typer.Option("--pdf/--no-pdf", help="Also print a PDF (Chromium).")
    ] = True,
) -> None:
    """The annual capacity check: demand against declared capacity per collaboration and region,
    structural deficits, single points of failure (max-flow/min-cut) and where one more slot
    avoids the most breaches (shadow prices)."""
    from reports import capacity_check
    from reports.render.pdf import ChromiumMissing
    from solver.capacity_flow import FlowEngine

    started = time.perf_counter()
    if db is not None and reference:
        raise _fail("give --db URL or --reference, not both")
    if lang not in ("da", "en"):
        raise _fail(f"--lang {lang!r}: expected da or en")
    if flow_engine not in tuple(FlowEngine):
        raise _fail(f"--flow-engine {flow_engine!r}: expected scipy or networkx")
    try:
        with console.status("checking capacity ..."):
            if db is not None:
                check = capacity_check.stored_check(
                    db, year, weeks, network_weeks=network_weeks, engine=flow_engine
                )
            else:
                check = capacity_check.reference_check(
                    year,
                    weeks,
                    scale=scale,
                    seed=seed,
                    network_weeks=network_weeks,
                    engine=flow_engine,
                )
            written = capacity_check.write_check(check, out, pdf=pdf, lang=lang)
    except (capacity_check.CapacityCheckError, ChromiumMissing) as exc:
        raise _fail(str(exc)) from None
    deficits = check.balance.deficits()
    spof = check.single_points_of_failure()
    console.print(
        f"{year}: {len(check.weeks)} weeks, {len(deficits)} structural deficits; "
        f"weeks analysed as networks: {', '.join(a.week for a in check.analyses) or 'none'}",
        markup=False,
        highlight=False,
    )
    for row in spof[spof["loss"] > 0].head(3).itertuples():
        console.print(
            f"  single point of failure: {row.department_id} ({row.name}) loses "
            f"{row.loss:.1f} in-time patients if removed",
            markup=False,
            highlight=False,
        )
    year_extra = check.year_extra_slots()
    for row in year_extra[year_extra["breaches_year"] > 0].head(3).itertuples():
        console.print(
            f"  one more slot a week: {row.department_id} {row.collaboration}/{row.procedure} "
            f"avoids {row.breaches_year} breaches over the year",
            markup=False,
            highlight=False,
        )
    for path in written:
        console.print(f"wrote {path}", markup=False, highlight=False)
    console.print(f"({time.perf_counter() - started:.1f} s)", markup=False, highlight=False)
