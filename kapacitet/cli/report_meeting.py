"""`kapacitet report meeting` (the collaboration meeting pack: HTML, PDF, its appendix and an
Excel workbook) and `kapacitet report minutes` (the meeting's decisions: HTML, PDF, CSV)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kapacitet.cli.storage_commands import DatabaseOption

if TYPE_CHECKING:
    from reports.meeting.model import Filters

_ON = "1"


def _check_common(collaboration: str, week: str, lang: str) -> None:
    """Exit 2 naming an unknown collaboration, a malformed or missing week, or a language."""
    from capacity import calendar
    from capacity.vocabulary import COLLABORATIONS, closest
    from reports.meeting import LANGUAGES

    if collaboration not in COLLABORATIONS:
        hint = closest(collaboration, COLLABORATIONS)
        hint = f"did you mean {hint!r}?" if hint else "one of " + ", ".join(COLLABORATIONS)
        typer.echo(f"--collaboration: unknown {collaboration!r}; {hint}", err=True)
        raise typer.Exit(2)
    if not calendar.is_week(week):
        typer.echo(
            f"--week: expected an existing ISO week written YYYY-Www (e.g. 2026-W48), got {week!r}",
            err=True,
        )
        raise typer.Exit(2)
    if lang not in LANGUAGES:
        typer.echo(f"--lang: expected da or en, got {lang!r}", err=True)
        raise typer.Exit(2)


def _filters(
    region: str | None,
    department: str | None,
    action: str | None,
    provider_type: str | None,
    at_risk: bool,
    away: bool,
    sort: str | None,
) -> Filters:
    """The page's filters from the options (the same names and values as its query string);
    exit 2 naming an action, provider type or sort the page does not know."""
    from capacity.vocabulary import Action, ProviderType
    from reports.meeting.model import SORT_KEYS, Filters

    if action and action not in set(Action):
        typer.echo(f"--action: expected one of {', '.join(Action)}, got {action!r}", err=True)
        raise typer.Exit(2)
    if provider_type and provider_type not in set(ProviderType):
        known = ", ".join(ProviderType)
        typer.echo(f"--provider-type: expected one of {known}, got {provider_type!r}", err=True)
        raise typer.Exit(2)
    if sort and sort.lstrip("-") not in SORT_KEYS:
        known = ", ".join(SORT_KEYS)
        typer.echo(f"--sort: expected one of {known} (- in front: descending)", err=True)
        raise typer.Exit(2)
    params = {
        "region": region or "",
        "department": department or "",
        "action": action or "",
        "provider_type": provider_type or "",
        "at_risk": _ON if at_risk else "",
        "away": _ON if away else "",
        "sort": sort or "",
    }
    return Filters.parse(params)


def _today(today: str | None) -> dt.date | None:
    if not today:
        return None
    try:
        return dt.date.fromisoformat(today)
    except ValueError:
        typer.echo(f"--today: expected a date as YYYY-MM-DD, got {today!r}", err=True)
        raise typer.Exit(2) from None


CollaborationOption = Annotated[
    str, typer.Option(help="The collaboration, e.g. lung.", show_default=False)
]
WeekOption = Annotated[str, typer.Option(help="ISO week of the meeting, e.g. 2026-W48.")]
LangOption = Annotated[str, typer.Option(help="da (Danish labels) or en.")]


def register(app: typer.Typer) -> None:
    """Add ``meeting`` and ``minutes`` to the ``report`` group."""

    @app.command("meeting")
    def meeting_command(
        collaboration: CollaborationOption,
        week: WeekOption,
        db: DatabaseOption = None,
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
        lang: LangOption = "da",
        at_risk_days: Annotated[
            int, typer.Option(help="Deadline within this many days counts as at risk.")
        ] = 7,
        pdf: Annotated[bool, typer.Option(help="Also print PDFs (needs Chromium).")] = True,
        region: Annotated[
            str | None, typer.Option(help="Only proposals from or to this region (as the page).")
        ] = None,
        department: Annotated[
            str | None, typer.Option(help="Only proposals from or to this department id.")
        ] = None,
        action: Annotated[
            str | None, typer.Option(help="Only this action: keep, move, new or unassigned.")
        ] = None,
        provider_type: Annotated[
            str | None, typer.Option(help="Only this provider type, e.g. private.")
        ] = None,
        at_risk: Annotated[bool, typer.Option("--at-risk", help="Only patients at risk.")] = False,
        away: Annotated[
            bool, typer.Option("--away", help="Only referrals away from the home department.")
        ] = False,
        sort: Annotated[
            str | None,
            typer.Option(help="Order of the agenda (default most urgent first), e.g. -days_late."),
        ] = None,
    ) -> None:
        """Write the meeting pack for the table: the agenda first (key figures against current
        practice and per region, the decisions to take with reasons and alternatives, the
        duty-to-act list, the capacity overview) as HTML and PDF, every proposal in an
        appendix beside it, and an Excel workbook; narrowed like the review page's filters.

        Uses the newest finished solve run of the collaboration and week; when there is none,
        solves one on the database's snapshot first.
        """
        from reports.meeting.pack import meeting_from_store, write_pack
        from reports.meeting.selection import narrowed
        from reports.render.pdf import ChromiumMissing

        _check_common(collaboration, week, lang)
        chosen = _filters(region, department, action, provider_type, at_risk, away, sort)
        day = _today(today)
        try:
            meeting = meeting_from_store(
                db,
                collaboration,
                week,
                run_id=run,
                today=day,
                lang=lang,
                at_risk_days=at_risk_days,
                filters=chosen,
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
        shown = narrowed(meeting)
        typer.echo(
            f"Meeting pack for {collaboration} {week} (run {meeting.run.run_id}, "
            f"{len(shown.rows)} proposals, {len(shown.page_rows)} on the agenda, "
            f"{len(shown.at_risk)} at risk):"
        )
        for path in files.paths:
            typer.echo(f"  {path}")

    @app.command("minutes")
    def minutes_command(
        collaboration: CollaborationOption,
        week: WeekOption,
        db: DatabaseOption = None,
        run: Annotated[
            int | None,
            typer.Option(
                help="The meeting's run: its key figures head the minutes, and decisions on "
                "the week's runs up to it are listed (default: the newest for the week)."
            ),
        ] = None,
        out: Annotated[Path, typer.Option(help="Folder for the minutes' files.")] = Path("out"),
        lang: LangOption = "da",
        pdf: Annotated[bool, typer.Option(help="Also print a PDF (needs Chromium).")] = True,
    ) -> None:
        """Write the meeting's minutes (referat): every accept, reject and hold on the runs of
        the collaboration and week, grouped by decision, with the patient's pseudonym, what was
        proposed and decided, the reason, who decided and when (Danish time), under the
        meeting's key figures; as HTML, PDF and CSV.
        """
        from reports.meeting.minutes import minutes_from_store, write_minutes
        from reports.render.pdf import ChromiumMissing

        _check_common(collaboration, week, lang)
        try:
            minutes = minutes_from_store(db, collaboration, week, run_id=run, lang=lang)
            files = write_minutes(minutes, out, pdf=pdf)
        except ValueError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from None
        except ChromiumMissing as exc:
            typer.echo(f"{exc} (or pass --no-pdf); nothing was written", err=True)
            raise typer.Exit(1) from None
        except RuntimeError as exc:
            typer.echo(f"{exc}; nothing was written", err=True)
            raise typer.Exit(1) from None
        counts = minutes.counts
        typer.echo(
            f"Minutes of {collaboration} {week} (run {minutes.run.run_id}; "
            f"{counts['accept']} accepted, {counts['reject']} rejected, {counts['hold']} on hold):"
        )
        for path in files:
            typer.echo(f"  {path}")
