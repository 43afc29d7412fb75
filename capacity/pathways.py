"""Cancer pathways as recorded facts: events, their imports, and what they imply.

A patient's pathway is what happened to it, appended event by event: the referral was received,
the patient consented, the clock was paused for the patient's health or wish, an offer of referral
was made and answered, the examination or treatment started. Deadlines and the national
monitoring categories follow from the events by the rules file; nothing is overwritten, so a
re-upload of a waiting list can never erase history.

- :func:`read_events` reads an events CSV, :func:`read_markers` an LPR3 waiting-time marker CSV
  (SKS ``AFV`` codes, mapped by the versioned ``capacity/data/rules/lpr3_afv_codes.yaml``); both
  are validated like a contract folder (``file:row:column``, nothing returned on error).
- :func:`derive_pathways` groups events into pathways, computes each deadline ``D`` and start
  ``S`` and its monitoring category (:data:`PRECEDENCE`, configurable).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import yaml

from capacity import frames
from capacity.io import read_csv
from capacity.rules import RuleGroup, Rules, load_rules
from capacity.validation import FileProblems, Problem, RawTable, TableCheck, ValidationFailed
from capacity.vocabulary import COLLABORATIONS, PROCEDURES, REGIONS, PathwayType


class PathwayEvent(StrEnum):
    """What can happen on a pathway (the ``event`` column)."""

    REFERRAL_RECEIVED = "referral_received"
    CONSENT = "consent"
    FOLLOWON_REFERRAL = "followon_referral"
    PAUSED_HEALTH = "paused_health"
    PAUSED_WISH = "paused_wish"
    RESUMED = "resumed"
    OFFER_MADE = "offer_made"
    DEPARTMENT_CONFIRMED = "department_confirmed"
    DEPARTMENT_DECLINED = "department_declined"
    OFFER_ACCEPTED = "offer_accepted"
    OFFER_DECLINED = "offer_declined"
    BOOKED = "booked"
    CANCELLED = "cancelled"
    STARTED = "started"
    ENDED = "ended"


class Category(StrEnum):
    """The national monitoring categories (from 2024), category 2 split by its reason."""

    WITHIN = "within"
    HEALTH = "health"
    PATIENT_WISH = "patient_wish"
    CAPACITY = "capacity"
    NOT_COMPLIED = "not_complied"


#: Which exceeded pathway gets which reason, tried in this order (the first that holds wins):
#: a health pause; a wish pause or a declined offer; an offer of referral made on or before the
#: deadline; otherwise the rules were not complied with. Pass another order to
#: :func:`derive_pathways` to change it.
PRECEDENCE: Final = (Category.HEALTH, Category.PATIENT_WISH, Category.CAPACITY)

#: Events that close a pathway: the next clock event of the same patient and procedure opens
#: a new one.
CLOSING: Final = frozenset({PathwayEvent.STARTED, PathwayEvent.ENDED})
#: Order of events recorded on the same day (a referral before the start it leads to).
_SAME_DAY_ORDER: Final = {
    event: rank
    for rank, group in enumerate(
        [
            (PathwayEvent.REFERRAL_RECEIVED, PathwayEvent.FOLLOWON_REFERRAL),
            (PathwayEvent.CONSENT,),
            (PathwayEvent.PAUSED_HEALTH, PathwayEvent.PAUSED_WISH, PathwayEvent.RESUMED),
            (PathwayEvent.OFFER_MADE,),
            (PathwayEvent.DEPARTMENT_CONFIRMED, PathwayEvent.DEPARTMENT_DECLINED),
            (PathwayEvent.OFFER_ACCEPTED, PathwayEvent.OFFER_DECLINED),
            (PathwayEvent.BOOKED, PathwayEvent.CANCELLED),
            (PathwayEvent.STARTED, PathwayEvent.ENDED),
        ]
    )
    for event in group
}

#: Columns of an events file and of the stored events; ``pathway`` is optional (an LPR3 marker
#: may fix the pathway type), ``department_id`` and ``detail`` may be empty.
EVENTS: Final[dict[str, str]] = {
    "patient_id": frames.STR,
    "collaboration": frames.STR,
    "procedure": frames.STR,
    "home_region": frames.STR,
    "event": frames.STR,
    "date": frames.DATE,
    "department_id": frames.STR,
    "detail": frames.STR,
}
EVENTS_OPTIONAL: Final[dict[str, str]] = {"pathway": frames.STR}
#: Columns of an LPR3 marker file: the SKS code instead of the event; procedure where the code
#: does not imply it.
MARKERS: Final[dict[str, str]] = {
    "patient_id": frames.STR,
    "collaboration": frames.STR,
    "home_region": frames.STR,
    "code": frames.STR,
    "date": frames.DATE,
}
MARKERS_OPTIONAL: Final[dict[str, str]] = {
    "procedure": frames.STR,
    "department_id": frames.STR,
    "detail": frames.STR,
}
_MAY_BE_EMPTY: Final = frozenset({"department_id", "detail", "pathway", "procedure"})
#: Events that must name a department: where the offer, answer, booking or start took place.
_NEEDS_DEPARTMENT: Final = frozenset(
    {
        PathwayEvent.OFFER_MADE,
        PathwayEvent.DEPARTMENT_CONFIRMED,
        PathwayEvent.DEPARTMENT_DECLINED,
        PathwayEvent.BOOKED,
    }
)
MARKER_CODES: Final = "lpr3_afv_codes.yaml"


@dataclass(frozen=True)
class MarkerCode:
    """One SKS waiting-time marker: the event it records and what it implies."""

    code: str
    text: str
    event: PathwayEvent
    procedure: str | None = None
    pathway: PathwayType | None = None
    confirmed: bool = True


def load_marker_codes(path: str | Path | None = None) -> dict[str, MarkerCode]:
    """The SKS AFV code mapping (default: the bundled, versioned file)."""
    if path is None:
        text = resources.files("capacity.data.rules").joinpath(MARKER_CODES).read_text("utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    document = yaml.safe_load(text)
    return {
        str(code): MarkerCode(
            code=str(code),
            text=str(entry.get("text", "")),
            event=PathwayEvent(entry["event"]),
            procedure=entry.get("procedure"),
            pathway=PathwayType(entry["pathway"]) if entry.get("pathway") else None,
            confirmed=bool(entry.get("confirmed", True)),
        )
        for code, entry in (document.get("codes") or {}).items()
    }


# ---- reading ---------------------------------------------------------------------------------


def _check(raw: RawTable, columns: dict[str, str], optional: dict[str, str]) -> TableCheck:
    """The contract validator's column checks, on an events or markers table."""
    return TableCheck(raw, FileProblems(raw), columns, optional, _MAY_BE_EMPTY)


