"""Where a quarter's pathways come from, and the sentence that says so in each language: a
pathways file, a scenario run folder, or a quarter simulated from the reference data or from a
stored snapshot (:mod:`scenarios.simulate`, replayed week by week)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from capacity import calendar
from reports.monitoring.pathways import pathways_from_outcomes
from reports.monitoring.period import MonitoringError, Quarter


@dataclass(frozen=True)
class Source:
    """Where a report's pathways come from, said in each language."""

    en: str
    da: str

    def text(self, lang: str) -> str:
        """The sentence in ``lang``."""
        return self.da if lang == "da" else self.en


def file_source(path: str | Path) -> Source:
    """The source sentence of a pathways file."""
    name = Path(path).name
    return Source(f"completed pathways in {name}", f"afsluttede forløb i {name}")


def run_source(folder: str | Path, replication: int) -> Source:
    """The source sentence of a scenario run folder."""
    name = Path(folder).name
    return Source(
        f"scenario run {name}, replication {replication}",
        f"scenariekørsel {name}, replikation {replication}",
    )


@dataclass(frozen=True)
class SimulatedQuarter:
    """Pathways of a simulated quarter and a sentence saying where they come from."""

    pathways: pd.DataFrame
    source: Source


def stored_pathways(database: str) -> SimulatedQuarter | None:
    """The pathways the store's recorded events imply (:mod:`capacity.pathways`), or None when
    no event is stored. Each closed pathway counts in the quarter its examination or treatment
    started (or it ended without one), in the category its events imply."""
    from capacity.pathways import derive_pathways, monitoring_pathways
    from capacity.storage import pathways as stored

    events = stored.read_events(database)
    if events.empty:
        return None
    pathways = monitoring_pathways(derive_pathways(events))
    where = _hide_password(database)
    return SimulatedQuarter(
        pathways,
        Source(
            f"{len(events)} recorded pathway events in {where}",
            f"{len(events)} registrerede forløbshændelser i {where}",
        ),
    )


def simulate_quarter(
    quarter: Quarter,
    *,
    scale: float = 1.0,
    seed: int = 1,
    warmup_weeks: int = 3,
    database: str | None = None,
    week: str | None = None,
) -> SimulatedQuarter:
    """A quarter of completed pathways played out by the rolling-horizon simulation.

    From the bundled reference data (default): the reference waiting list ``warmup_weeks``
    before the quarter's first Monday at ``scale``, simulated to the quarter's last week (the
    warm-up weeks let the generated backlog clear and are not counted). From a database: the
    stored snapshot of ``week``, simulated to the quarter's end (default: the latest load week
    on or before the quarter's start, else the first inside it, which gives a partial quarter).
    One replication, default policy (capacity shared across regions), default behaviour, and
    the quarter's calendar (public holidays, and referrals and slots per ISO week from the
    reference year profile: ``calendar`` in docs/scenarios.md), so Q3 with its summer holidays
    and Q4 with Christmas differ by more than their label.
    """
    from scenarios.schema import scenario_from_mapping
    from scenarios.simulate import run_replication

    mondays = quarter.mondays()
    if database is None:
        start = mondays[0] - dt.timedelta(weeks=warmup_weeks)
        base: dict[str, Any] = {
            "type": "reference",
            "week": calendar.week_of(start),
            "seed": seed,
            "scale": scale,
        }
        source = Source(
            f"simulated from the bundled reference data (scale {scale:g}, seed {seed}, "
            f"{warmup_weeks} warm-up weeks from {calendar.week_of(start)}; the quarter's "
            "holidays and the reference year profile)",
            f"simuleret ud fra de medfølgende referencedata (skala {scale:g}, frø {seed}, "
            f"{warmup_weeks} indkøringsuger fra {calendar.week_of(start)}; kvartalets "
            "helligdage og referenceårets profil)",
        )
    else:
        label = _stored_start_week(database, quarter, week)
        start = calendar.week_monday(label)
        if start > mondays[-1]:
            raise MonitoringError(f"week {label} is after {quarter}; pass a week before its end")
        base = {"type": "database", "url": database, "week": label}
        where = _hide_password(database)
        source = Source(
            f"simulated from the stored snapshot of {label} ({where})",
            f"simuleret ud fra det gemte øjebliksbillede af {label} ({where})",
        )
    horizon = (mondays[-1] - start).days // 7 + 1
    if horizon > 104:
        raise MonitoringError(
            f"{calendar.week_of(start)} is {horizon} weeks before the end of {quarter}; at most 104"
        )
    scenario = scenario_from_mapping(
        {
            "name": f"monitoring-{quarter}",
            "base": base,
            "horizon_weeks": horizon,
            # the quarter's own calendar: public holidays, summer and Christmas
            "calendar": {"holidays": True, "year_profile": True},
            "replications": 1,
            "seed": seed,
        }
    )
    result = run_replication(scenario, 0)
    monday = pd.Series(
        [start + dt.timedelta(weeks=w) for w in range(horizon)], index=range(1, horizon + 1)
    )
    pathways = pathways_from_outcomes(
        result.patients, monday, bool(scenario.solver_policy().allow_cross_region)
    )
    return SimulatedQuarter(pathways, source)


def _stored_start_week(url: str, quarter: Quarter, week: str | None) -> str:
    """The stored week a replay of ``quarter`` starts from: ``week`` if a load was made for it,
    else the latest load week on or before the quarter's first Monday, else the first one inside
    the quarter; :class:`MonitoringError` naming the stored weeks otherwise."""
    from capacity.storage import declaration_history

    history = declaration_history(url)
    # a weekly load declares its week and the five after it: its first week is its week
    loads = sorted(set(history.groupby("load_id")["week"].min())) if len(history) else []
    if week is not None:
        if week not in loads:
            raise MonitoringError(
                f"no load was made for {week}; stored load weeks: {', '.join(loads) or 'none'}"
            )
        return week
    first, last = calendar.week_of(quarter.mondays()[0]), calendar.week_of(quarter.mondays()[-1])
    before = [w for w in loads if w <= first]
    inside = [w for w in loads if first < w <= last]
    if before:
        return before[-1]
    if inside:
        return inside[0]
    raise MonitoringError(
        f"the database holds no load for a week up to {last}; stored load weeks: "
        f"{', '.join(loads) or 'none'} (load one with kapacitet load DIR, or pass --week)"
    )


def _hide_password(url: str) -> str:
    return re.sub(r"(://[^:/@]+):[^@]+@", r"\1:***@", url)
