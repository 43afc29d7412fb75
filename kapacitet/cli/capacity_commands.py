"""`kapacitet capacity template|import`: a department's declaration as an Excel workbook."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kapacitet.cli.storage_commands import DatabaseOption


def register(app: typer.Typer) -> None:
    """Add the ``capacity`` sub-app to the app."""
    capacity_app = typer.Typer(
        help="A department's capacity declaration as an Excel template: write it, import it.",
        no_args_is_help=True,
    )
    app.add_typer(capacity_app, name="capacity")

    @capacity_app.command("template")
    def template(
        department: Annotated[str, typer.Option(help="The department_id, e.g. AUH-LUN.")],
        weeks: Annotated[
            str, typer.Option(help="ISO weeks: 2026-W49, or a range 2026-W49..2026-W52.")
        ],
        out: Annotated[Path, typer.Option(help="The workbook to write (.xlsx).")],
        lang: Annotated[str, typer.Option(help="da (Danish labels) or en.")] = "da",
        db: DatabaseOption = None,
    ) -> None:
        """Write the department's template: a sheet per week, a row per day, a column per
        service, pre-filled with the current declaration (else the week before's)."""
        from capacity.errors import KapacitetError
        from capacity.storage import create_database_engine, upgrade_database
        from interop.capacity_workbook import parse_weeks, template_bytes

        engine = create_database_engine(db)
        try:
            upgrade_database(engine)
            with engine.connect() as conn:
                data = template_bytes(conn, department, parse_weeks(weeks), lang)
        except KapacitetError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(1) from None
        finally:
            engine.dispose()
        out.write_bytes(data)
        typer.echo(f"wrote {out} ({department}, {weeks})")

    @capacity_app.command("import")
    def import_workbook(
        file: Annotated[Path, typer.Argument(help="A filled capacity template (.xlsx).")],
        db: DatabaseOption = None,
    ) -> None:
        """Validate a filled template and store the cells filled in as a new declaration
        version of each week they change (empty cells stay as they are).

        A workbook with any problem stores nothing: exit 1, one line per problem at its
        sheet!cell.
        """
        from capacity.errors import KapacitetError
        from capacity.storage import create_database_engine, upgrade_database
        from interop.capacity_workbook import read_template
        from kapacitet.cli.storage_commands import report_table
        from workflow.capacity import declare_capacity

        try:
            filled = read_template(file.read_bytes(), file.name)
        except OSError as error:
            typer.echo(f"{file}: {error.strerror}", err=True)
            raise typer.Exit(1) from None
        except KapacitetError as error:
            for problem in error.errors or []:
                typer.echo(f"{file.name}: {problem['field']}: {problem['message']}", err=True)
            typer.echo(f"{file.name}: {error}", err=True)
            raise typer.Exit(1) from None
        engine = create_database_engine(db)
        try:
            upgrade_database(engine)
            report = declare_capacity(
                engine,
                filled.department_id,
                f"workbook {file.name}",
                capacity=list(filled.rows),
                partial=True,
            )
        except KapacitetError as error:
            for problem in error.errors or []:
                typer.echo(f"{file.name}: {problem['field']}: {problem['message']}", err=True)
            typer.echo(f"{file.name}: {error}", err=True)
            raise typer.Exit(1) from None
        finally:
            engine.dispose()
        typer.echo(f"{file.name}: {len(filled.rows)} cells of {filled.department_id} read")
        typer.echo(report_table(report))
