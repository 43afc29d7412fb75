"""`kapacitet report meeting`: the collaboration meeting pack (HTML, PDF, Excel)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add ``meeting`` to the ``report`` group."""

    @app.command("meeting")
    def meeting_command(
        collaboration: Annotated[
            str, typer.Option(help="The collaboration, e.g. lung.", show_default=False)
        ],
        week: Annotated[str, typer.Option(help="ISO week of the meeting, e.g. 2026-W48.")],
        db: Annotated[
            str | None, typer.Option(help="Database URL (default $KAPACITET_DB, then SQLite).")
        ] = None,
        run: Annotated[
            int | None, typer.Option(help="Solve run to show (default: the newest for the week).")
        ] = None,
        today: Annotated[
            str | None,
            typer.Option(
                help="Date YYYY-MM-DD for the at-risk list and a new run (default: "
                "the run's date, or the week's Monday)."
            ),
        ] = None,
        out: Annotated[Path, typer.Option(help="Folder for the pack's files.")] = Path("out"),
        lang: Annotated[str, typer.Option(help="da (Danish labels) or en.")] = "da",
        at_risk_days: Annotated[
            int, typer.Option(help="Deadline within this many days counts as at risk.")
        ] = 7,
        pdf: Annotated[bool, typer.Option(help="Also print a PDF (needs Chromium).")] = True,
    ) -> None:
        """Write the meeting pack: printable HTML, PDF and an Excel workbook, as on the page.

        Uses the newest finished solve run of the collaboration and week; when there is none,
        solves one on the database's snapshot first.
        """
        from capacity.vocabulary import COLLABORATIONS, closest
        from reports.meeting import LANGUAGES
        from reports.meeting.pack import meeting_from_store, write_pack
        from reports.render.pdf import ChromiumMissing

        if collaboration not in COLLABORATIONS:
            hint = closest(collaboration, COLLABORATIONS)
            hint = f"did you mean {hint!r}?" if hint else "one of " + ", ".join(COLLABORATIONS)
            typer.echo(f"--collaboration: unknown {collaboration!r}; {hint}", err=True)
            raise typer.Exit(2)
        if lang not in LANGUAGES:
            typer.echo(f"--lang: expected da or en, got {lang!r}", err=True)
            raise typer.Exit(2)
        day = None
        if today:
            try:
                day = dt.date.fromisoformat(today)
            except ValueError:
                typer.echo(f"--today: expected a date as YYYY-MM-DD, got {today!r}", err=True)
                raise typer.Exit(2) from None
        try:
            meeting = meeting_from_store(
                db,
                collaboration,
                week,
                run_id=run,
                today=day,
                lang=lang,
                at_risk_days=at_risk_days,
            )
            files = write_pack(meeting, out, pdf=pdf)
        except ValueError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from None
        except ChromiumMissing as exc:
            typer.echo(f"{exc} (or pass --no-pdf); nothing was written", err=True)
            raise typer.Exit(1) from None
        except RuntimeError as exc:  # Chromium failed to print: no file of the pack was moved
            typer.echo(f"{exc}; nothing was written", err=True)
            raise typer.Exit(1) from None
        typer.echo(
            f"Meeting pack for {collaboration} {week} (run {meeting.run.run_id}, "
            f"{len(meeting.rows)} proposals, {len(meeting.at_risk)} at risk):"
        )
        for path in (files.html, files.pdf, files.xlsx):
            if path is not None:
                typer.echo(f"  {path}")
