"""The meeting pack for the table: the agenda first, as printable HTML and PDF, with every
proposal in an appendix beside it and an Excel workbook.

``kapacitet report meeting`` calls :func:`meeting_from_store` and :func:`write_pack`. The pack
reads the newest finished run of the collaboration and week (or solves one on the store's
snapshot when there is none) and renders the same :class:`~reports.meeting.model.Meeting` the
page shows, narrowed by the page's filters: the summary (key figures against current practice,
per region), the decisions to take (the agenda), the duty-to-act list and the capacity
overview. The appendix lists every proposal the filters show. All files are written in a
scratch folder and moved into place only when every one of them succeeded, so a failure leaves
no half-written pack.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import Connection

from capacity import calendar
from capacity.errors import NotFound
from capacity.storage import create_database_engine, upgrade_database
from reports.meeting.model import AT_RISK_DAYS, Filters, Meeting
from reports.meeting.queries import meeting_runs
from reports.meeting.render import render_appendix_html, render_pack_html
from reports.meeting.views import build_meeting
from reports.meeting.workbook import write_workbook
from reports.render.files import staged_output, write_page
from reports.render.pdf import html_to_pdf
from workflow import runs
from workflow.access import Principal, Role
from workflow.runs import SolveRequest, SolveRun
from workflow.status import RunStatus

#: Who the command line acts as: the specialist unit, which sees every proposal. Its runs and
#: their audit entries carry token id 0 and this name (no bearer token is involved).
COMMAND_LINE = Principal(token_id=0, name="kapacitet report meeting", role=Role.SPECIALIST_UNIT)


@dataclass(frozen=True)
class PackFiles:
    """Where the meeting pack's files were written: the pack, its appendix, the workbook."""

    html: Path
    pdf: Path | None
    xlsx: Path
    appendix_html: Path
    appendix_pdf: Path | None

    @property
    def paths(self) -> tuple[Path, ...]:
        """Every file written, the pack first."""
        found = (self.html, self.pdf, self.appendix_html, self.appendix_pdf, self.xlsx)
        return tuple(path for path in found if path is not None)


def meeting_from_store(
    database_url: str | None,
    collaboration: str,
    week: str,
    *,
    run_id: int | None = None,
    today: dt.date | None = None,
    lang: str = "da",
    at_risk_days: int = AT_RISK_DAYS,
    filters: Filters | None = None,
) -> Meeting:
    """The meeting of ``collaboration`` and ``week``: run ``run_id``, else the newest finished
    run covering them, else a new run solved on the store's snapshot now (dated ``today``, or
    the week's Monday). ``filters`` (the page's) narrow the agenda and the lists; the pack
    always shows the agenda view.

    A malformed week, an unknown run, or a run that is not finished or covers another
    collaboration or week is a :class:`ValueError` saying so (nothing is solved then)."""
    calendar.week_monday(week)  # a ValueError names a malformed week before anything is solved
    engine = create_database_engine(database_url)
    try:
        upgrade_database(engine)
        with engine.begin() as conn:
            run: SolveRun | None
            if run_id is not None:
                run = chosen_run(conn, run_id, collaboration, week)
            else:
                found = meeting_runs(conn, collaboration, week)
                run = found[0] if found else None
        if run is None:
            body = SolveRequest.model_validate(
                {
                    "today": today or calendar.week_monday(week),
                    "week": week,
                    "collaboration": collaboration,
                }
            )
            run = runs.start_run(engine, COMMAND_LINE, body, "kapacitet report meeting")
        with engine.begin() as conn:
            return build_meeting(
                conn,
                COMMAND_LINE,
                run,
                collaboration=collaboration,
                week=week,
                today=today,
                lang=lang,
                at_risk_days=at_risk_days,
                filters=pack_filters(filters),
            )
    finally:
        engine.dispose()


def pack_filters(filters: Filters | None) -> Filters:
    """The page's filters as the pack uses them: the agenda view, its one page."""
    return replace(filters or Filters(), view="agenda", page=1)


def chosen_run(conn: Connection, run_id: int, collaboration: str, week: str) -> SolveRun:
    """Run ``run_id`` when it is finished and covers ``collaboration`` and ``week``; a
    :class:`ValueError` saying why not (an unknown run included)."""
    try:
        run = runs.get_run(conn, run_id)
    except NotFound:
        raise ValueError(f"--run: there is no solve run {run_id}") from None
    return _usable_run(run, collaboration, week)


def _usable_run(run: SolveRun, collaboration: str, week: str | None = None) -> SolveRun:
    """``run`` when it is finished and covers ``collaboration`` (and ``week``); ValueError
    saying why not."""
    if run.status is not RunStatus.DONE:
        raise ValueError(
            f"--run: solve run {run.run_id} is {run.status}, not done; choose a finished run"
        )
    if run.collaboration not in (None, collaboration):
        raise ValueError(
            f"--run: solve run {run.run_id} solved {run.collaboration}, not {collaboration}"
        )
    if week is not None and run.week not in (None, week):
        raise ValueError(f"--run: solve run {run.run_id} is of week {run.week}, not {week}")
    return run


def pack_stem(meeting: Meeting) -> str:
    """The files' common name: ``meeting-lung-2026-W48``."""
    return f"meeting-{meeting.collaboration}-{meeting.week}"


def appendix_stem(meeting: Meeting) -> str:
    """The appendix's name beside the pack: ``meeting-lung-2026-W48-appendix``."""
    return f"{pack_stem(meeting)}-appendix"


def write_pack(meeting: Meeting, out_dir: Path, *, pdf: bool = True) -> PackFiles:
    """Write the pack's HTML and PDF (unless ``pdf`` is false), its appendix of every proposal
    (HTML and PDF) and the workbook into ``out_dir``.

    Everything is rendered in a scratch folder beside ``out_dir`` first; the files replace any
    earlier pack only when all of them were written.
    """
    stem, appendix = pack_stem(meeting), appendix_stem(meeting)
    named = f"{appendix}.pdf" if pdf else f"{appendix}.html"
    with staged_output(out_dir, stem) as staged:
        pages = [
            write_page(staged.work, stem, render_pack_html(meeting, appendix=named), False),
            write_page(staged.work, appendix, render_appendix_html(meeting), False),
        ]
        # the two prints are separate Chromium processes: side by side, the pack is ready
        # about when the longer appendix is, and the workbook is written meanwhile
        with ThreadPoolExecutor(max_workers=2) as printer:
            printing = [
                printer.submit(html_to_pdf, page, page.with_suffix(".pdf"))
                for page in (pages if pdf else [])
            ]
            write_workbook(meeting, staged.work / f"{stem}.xlsx")
            for job in printing:
                job.result()
    return PackFiles(
        html=out_dir / f"{stem}.html",
        pdf=out_dir / f"{stem}.pdf" if pdf else None,
        xlsx=out_dir / f"{stem}.xlsx",
        appendix_html=out_dir / f"{appendix}.html",
        appendix_pdf=out_dir / f"{appendix}.pdf" if pdf else None,
    )
