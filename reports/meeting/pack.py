"""The meeting pack: the review page's content as printable HTML, PDF and an Excel workbook.

``kapacitet report meeting`` calls :func:`meeting_from_store` and :func:`write_pack`. The pack
reads the newest finished run of the collaboration and week (or solves one on the store's
snapshot when there is none) and renders the same :class:`~reports.meeting.model.Meeting` the
page shows. All three files are written in a scratch folder and moved into place only when every
one of them succeeded, so a failure leaves no half-written pack.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from capacity import calendar
from capacity.storage import create_database_engine, upgrade_database
from reports.meeting.model import AT_RISK_DAYS, Meeting
from reports.meeting.queries import meeting_runs
from reports.meeting.render import render_pack_html
from reports.meeting.views import build_meeting
from reports.meeting.workbook import write_workbook
from reports.render.files import staged_output, write_page
from workflow import runs
from workflow.access import Principal, Role
from workflow.runs import SolveRequest, SolveRun
from workflow.status import RunStatus

#: Who the command line acts as: the specialist unit, which sees every proposal. Its runs and
#: their audit entries carry token id 0 and this name (no bearer token is involved).
COMMAND_LINE = Principal(token_id=0, name="kapacitet report meeting", role=Role.SPECIALIST_UNIT)


@dataclass(frozen=True)
class PackFiles:
    """Where the meeting pack's three files were written."""

    html: Path
    pdf: Path | None
    xlsx: Path


def meeting_from_store(
    database_url: str | None,
    collaboration: str,
    week: str,
    *,
    run_id: int | None = None,
    today: dt.date | None = None,
    lang: str = "da",
    at_risk_days: int = AT_RISK_DAYS,
) -> Meeting:
    """The meeting of ``collaboration`` and ``week``: run ``run_id``, else the newest finished
    run covering them, else a new run solved on the store's snapshot now (dated ``today``, or
    the week's Monday)."""
    calendar.week_monday(week)  # a ValueError names a malformed week before anything is solved
    engine = create_database_engine(database_url)
    try:
        upgrade_database(engine)
        with engine.begin() as conn:
            run: SolveRun | None
            if run_id is not None:
                run = _usable_run(runs.get_run(conn, run_id), collaboration)
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
            )
    finally:
        engine.dispose()


def _usable_run(run: SolveRun, collaboration: str) -> SolveRun:
    """``run`` when it is finished and covers ``collaboration``; ValueError saying why not."""
    if run.status is not RunStatus.DONE:
        raise ValueError(f"solve run {run.run_id} is {run.status}, not done; choose a finished run")
    if run.collaboration not in (None, collaboration):
        raise ValueError(f"solve run {run.run_id} solved {run.collaboration}, not {collaboration}")
    return run


def pack_stem(meeting: Meeting) -> str:
    """The files' common name: ``meeting-lung-2026-W48``."""
    return f"meeting-{meeting.collaboration}-{meeting.week}"


def write_pack(meeting: Meeting, out_dir: Path, *, pdf: bool = True) -> PackFiles:
    """Write the pack's HTML, PDF (unless ``pdf`` is false) and workbook into ``out_dir``.

    Everything is rendered in a scratch folder beside ``out_dir`` first; the files replace any
    earlier pack only when all of them were written.
    """
    stem = pack_stem(meeting)
    with staged_output(out_dir, stem) as staged:
        write_workbook(meeting, staged.work / f"{stem}.xlsx")
        write_page(staged.work, stem, render_pack_html(meeting), pdf)
    return PackFiles(
        html=out_dir / f"{stem}.html",
        pdf=out_dir / f"{stem}.pdf" if pdf else None,
        xlsx=out_dir / f"{stem}.xlsx",
    )
