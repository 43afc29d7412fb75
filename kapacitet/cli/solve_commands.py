"""`kapacitet solve` and `kapacitet demo`: propose slots for a waiting list and show why."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from capacity import calendar

if TYPE_CHECKING:
    from solver.problem import Problem

console = Console(width=None if sys.stdout.isatty() else 160)
errors = Console(stderr=True)


def _parse_day(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        errors.print(f"[red]{option}: expected a date as YYYY-MM-DD, got {value!r}[/red]")
        raise typer.Exit(2) from None


_monday_of = calendar.week_monday


def _load_problem(
    folder: Path | None,
    db: str | None,
    week: str | None,
    collaboration: str | None,
    today: dt.date,
) -> Problem:
    from capacity.validation import ValidationFailed
    from solver.problem import Problem

    try:
        if db is not None or folder is None:
            from capacity.storage import read_snapshot

            dataset = read_snapshot(db, week=week, collaboration=collaboration)
        else:
            from capacity.io import read_folder

            dataset = read_folder(folder)
            if collaboration:
                from capacity.frames import Dataset

                keep = dataset.patients["collaboration"] == collaboration
                dataset = Dataset(
                    departments=dataset.departments,
                    services=dataset.services,
                    capacity=dataset.capacity,
                    patients=dataset.patients[keep].reset_index(drop=True),
                    weekly_caps=dataset.weekly_caps,
                    source=dataset.source,
                )
    except ValidationFailed as exc:
        typer.echo(str(exc), err=True)  # one problem per line, never wrapped
        raise typer.Exit(1) from None
    except FileNotFoundError as exc:
        errors.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    return Problem.from_dataset(dataset, today)


def print_solution(solution, title: str = "Proposals") -> None:  # type: ignore[no-untyped-def]
    """Print tiers, KPIs and the proposals a reviewer looks at first."""
    from solver.output import summary_table

    k = solution.kpis
    table = Table(title=title, show_header=False)
    table.add_row("patients", str(k["patients"]))
    table.add_row("unassigned (tier 1)", str(solution.tiers.unassigned))
    table.add_row("breaches (tier 2)", str(solution.tiers.breaches))
    table.add_row("days late (tier 3)", str(solution.tiers.days_late))
    table.add_row("kept / moved / new", f"{k['kept']} / {k['moved']} / {k['new']}")
    table.add_row("out of region", str(k["out_of_region"]))
    table.add_row("private / foreign", f"{k['private']} / {k['foreign']}")
    table.add_row("travel", f"{k['travel_km_total']:,.0f} km (mean {k['travel_km_mean']:.1f})")
    table.add_row("cost", f"{k['cost_dkk']:,.0f} DKK")
    table.add_row(
        "optimality", f"{solution.proof.method}; certificate {solution.proof.certificate}"
    )
    table.add_row("seconds", ", ".join(f"{n} {v:.2f}" for n, v in solution.timings.items()))
    console.print(table)
    rows = summary_table(solution)
    if len(rows):
        detail = Table(title="Referrals to review (first 15)")
        for column in ("patient", "action", "to", "date", "deadline", "late", "reason"):
            detail.add_column(column, overflow="fold")
        for record in rows.astype(object).to_dict(orient="records"):
            text = {k: "" if pd.isna(v) else str(v) for k, v in record.items()}
            detail.add_row(
                text["patient_id"],
                text["action"],
                text["department_id"],
                text["date"],
                text["deadline"],
                text["days_late"],
                text["reason"],
            )
        console.print(detail)


def print_comparison(comparison) -> None:  # type: ignore[no-untyped-def]
    """Print the optimised solve against current practice, side by side."""
    table = Table(title="kapacitet against current practice (baseline)")
    table.add_column("")
    table.add_column("current practice", justify="right")
    table.add_column("kapacitet", justify="right")
    table.add_column("difference", justify="right")
    for row in comparison.itertuples():
        table.add_row(
            row.measure, f"{row.baseline:,.0f}", f"{row.optimised:,.0f}", f"{row.difference:+,.0f}"
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add the solve commands to the app."""

    @app.command("solve")
    def solve_command(
        folder: Annotated[
            Path | None, typer.Argument(help="Contract folder (omit with --db).")
        ] = None,
        today: Annotated[str, typer.Option(help="Solve date YYYY-MM-DD.")] = "",
        out: Annotated[Path | None, typer.Option(help="Write proposals.csv here.")] = None,
        policy: Annotated[Path | None, typer.Option(help="Tier-4 policy YAML.")] = None,
        db: Annotated[
            str | None, typer.Option(help="Read a snapshot from this database URL.")
        ] = None,
        week: Annotated[str | None, typer.Option(help="ISO week, e.g. 2026-W48 (--db).")] = None,
        collaboration: Annotated[str | None, typer.Option(help="Only this collaboration.")] = None,
        method: Annotated[str, typer.Option(help="auto, single-pass or staged.")] = "auto",
        json_out: Annotated[
            Path | None, typer.Option("--json", help="Write the full explanation as JSON.")
        ] = None,
        compare_baseline: Annotated[
            bool, typer.Option(help="Also run current practice and compare.")
        ] = False,
        shadow_prices: Annotated[
            Path | None, typer.Option(help="Write the value of one more slot per day (CSV).")
        ] = None,
        html_out: Annotated[
            Path | None,
            typer.Option(
                "--html", help="Write a printable HTML page with reasons and alternatives."
            ),
        ] = None,
        quiet: Annotated[bool, typer.Option(help="Print nothing but errors.")] = False,
    ) -> None:
        """Propose a slot for every patient: fewest unassigned, breaches, days late, then policy."""
        from solver.output import proposals_csv, solution_json
        from solver.policy import PolicyError, load_policy
        from solver.solve import Certificate, solve

        if not today:
            today = _monday_of(week).isoformat() if week else dt.date.today().isoformat()
        day = _parse_day(today, "--today")
        try:
            chosen = load_policy(policy)
        except (PolicyError, OSError) as exc:
            errors.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None
        problem = _load_problem(folder, db, week, collaboration, day)
        solution = solve(problem, chosen, method=method)
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(proposals_csv(solution), encoding="utf-8")
        if json_out is not None or html_out is not None:
            from solver.alternatives import best_alternatives
            from solver.output import solution_html

            reviewed = solution.proposals.loc[
                solution.proposals["category"] != "home_department", "patient_id"
            ]
            alternatives = best_alternatives(problem, chosen, reviewed)
            if json_out is not None:
                json_out.write_text(solution_json(solution, alternatives), encoding="utf-8")
            if html_out is not None:
                html_out.write_text(solution_html(solution, alternatives), encoding="utf-8")
        if shadow_prices is not None:
            from solver.shadow import shadow_prices as compute_shadow

            compute_shadow(problem, chosen, solution).to_csv(shadow_prices, index=False)
        if not quiet:
            print_solution(solution)
        if compare_baseline:
            from solver.baseline import compare, current_practice

            comparison = compare(current_practice(problem), solution)
            if not quiet:
                print_comparison(comparison)
        if solution.proof.certificate is Certificate.FAILED:
            sys.exit(3)

    @app.command("demo")
    def demo_command(
        week: Annotated[str, typer.Option(help="ISO week of the reference data.")] = "2026-W48",
        seed: Annotated[int, typer.Option(help="Seed of the generated week.")] = 2026,
        workdir: Annotated[Path, typer.Option(help="Where the demo keeps its files.")] = Path(
            "var"
        ),
    ) -> None:
        """Solve this week's national waiting list from the bundled reference data and show it."""
        from capacity.generate import generate_week, write_folder
        from capacity.storage import load_folder, read_snapshot
        from solver.baseline import compare, current_practice
        from solver.output import proposals_csv
        from solver.problem import Problem
        from solver.solve import solve

        folder = workdir / f"reference-{week}"
        database = f"sqlite:///{(workdir / 'kapacitet.sqlite').resolve()}"
        workdir.mkdir(parents=True, exist_ok=True)
        console.print(f"Generating the reference week {week} (seed {seed}) in {folder} ...")
        write_folder(generate_week(week=week, seed=seed), folder)
        from kapacitet.cli.storage_commands import report_table

        report = load_folder(database, folder)
        console.print(f"Loaded into {database}:\n{report_table(report)}")
        dataset = read_snapshot(database, week=week)
        problem = Problem.from_dataset(dataset, _monday_of(week))
        solution = solve(problem)
        out = workdir / f"proposals-{week}.csv"
        out.write_text(proposals_csv(solution), encoding="utf-8")
        print_solution(solution, title=f"National waiting list, week {week}")
        print_comparison(compare(current_practice(problem), solution))
        console.print(f"Proposals for every patient, with reasons: {out}")