def _raw(path: str | Path, table: str) -> RawTable:
    file = Path(path)
    if not file.is_file():
        raise ValidationFailed([Problem(file.name, None, None, "no such file")])
    raw = read_csv(file, table)
    if isinstance(raw, Problem):
        raise ValidationFailed([raw])
    return raw


def _finish(check: TableCheck, spec: dict[str, str]) -> pd.DataFrame:
    problems = check.found.problems()
    if problems:
        raise ValidationFailed(problems)
    typed = pd.DataFrame({c: check.typed[c] for c in spec if c in check.typed})
    return frames.conform(typed, spec)


def check_events(raw: RawTable) -> pd.DataFrame:
    """An events table as strings, validated column by column (every problem at once)."""
    spec = EVENTS | EVENTS_OPTIONAL
    optional = {c: EVENTS[c] for c in ("department_id", "detail")} | EVENTS_OPTIONAL
    check = _check(raw, {c: t for c, t in EVENTS.items() if c not in optional}, optional)
    check.ids("patient_id", "patient", unique=False)
    check.choice("collaboration", COLLABORATIONS, "collaboration")
    check.choice("procedure", PROCEDURES, "procedure")
    check.choice("home_region", REGIONS, "region")
    events = check.choice("event", tuple(PathwayEvent), "event")
    check.dates("date")
    department = check.reference("department_id") if check.has("department_id") else None
    check.free_text("detail")
    if check.has("pathway"):
        check.choice("pathway", tuple(PathwayType), "pathway type")
    if department is not None:
        needs = events.isin(_NEEDS_DEPARTMENT).fillna(False).to_numpy(dtype=bool)
        missing = needs & department.isna().to_numpy()
        check.found.at(
            missing,
            "department_id",
            lambda i: f"a {events.iloc[i]} event names the department it concerns",
        )
    return _finish(check, spec)


