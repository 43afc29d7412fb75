"""The minutes (referat) of a collaboration meeting: every decision taken on the runs of its
collaboration and week, grouped by decision, under the meeting's key figures.

Each entry is one row of ``decisions`` (an accept, a reject or a hold) with the token's name
(``api_tokens``) as who decided, the moment (shown in Danish time), the reason, what the run
proposed and what was decided (an accepted alternative shows its own department and day).
The decisions are scoped as the meeting is: a region sees its own patients' only, a chair
their collaboration's, a department those sent from or to it
(:func:`workflow.access.may_see_proposal`). ``kapacitet report minutes`` writes them as HTML,
PDF and CSV (:func:`write_minutes`); the review page serves them at ``/web/minutes``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy import Connection

from capacity import calendar
from capacity.storage import create_database_engine, upgrade_database
from reports.meeting.formats import DANISH_TIME
from reports.meeting.model import Meeting
from reports.meeting.queries import meeting_runs
from reports.meeting.render import render_minutes_html
from reports.meeting.views import build_meeting
from reports.render.files import staged_output, write_page
from reports.render.spreadsheet import looks_like_formula
from workflow import tables
from workflow.access import Principal, may_see_proposal, patient_scope
from workflow.proposals import Proposal
from workflow.runs import SolveRun

#: The decisions in the order the minutes group them.
DECISIONS: Final = ("accept", "reject", "hold")

#: The CSV's columns (stable codes, for the archive).
CSV_COLUMNS: Final = (
    "decision",
    "decision_id",
    "run_id",
    "patient_id",
    "procedure",
    "home_region",
    "home_department_id",
    "proposed_department_id",
    "proposed_date",
    "proposed_action",
    "decided_department_id",
    "decided_date",
    "alternative_chosen",
    "reason",
    "decided_by",
    "decided_at",
)


@dataclass(frozen=True)
class MinutesEntry:
    """One decision: on whom, what was proposed and decided, why, by whom and when."""

    decision_id: int
    run_id: int
    decision: str
    patient_id: str
    procedure: str
    home_region: str
    home_department_id: str
    deadline: str
    proposed_department_id: str
    proposed_date: str
    proposed_action: str
    decided_department_id: str
    decided_date: str
    #: An accept of one of the proposal's alternatives (another department or day).
    alternative: bool
    reason: str
    #: The name of the token that decided (``token N`` when the token is gone).
    decided_by: str
    #: When (UTC; shown in Danish time).
    decided_at: dt.datetime


@dataclass(frozen=True)
class Minutes:
    """The minutes of one meeting: its decisions and the meeting (key figures) of its run."""

    collaboration: str
    week: str
    lang: str
    run: SolveRun
    #: The runs whose decisions are listed (the week's finished runs up to ``run``), oldest first.
    runs: tuple[int, ...]
    entries: tuple[MinutesEntry, ...]
    meeting: Meeting

    @property
    def groups(self) -> tuple[tuple[str, tuple[MinutesEntry, ...]], ...]:
        """``(decision, entries)`` for accept, reject and hold, each in the order decided."""
        return tuple(
            (kind, found)
            for kind in DECISIONS
            if (found := tuple(e for e in self.entries if e.decision == kind))
        )

    @property
    def counts(self) -> dict[str, int]:
        """How many of each decision."""
        return {kind: sum(e.decision == kind for e in self.entries) for kind in DECISIONS}


def meeting_decisions(
    conn: Connection, who: Principal, collaboration: str, run_ids: tuple[int, ...]
) -> tuple[MinutesEntry, ...]:
    """Every decision on runs ``run_ids`` about a patient of ``collaboration`` that ``who`` may
    see, in the order decided."""
    if not run_ids:
        return ()
    d, t, p = tables.decisions.c, tables.api_tokens.c, tables.run_proposals.c
    query = (
        sa.select(
            d.decision_id,
            d.run_id,
            d.patient_id,
            d.decision,
            d.department_id,
            d.date,
            d.reason,
            d.decided_at,
            d.token_id,
            t.name.label("token_name"),
            p.proposal,
        )
        .join(tables.run_proposals, (p.run_id == d.run_id) & (p.patient_id == d.patient_id))
        .outerjoin(tables.api_tokens, t.token_id == d.token_id)
        .where(d.run_id.in_(list(run_ids)), p.collaboration == collaboration)
    )
    scope = patient_scope(who)
    if scope.region is not None:
        query = query.where(p.home_region == scope.region)
    if scope.collaboration is not None:
        query = query.where(p.collaboration == scope.collaboration)
    entries = []
    for row in conn.execute(query.order_by(d.decided_at, d.decision_id)):
        proposal = Proposal.model_validate(row.proposal)
        if not may_see_proposal(who, proposal):
            continue
        decided_day = row.date.isoformat() if row.date else ""
        decided_department = row.department_id or ""
        alternative = row.decision == "accept" and bool(decided_department or decided_day)
        alternative = alternative and (decided_department, decided_day) != (
            proposal.department_id or "",
            proposal.date or "",
        )
        entries.append(
            MinutesEntry(
                decision_id=int(row.decision_id),
                run_id=int(row.run_id),
                decision=str(row.decision),
                patient_id=str(row.patient_id),
                procedure=proposal.procedure or "",
                home_region=proposal.home_region or "",
                home_department_id=proposal.home_department_id or "",
                deadline=proposal.deadline or "",
                proposed_department_id=proposal.department_id or "",
                proposed_date=proposal.date or "",
                proposed_action=proposal.action,
                decided_department_id=decided_department,
                decided_date=decided_day,
                alternative=alternative,
                reason=row.reason or "",
                decided_by=row.token_name or f"token {row.token_id}",
                decided_at=row.decided_at,
            )
        )
    return tuple(entries)


def build_minutes(
    conn: Connection,
    who: Principal,
    run: SolveRun,
    *,
    collaboration: str,
    week: str,
    lang: str = "da",
) -> Minutes:
    """The minutes for ``who``: decisions on the week's finished runs up to ``run`` and the
    key figures of ``run``'s meeting."""
    found = meeting_runs(conn, collaboration, week, limit=10_000)
    run_ids = tuple(sorted(r.run_id for r in found if r.run_id <= run.run_id))
    if run.run_id not in run_ids:
        run_ids = tuple(sorted((*run_ids, run.run_id)))
    meeting = build_meeting(
        conn, who, run, collaboration=collaboration, week=week, lang=lang, duty=False
    )
    return Minutes(
        collaboration=collaboration,
        week=week,
        lang=meeting.lang,
        run=run,
        runs=run_ids,
        entries=meeting_decisions(conn, who, collaboration, run_ids),
        meeting=meeting,
    )


