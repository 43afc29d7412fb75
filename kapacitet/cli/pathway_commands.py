"""`kapacitet pathways import|show`: store recorded pathway events, show a patient's timeline."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from kapacitet.cli.storage_commands import DatabaseOption

FORMATS = ("auto", "events", "lpr3")


def _format_of(path: Path, given: str) -> str:
    """``events`` or ``lpr3``: as given, or by the file's header (a ``code`` column: LPR3)."""
    if given != "auto":
        return given
    with path.open(encoding="utf-8-sig", errors="replace") as file:
        header = [column.strip() for column in file.readline().split(",")]
    return "lpr3" if "code" in header and "event" not in header else "events"


def register(app: typer.Typer) -> None:
    """Add the pathway commands to the app."""
    pathways_app = typer.Typer(
        help="Recorded cancer pathways: import events or LPR3 markers, show a timeline.",
        no_args_is_help=True,
    )
    app.add_typer(pathways_app, name="pathways")

    @pathways_app.command("import")
    def import_command(
        file: Annotated[Path, typer.Argument(help="Events CSV or LPR3 marker CSV.")],
        db: DatabaseOption = None,
        format: Annotated[
            str,
            typer.Option(
                "--format",
                help="events (patient_id, collaboration, procedure, home_region, event, date, "
                "department_id, detail), lpr3 (SKS AFV codes), or auto (by the header).",
            ),
        ] = "auto",
    ) -> None:
        """Validate and store pathway events (idempotent: a re-import adds nothing)."""
        from capacity.pathways import derive_pathways, read_events, read_markers, summary
        from capacity.storage import pathways as stored
        from capacity.validation import ValidationFailed

        if format not in FORMATS:
            typer.echo(f"--format: expected one of {', '.join(FORMATS)}, got {format!r}", err=True)
            raise typer.Exit(2)
        clock = time.perf_counter()
        kind = _format_of(file, format) if file.is_file() else "events"
        try:
            events = read_markers(file) if kind == "lpr3" else read_events(file)
        except ValidationFailed as failed:
            for problem in failed.problems:
                typer.echo(str(problem), err=True)
            typer.echo(f"{file.name}: nothing stored ({len(failed.problems)} problem(s))", err=True)
            raise typer.Exit(1) from None
        counts = stored.store_events(db, events, f"{kind}: {file.name}")
        found = summary(derive_pathways(events))
        categories = ", ".join(f"{k} {v}" for k, v in found["categories"].items())
        typer.echo(
            f"{file.name}: {len(events)} events ({kind}), {counts.inserted} new, "
            f"{counts.already_stored} already stored; {found['pathways']} pathways, "
            f"{found['closed']} closed ({categories}), {found['open']} open "
            f"[{time.perf_counter() - clock:.1f} s]"
        )

    @pathways_app.command("show")
    def show_command(
        patient_id: Annotated[str, typer.Argument(help="The patient's pseudonym.")],
        db: DatabaseOption = None,
    ) -> None:
        """A patient's timeline: every recorded event, oldest first, and each pathway's state."""
        import pandas as pd

        from capacity.pathways import derive_pathways
        from capacity.pseudonym import looks_like_cpr
        from capacity.storage import pathways as stored

        if looks_like_cpr(patient_id):
            typer.echo("the patient_id looks like a CPR number; use the pseudonym", err=True)
            raise typer.Exit(2)
        events = stored.read_events(db, patient_id=patient_id)
        if events.empty:
            typer.echo(f"no events recorded for {patient_id}", err=True)
            raise typer.Exit(1)
        for record in events.astype(object).to_dict(orient="records"):
            where = (
                f" at {record['department_id']}" if isinstance(record["department_id"], str) else ""
            )
            detail = f" ({record['detail']})" if isinstance(record["detail"], str) else ""
            day = record["date"].strftime("%Y-%m-%d")
            sys.stdout.write(
                f"{day}  {record['procedure']!s:<16} {record['event']}{where}{detail}\n"
            )
        for pathway in derive_pathways(events).astype(object).to_dict(orient="records"):
            state = pathway["category"] if isinstance(pathway["category"], str) else "open"
            due = pathway["deadline"]
            deadline = due.strftime("%Y-%m-%d") if isinstance(due, pd.Timestamp) else "unknown"
            exceeded = int(pathway["days_exceeded"])
            sys.stdout.write(
                f"pathway {pathway['procedure']} ({pathway['pathway_type']}): "
                f"deadline {deadline}, {state}"
                + (f", {exceeded} days exceeded" if exceeded else "")
                + "\n"
            )