def read_events(path: str | Path) -> pd.DataFrame:
    """A pathway events CSV, validated (:class:`ValidationFailed` listing every problem)."""
    return check_events(_raw(path, "pathway_events"))


def read_markers(path: str | Path, codes: dict[str, MarkerCode] | None = None) -> pd.DataFrame:
    """An LPR3 waiting-time marker CSV as pathway events, validated like an events file.

    A code must be in the mapping; a marker whose code implies no procedure takes its
    ``procedure`` column, else the procedure of the patient's latest referral in the same
    collaboration on or before it (a consent, a pause).
    """
    codes = load_marker_codes() if codes is None else codes
    raw = _raw(path, "lpr3_markers")
    spec = MARKERS | MARKERS_OPTIONAL
    check = _check(raw, MARKERS, MARKERS_OPTIONAL)
    check.ids("patient_id", "patient", unique=False)
    check.choice("collaboration", COLLABORATIONS, "collaboration")
    check.choice("home_region", REGIONS, "region")
    code = check.choice("code", tuple(codes), "SKS waiting-time code")
    check.dates("date")
    if check.has("procedure"):
        check.choice("procedure", PROCEDURES, "procedure")
    if check.has("department_id"):
        check.reference("department_id")
    if check.has("detail"):
        check.free_text("detail")
    markers = _finish(check, spec)
    mapping = pd.DataFrame(
        [
            (m.event.value, m.procedure, m.pathway.value if m.pathway else None)
            for m in codes.values()
        ],
        index=list(codes),
        columns=["event", "procedure", "pathway"],
        dtype=frames.STR,
    ).reindex(markers["code"].to_numpy())
    mapping.index = markers.index
    given = {
        column: markers[column] if column in markers else pd.Series(pd.NA, index=markers.index)
        for column in ("procedure", "detail")
    }
    events = markers.assign(
        event=mapping["event"],
        procedure=mapping["procedure"].fillna(given["procedure"].astype(frames.STR)),
        pathway=mapping["pathway"],
        detail=given["detail"].astype(frames.STR).fillna(markers["code"]),
    )
    events = _inherit_procedure(events)
    unknown = events["procedure"].isna().to_numpy()
    if unknown.any():
        found = FileProblems(raw)
        found.at(
            unknown,
            "procedure",
            lambda i: (
                f"marker {code.iloc[i]} needs a procedure: fill in the procedure column or "
                "record the patient's referral marker first"
            ),
        )
        raise ValidationFailed(found.problems())
    if "department_id" not in events:
        events["department_id"] = pd.Series(pd.NA, index=events.index, dtype=frames.STR)
    return frames.conform(events[list(EVENTS | EVENTS_OPTIONAL)], EVENTS | EVENTS_OPTIONAL)


def _inherit_procedure(events: pd.DataFrame) -> pd.DataFrame:
    """Fill a missing procedure from the patient's latest earlier marker that has one."""
    order = events.sort_values(["patient_id", "collaboration", "date"], kind="stable").index
    ordered = events.loc[order]
    filled = ordered.groupby(["patient_id", "collaboration"], sort=False)["procedure"].ffill()
    events.loc[order, "procedure"] = filled.to_numpy()
    return events


# ---- what the events imply ---------------------------------------------------------------------

#: Columns of :func:`derive_pathways`' result.
PATHWAYS: Final = (
    "patient_id",
    "collaboration",
    "procedure",
    "home_region",
    "pathway_type",
    "department_id",
    "clock_date",
    "deadline",
    "deadline_rule",
    "start_date",
    "ended_without_start",
    "health_pause",
    "wish",
    "offer_by_deadline",
    "days_exceeded",
    "category",
)