def minutes_from_store(
    database_url: str | None,
    collaboration: str,
    week: str,
    *,
    run_id: int | None = None,
    lang: str = "da",
    who: Principal | None = None,
) -> Minutes:
    """The minutes of ``collaboration`` and ``week`` as ``who`` (the command line: every
    patient) sees them, headed by run ``run_id`` (default the newest finished run of the week).

    A malformed week, a week without a finished run, or a ``run_id`` that is unknown, not
    finished or of another collaboration or week is a :class:`ValueError` saying so."""
    from reports.meeting.pack import COMMAND_LINE, chosen_run

    calendar.week_monday(week)
    engine = create_database_engine(database_url)
    try:
        upgrade_database(engine)
        with engine.begin() as conn:
            if run_id is not None:
                run = chosen_run(conn, run_id, collaboration, week)
            else:
                found = meeting_runs(conn, collaboration, week, limit=1)
                if not found:
                    raise ValueError(
                        f"--week: no finished solve run of {collaboration} in {week}; the "
                        "minutes list the decisions taken on a week's runs"
                    )
                run = found[0]
            return build_minutes(
                conn, who or COMMAND_LINE, run, collaboration=collaboration, week=week, lang=lang
            )
    finally:
        engine.dispose()


def minutes_stem(minutes: Minutes) -> str:
    """The files' common name: ``minutes-lung-2026-W48``."""
    return f"minutes-{minutes.collaboration}-{minutes.week}"


def _write_safe(writer: Any, row: list[Any]) -> None:
    """A CSV row whose text a spreadsheet would take for a formula (``=``, ``+``, ``-``, ``@``,
    tab, CR) is written with a leading apostrophe, as the workbook's cells are quote-prefixed:
    a reason typed as ``=HYPERLINK(...)`` stays text when the archive opens the file."""
    writer.writerow([f"'{v}" if looks_like_formula(v) else v for v in row])


def minutes_csv(minutes: Minutes) -> str:
    """The decisions as CSV (:data:`CSV_COLUMNS`), grouped as the minutes are; moments in
    Danish time with their offset (ISO 8601)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for _, entries in minutes.groups:
        for e in entries:
            _write_safe(
                writer,
                [
                    e.decision,
                    e.decision_id,
                    e.run_id,
                    e.patient_id,
                    e.procedure,
                    e.home_region,
                    e.home_department_id,
                    e.proposed_department_id,
                    e.proposed_date,
                    e.proposed_action,
                    e.decided_department_id,
                    e.decided_date,
                    "yes" if e.alternative else "no",
                    e.reason,
                    e.decided_by,
                    danish_time(e.decided_at).isoformat(timespec="seconds"),
                ],
            )
    return buffer.getvalue()


def danish_time(value: dt.datetime) -> dt.datetime:
    """A stored moment (UTC when naive) in Danish time."""
    when = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    return when.astimezone(DANISH_TIME)


def write_minutes(minutes: Minutes, out_dir: Path, *, pdf: bool = True) -> tuple[Path, ...]:
    """Write the minutes' HTML, PDF (unless ``pdf`` is false) and CSV into ``out_dir``, all or
    nothing (a scratch folder first); the paths written."""
    stem = minutes_stem(minutes)
    with staged_output(out_dir, stem) as staged:
        (staged.work / f"{stem}.csv").write_text(minutes_csv(minutes), encoding="utf-8")
        write_page(staged.work, stem, render_minutes_html(minutes), pdf)
    names = [f"{stem}.html", *([f"{stem}.pdf"] if pdf else []), f"{stem}.csv"]
    return tuple(out_dir / name for name in names)
