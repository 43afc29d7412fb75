"""`kapacitet load` and `kapacitet db`: store validated folders, manage the database."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from capacity import storage

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="KAPACITET_DB",  # capacity.storage.database.ENV_VAR (not imported: start-up time)
        help="Database URL (default: sqlite file var/kapacitet.sqlite under the current folder), "
        "e.g. postgresql+psycopg://postgres@127.0.0.1:5432/kapacitet.",
        show_envvar=True,
    ),
]


def _shown(db: str | None) -> str:
    """The resolved database URL with any password masked."""
    from sqlalchemy.engine import make_url

    from capacity import storage

    return make_url(storage.resolve_url(db)).render_as_string(hide_password=True)


def report_table(report: storage.LoadReport) -> str:
    """The load report as a small aligned table, one line per table."""
    header = ("table", "inserted/new", "updated/superseded", "unchanged")
    lines = [header, *((name, *map(str, counts)) for name, *counts in report.rows())]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(line, widths, strict=True))
        )
        for line in lines
    )


def register(app: typer.Typer) -> None:
    """Add the storage commands to the app."""
    db_app = typer.Typer(help="Manage kapacitet's database.", no_args_is_help=True)
    app.add_typer(db_app, name="db")

    @app.command("load")
    def load(
        folder: Annotated[Path, typer.Argument(help="A contract folder (four CSV files).")],
        db: DatabaseOption = None,
    ) -> None:
        """Validate a contract folder and store it; exit 1 listing the problems if it is invalid.

        An operator's load: every region's patients. A booking made by a decision (in the
        meeting) is kept whatever the folder says; each such patient is listed as kept.
        """
        from capacity import storage
        from capacity.validation import ValidationFailed

        try:
            report = storage.load_folder(db, folder)
        except (ValidationFailed, FileNotFoundError, storage.LoadRejected) as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from None
        typer.echo(f"{folder} -> {_shown(db)}")
        typer.echo(report_table(report))
        for conflict in report.conflicts:
            typer.echo(f"kept: {conflict.field}: {conflict.message}")
        if report.load_id is None:
            typer.echo("nothing changed: the database already holds exactly this data")
        else:
            typer.echo(f"stored as load {report.load_id}")

    @db_app.command("upgrade")
    def upgrade(db: DatabaseOption = None) -> None:
        """Migrate the database to the newest schema (every command also does this itself)."""
        from capacity import storage

        revision = storage.upgrade_database(db)
        typer.echo(f"{_shown(db)} is at revision {revision}")

    @db_app.command("history")
    def history(
        db: DatabaseOption = None,
        department: Annotated[
            str | None, typer.Option("--department", help="Only this department_id.")
        ] = None,
    ) -> None:
        """List every capacity declaration version, oldest first per department and week."""
        from capacity import storage

        versions = storage.declaration_history(db, department_id=department)
        if versions.empty:
            typer.echo("no capacity declarations stored")
            return
        versions["loaded_at"] = versions["loaded_at"].map(lambda t: t.isoformat(timespec="seconds"))
        versions["current"] = ~versions["superseded"]
        columns = ["department_id", "week", "version", "current", "loaded_at", "rows", "free_slots"]
        typer.echo(versions[columns].to_string(index=False))