def order_events(events: pd.DataFrame) -> pd.DataFrame:
    """Events by patient, collaboration, procedure, date and the same-day order of events."""
    rank = events["event"].map(_SAME_DAY_ORDER).astype("int64")
    return (
        events.assign(_rank=rank)
        .sort_values(["patient_id", "collaboration", "procedure", "date", "_rank"], kind="stable")
        .drop(columns="_rank")
        .reset_index(drop=True)
    )


def pathway_numbers(events: pd.DataFrame) -> pd.Series:
    """For ordered events, the number of the pathway each belongs to (0, 1, ... per patient,
    collaboration and procedure): a new one opens after a closing event (start, end)."""
    key = ["patient_id", "collaboration", "procedure"]
    closed = events["event"].isin(CLOSING).astype("int64")
    earlier_closed = closed.groupby([events[k] for k in key], sort=False).cumsum() - closed
    return earlier_closed.astype("int64")


def derive_pathways(
    events: pd.DataFrame,
    rules: Rules | None = None,
    precedence: Sequence[Category | str] = PRECEDENCE,
) -> pd.DataFrame:
    """One row per pathway (:data:`PATHWAYS`): its deadline ``D``, start ``S`` and category.

    ``D`` follows the rules file's ``pathways`` groups from the pathway's first clock events.
    ``S`` is the first ``started`` event, or the ``ended`` event of a pathway ended without
    treatment; a pathway with neither is still open and has no category. With ``S <= D`` it is
    *within*; otherwise the first reason of ``precedence`` that holds: *health* (a health pause
    in the pathway), *patient_wish* (a wish pause or a declined offer), *capacity* (an offer of
    referral made on or before ``D``); else *not_complied*. Days exceeded = ``S - D``.
    """
    rules = load_rules() if rules is None else rules
    ordered = order_events(events)
    ordered["pathway_no"] = pathway_numbers(ordered)
    key = ["patient_id", "collaboration", "procedure", "pathway_no"]
    event, date = ordered["event"], ordered["date"]

    def on(*kinds: PathwayEvent) -> np.ndarray:
        return event.isin(kinds).fillna(False).to_numpy(dtype=bool)

    marked = (
        ordered["pathway"].eq(PathwayType.FOLLOW_ON).fillna(False).to_numpy(dtype=bool)
        if "pathway" in ordered
        else np.zeros(len(ordered), dtype=bool)
    )
    out = (
        ordered.assign(
            referral_received=date.where(on(PathwayEvent.REFERRAL_RECEIVED)),
            consent=date.where(on(PathwayEvent.CONSENT)),
            followon_referral=date.where(on(PathwayEvent.FOLLOWON_REFERRAL)),
            started=date.where(on(PathwayEvent.STARTED)),
            ended=date.where(on(PathwayEvent.ENDED)),
            offered=date.where(on(PathwayEvent.OFFER_MADE)),
            start_department=ordered["department_id"].where(
                on(PathwayEvent.STARTED, PathwayEvent.ENDED)
            ),
            health=on(PathwayEvent.PAUSED_HEALTH),
            wished=on(PathwayEvent.PAUSED_WISH, PathwayEvent.OFFER_DECLINED),
            marked=marked,
        )
        .groupby(key, sort=False)
        .agg(
            home_region=("home_region", "last"),
            referral_received=("referral_received", "min"),
            consent=("consent", "min"),
            followon_referral=("followon_referral", "min"),
            started=("started", "min"),
            ended=("ended", "min"),
            first_offer=("offered", "min"),
            department_id=("start_department", "first"),
            health_pause=("health", "any"),
            wish=("wished", "any"),
            marked=("marked", "any"),
        )
    )
    clocks = {c: out[c] for c in ("referral_received", "consent", "followon_referral")}
    follow_on = out["marked"] | clocks["followon_referral"].notna()
    procedure = out.index.get_level_values("procedure").to_numpy()
    out["pathway_type"] = np.where(
        follow_on.to_numpy(),
        PathwayType.FOLLOW_ON.value,
        np.where(
            procedure == "pre_examination",
            PathwayType.INVESTIGATION.value,
            PathwayType.PRIMARY.value,
        ),
    )
    out["deadline"], out["deadline_rule"] = _deadlines(out["pathway_type"], clocks, rules)
    out["clock_date"] = pd.concat(clocks.values(), axis=1).min(axis=1)
    out["start_date"] = out["started"].fillna(out["ended"])
    out["ended_without_start"] = out["started"].isna() & out["ended"].notna()
    # Any offer on or before the deadline: the first offer is.
    out["offer_by_deadline"] = (out["first_offer"] <= out["deadline"]).fillna(False)
    exceeded = (out["start_date"] - out["deadline"]).dt.days
    out["days_exceeded"] = exceeded.clip(lower=0).fillna(0).astype("int64")
    out["category"] = _categories(out, exceeded, precedence)
    out = out.reset_index().drop(columns="pathway_no")
    return out[list(PATHWAYS)].reset_index(drop=True)


def _deadlines(
    pathway_type: pd.Series, clocks: dict[str, pd.Series], rules: Rules
) -> tuple[pd.Series, pd.Series]:
    """Each pathway's deadline and the limit that set it (the earliest enabled limit of its
    type's group with a clock event; a fallback limit only when no other has one)."""
    deadline = pd.Series(pd.NaT, index=pathway_type.index, dtype="datetime64[ns]")
    rule = pd.Series(pd.NA, index=pathway_type.index, dtype=frames.STR)
    for group in rules.pathways:
        in_group = pathway_type.isin(group.procedures).to_numpy()
        for fallback in (False, True):
            unset = in_group & deadline.isna().to_numpy()  # fixed for the tier
            for limit in group.limits:
                if not limit.enabled or limit.fallback != fallback:
                    continue
                date = clocks[limit.clock] + pd.Timedelta(days=limit.days - rules.clock_start_day)
                take = unset & date.notna().to_numpy()
                take &= (deadline.isna() | (date < deadline)).to_numpy()
                deadline = deadline.mask(take, date)
                rule = rule.mask(take, rules.label(group, limit))
    return deadline, rule


def _categories(
    pathways: pd.DataFrame, exceeded: pd.Series, precedence: Sequence[Category | str]
) -> pd.Series:
    reasons = {
        Category.HEALTH: pathways["health_pause"],
        Category.PATIENT_WISH: pathways["wish"],
        Category.CAPACITY: pathways["offer_by_deadline"],
    }
    category = pd.Series(Category.NOT_COMPLIED.value, index=pathways.index, dtype=object)
    for reason in reversed([Category(r) for r in precedence]):
        category = category.mask(reasons[reason].to_numpy(dtype=bool), reason.value)
    category = category.mask((exceeded <= 0).to_numpy(), Category.WITHIN.value)
    category = category.mask(pathways["start_date"].isna().to_numpy(), pd.NA)
    category = category.mask(pathways["deadline"].isna().to_numpy(), pd.NA)
    return category.astype(frames.STR)


def monitoring_pathways(pathways: pd.DataFrame) -> pd.DataFrame:
    """Closed pathways in the monitoring report's normalised columns, plus ``pathway_type``."""
    closed = pathways[pathways["category"].notna().to_numpy()]
    return pd.DataFrame(
        {
            "patient_id": closed["patient_id"],
            "collaboration": closed["collaboration"],
            "procedure": closed["procedure"],
            "home_region": closed["home_region"],
            "department_id": closed["department_id"],
            "start_date": closed["start_date"],
            "days_exceeded": closed["days_exceeded"].astype("int64"),
            "category": closed["category"].astype(str),
            "pathway_type": closed["pathway_type"],
        }
    ).reset_index(drop=True)


def summary(pathways: pd.DataFrame) -> dict[str, Any]:
    """Counts per category and pathway type (a CLI summary line)."""
    closed = pathways[pathways["category"].notna().to_numpy()]
    return {
        "pathways": len(pathways),
        "closed": len(closed),
        "open": len(pathways) - len(closed),
        "categories": {c.value: int((closed["category"] == c.value).sum()) for c in Category},
        "types": {t.value: int((pathways["pathway_type"] == t.value).sum()) for t in PathwayType},
    }


__all__ = [
    "PRECEDENCE",
    "Category",
    "MarkerCode",
    "PathwayEvent",
    "PathwayType",
    "RuleGroup",
    "derive_pathways",
    "load_marker_codes",
    "monitoring_pathways",
    "read_events",
    "read_markers",
]
