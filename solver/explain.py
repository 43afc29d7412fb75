"""Proposals with reasons a chief physician can read, and the KPIs of a solution.

Reasons are built column-wise: each patient gets the facts that decided its proposal (home
department's situation, travel, deadline, declined provider types), assembled into one sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from capacity.geo import great_circle_km
from solver.model import NEVER_LATE, BoolArray, IntArray, Network, positions
from solver.policy import Policy
from solver.problem import Problem

if TYPE_CHECKING:
    from solver.solve import Placement

PROCEDURE_WORDS = {
    "pre_examination": "pre-examination",
    "surgery": "surgery",
    "chemotherapy": "chemotherapy",
    "radiotherapy": "radiotherapy",
}


def _fmt_dates(days: np.ndarray, today: np.datetime64, fmt: str = "%-d %b") -> np.ndarray:
    """Days after today as text, each distinct day formatted once (a week has few of them)."""
    unique, inverse = np.unique(np.asarray(days, dtype=np.int64), return_inverse=True)
    text = pd.Series(today + unique.astype("timedelta64[D]")).dt.strftime(fmt).to_numpy(object)
    return text[inverse]


def _fmt_column(values: pd.Series, fmt: str) -> np.ndarray:
    """A datetime column as text ("" where missing), each distinct date formatted once."""
    raw = values.to_numpy("datetime64[ns]").astype("datetime64[D]")
    missing = np.isnat(raw)
    origin = np.datetime64("1970-01-01", "D")
    days = np.where(missing, 0, (raw - origin).astype(np.int64))
    text = _fmt_dates(days, origin, fmt)
    text[missing] = ""
    return text


@dataclass(frozen=True)
class Outcome:
    """Per patient of a problem (in its row order): where the solve placed it, and the facts
    of its network the proposals and reasons need. Built per service part and concatenated,
    so the whole problem's proposals are explained in one pass."""

    departments: pd.DataFrame
    dept: IntArray  # department index, -1 where unassigned
    day: IntArray  # days after today, 0 where unassigned
    active: BoolArray  # an active deadline
    deadline_day: IntArray  # days after today; NEVER_LATE when the clock is paused
    eligible_departments: IntArray
    first_home_day: IntArray  # first slot of the home chain from the first possible day, -1


def first_home_days(net: Network, home: IntArray, service: IntArray, entry: IntArray) -> IntArray:
    """Per patient: the first declared bucket day of its home department's chain on or after
    its first possible day ``entry`` (-1: none); ``service`` indexes ``net.service_keys``."""
    n_services = max(len(net.service_keys), 1)
    horizon = int(net.bucket_day.max(initial=0)) + 2
    bucket_key = (
        net.bucket_department * n_services + net.bucket_service
    ) * horizon + net.bucket_day
    chain_key = home * n_services + service
    pos = np.searchsorted(bucket_key, chain_key * horizon + entry)
    valid = (home >= 0) & (service >= 0) & (pos < len(bucket_key))
    valid[valid] &= bucket_key[pos[valid]] // horizon == chain_key[valid]
    first_home_day = np.full(len(pos), -1, dtype=np.int64)
    first_home_day[valid] = net.bucket_day[pos[valid]]
    return first_home_day


def outcome(problem: Problem, net: Network, placement: Placement) -> Outcome:
    """The outcome of a network's placement, its patients being the problem's."""
    patients = problem.patients.reset_index(drop=True)
    dept_index = pd.Index(net.departments["department_id"].astype(str))
    home = positions(dept_index, patients["home_department_id"].astype(str))
    service = positions(
        pd.Index(net.service_keys),
        patients["collaboration"].astype(str) + "/" + patients["procedure"].astype(str),
    )
    today = np.datetime64(problem.today, "D")
    earliest = patients["earliest_date"].to_numpy("datetime64[ns]").astype("datetime64[D]")
    entry = np.where(np.isnat(earliest), 0, (earliest - today).astype(np.int64))
    entry = np.maximum(entry, 0)
    return part_outcome(net, placement, home, service, entry)


def part_outcome(
    net: Network, placement: Placement, home: IntArray, service: IntArray, entry: IntArray
) -> Outcome:
    """:func:`outcome` from the patients' home department, service code and entry day."""
    bucket = placement.bucket
    placed = bucket >= 0
    dept = np.full(len(bucket), -1, dtype=np.int64)
    day = np.zeros(len(bucket), dtype=np.int64)
    dept[placed] = net.bucket_department[bucket[placed]]
    day[placed] = net.bucket_day[bucket[placed]]
    return Outcome(
        departments=net.departments,
        dept=dept,
        day=day,
        active=net.patient_active,
        deadline_day=net.patient_deadline_day,
        eligible_departments=net.eligible_departments,
        first_home_day=first_home_days(net, home, service, entry),
    )


def combined(departments: pd.DataFrame, n: int, parts: list[tuple[IntArray, Outcome]]) -> Outcome:
    """The outcome of a whole problem of ``n`` patients from its parts' (rows, outcome)."""
    dept = np.full(n, -1, dtype=np.int64)
    day = np.zeros(n, dtype=np.int64)
    active = np.zeros(n, dtype=bool)
    deadline_day = np.full(n, NEVER_LATE, dtype=np.int64)
    eligible = np.zeros(n, dtype=np.int64)
    first_home = np.full(n, -1, dtype=np.int64)
    for rows, part in parts:
        dept[rows] = part.dept
        day[rows] = part.day
        active[rows] = part.active
        deadline_day[rows] = part.deadline_day
        eligible[rows] = part.eligible_departments
        first_home[rows] = part.first_home_day
    return Outcome(departments, dept, day, active, deadline_day, eligible, first_home)


def _home_offers(problem: Problem) -> BoolArray:
    """Per patient: whether the home department offers the patient's service."""
    services, patients = problem.services, problem.patients
    offers = (
        services["department_id"].astype(str).to_numpy(object)
        + "|"
        + services["collaboration"].astype(str).to_numpy(object)
        + "/"
        + services["procedure"].astype(str).to_numpy(object)
    )
    patient_key = (
        patients["home_department_id"].astype(str).to_numpy(object)
        + "|"
        + patients["collaboration"].astype(str).to_numpy(object)
        + "/"
        + patients["procedure"].astype(str).to_numpy(object)
    )
    return np.asarray(pd.Index(patient_key).isin(offers), dtype=bool)


def proposals(
    problem: Problem,
    net: Network,
    placement: Placement,
    policy: Policy,
    *,
    with_reasons: bool = True,
) -> pd.DataFrame:
    """One row per patient in the contract's proposals.csv columns, plus explanatory extras.

    ``with_reasons=False`` leaves ``reason`` empty (for simulations that never read it).
    """
    return outcome_proposals(problem, outcome(problem, net, placement), with_reasons=with_reasons)


def outcome_proposals(
    problem: Problem, result: Outcome, *, with_reasons: bool = True
) -> pd.DataFrame:
    """:func:`proposals` of an outcome (of one network, or of all service parts at once)."""
    patients = problem.patients.reset_index(drop=True)
    departments = result.departments
    today = np.datetime64(problem.today, "D")
    dept, day = result.dept, result.day
    placed = dept >= 0
    # index of a real department for every row (rows without one are masked below)
    d = np.maximum(dept, 0) if len(departments) else np.zeros(0, dtype=np.int64)
    if len(departments) == 0:
        departments = pd.DataFrame(
            {c: ["" if c not in ("latitude", "longitude") else 0.0] for c in departments.columns}
        )
        d = np.zeros(len(dept), dtype=np.int64)

    deadline = patients["deadline"]
    active = result.active
    deadline_day = result.deadline_day
    late = np.where(placed & active, np.maximum(day - np.where(active, deadline_day, 0), 0), 0)
    km = great_circle_km(
        patients["latitude"].to_numpy(),
        patients["longitude"].to_numpy(),
        departments["latitude"].to_numpy()[d],
        departments["longitude"].to_numpy()[d],
    )
    dept_id = departments["department_id"].astype(str).to_numpy()[d]
    provider = departments["provider_type"].astype(str).to_numpy()[d]
    region = departments["region"].astype(str).to_numpy()[d]
    booked_id = patients["booked_department_id"].fillna("").astype(str).to_numpy()
    booked_day_raw = patients["booked_date"].to_numpy("datetime64[ns]").astype("datetime64[D]")
    has_booking = (booked_id != "") & ~np.isnat(booked_day_raw)
    booked_day = np.where(has_booking, (booked_day_raw - today).astype(np.int64), 0)
    same_as_booking = placed & has_booking & (booked_id == dept_id) & (booked_day == day)
    action = np.select(
        [same_as_booking, placed & has_booking, placed],
        ["keep", "move", "new"],
        default="unassigned",
    )
    dates = _fmt_dates(day, today, "%Y-%m-%d")
    home_region = patients["home_region"].astype(str).to_numpy()
    home_id = patients["home_department_id"].astype(str).to_numpy()
    category = np.select(
        [
            action == "keep",
            dept_id == home_id,
            (provider == "public") & (region == home_region),
            provider == "public",
            provider == "private",
        ],
        ["keep", "home_department", "public_home_region", "public_other_region", "private"],
        default="foreign",
    )
    category = np.where(placed, category, "")
    price = (
        problem.services.groupby(["department_id", "collaboration", "procedure"])["price_dkk"]
        .min()
        .reindex(
            pd.MultiIndex.from_arrays(
                [
                    pd.Index(dept_id),
                    patients["collaboration"].astype(str),
                    patients["procedure"].astype(str),
                ]
            )
        )
        .to_numpy(np.float64)
    )
    frame = pd.DataFrame(
        {
            "patient_id": patients["patient_id"].astype(str),
            "department_id": np.where(placed, dept_id, ""),
            "date": np.where(placed, dates, ""),
            "deadline": _fmt_column(deadline, "%Y-%m-%d"),
            "days_late": pd.array(np.where(placed, late, 0), dtype="Int64"),
            "provider_type": np.where(placed, provider, ""),
            "travel_km": np.where(placed, np.round(km, 1), np.nan),
            "action": action,
            "reason": "",
            "collaboration": patients["collaboration"].astype(str),
            "procedure": patients["procedure"].astype(str),
            "home_region": home_region,
            "home_department_id": home_id,
            "region": np.where(placed, region, ""),
            "category": category,
            "breach": placed & (late > 0),
            "deadline_status": patients["deadline_status"].astype(str),
            "booked_department_id": booked_id,
            "booked_date": _fmt_column(patients["booked_date"], "%Y-%m-%d"),
            "price_dkk": np.where(placed, price, np.nan),
            "eligible_departments": result.eligible_departments,
        }
    )
    frame.loc[~placed, "days_late"] = pd.NA
    if with_reasons:
        text, facts = _reasons_and_facts(problem, result, frame)
        frame["reason"] = text
        for column in REASON_FACTS:
            frame[column] = facts[column]
    else:
        for column in REASON_FACTS:
            frame[column] = np.nan if column == "travel_limit_km" else ""
    return frame


#: The structured facts behind each ``reason`` (columns of the proposals frame after the
#: contract's), so a reader can render the sentence in its own language:
#:
#: - ``reason_code``: ``keep`` (current booking kept), ``home`` (placed at the home department),
#:   ``away`` (placed elsewhere), ``unassigned_no_department`` (no eligible department has a
#:   slot), ``unassigned_crowded`` (every eligible slot is taken by other patients);
#: - ``home_situation`` (``away`` only): why not at home — ``not_offered``, ``beyond_limit``,
#:   ``no_slot`` (none in the horizon), ``no_slot_before_deadline`` (the first is after the
#:   deadline: ``home_first_date``), ``taken`` (its slots up to the deadline go to others);
#: - ``home_first_date``: the home department's first slot from the patient's earliest date
#:   (ISO; ``""`` when none or not ``away``);
#: - ``late_cause`` (placed after an active deadline): ``deadline_passed`` (before today) or
#:   ``pushes_another`` (no eligible slot meets it without pushing another patient later);
#: - ``declined``: provider types the patient declined — ``private``, ``foreign``, ``both``;
#: - ``travel_limit_km``: the patient's own travel limit (NaN: none).
#:
#: The deadline part needs no column of its own: ``deadline``, ``deadline_status`` and
#: ``days_late`` say it (a clock is paused when the status is not ``active`` or there is no
#: deadline).
REASON_FACTS = (
    "reason_code",
    "home_situation",
    "home_first_date",
    "late_cause",
    "declined",
    "travel_limit_km",
)


def reasons(
    problem: Problem,
    net: Network,
    placement: Placement,
    frame: pd.DataFrame,
    policy: Policy,
) -> pd.Series:
    """The ``reason`` column: why this slot, or for unassigned patients what blocks them."""
    return _reasons_and_facts(problem, outcome(problem, net, placement), frame)[0]


def _reasons_and_facts(
    problem: Problem,
    result: Outcome,
    frame: pd.DataFrame,
) -> tuple[pd.Series, pd.DataFrame]:
    """The English ``reason`` sentences and the structured facts they are made of."""
    patients = problem.patients.reset_index(drop=True)
    today = np.datetime64(problem.today, "D")
    departments = result.departments
    names = departments["name"].astype(str) + ", " + departments["hospital"].astype(str)
    name_of = pd.Series(names.to_numpy(), index=departments["department_id"].astype(str))
    home = pd.DataFrame(
        {
            "home_index": positions(
                pd.Index(departments["department_id"].astype(str)),
                patients["home_department_id"].astype(str),
            ),
            "home_offers": _home_offers(problem),
            "first_home_day": result.first_home_day,
        }
    )
    proc = patients["procedure"].astype(str).map(PROCEDURE_WORDS).fillna(patients["procedure"])

    action = frame["action"].to_numpy()
    placed = action != "unassigned"
    day = np.where(
        placed,
        (
            pd.to_datetime(frame["date"].where(placed, None))
            .to_numpy("datetime64[ns]")
            .astype("datetime64[D]")
            - today
        ).astype(np.int64),
        0,
    )
    late = frame["days_late"].fillna(0).to_numpy(np.int64)
    active = result.active
    deadline_text = _fmt_column(patients["deadline"], "%-d %b")
    deadline_text[deadline_text == ""] = "none"
    date_text = _fmt_dates(day, today)
    target = frame["department_id"].map(name_of).fillna("").astype(str)
    km = frame["travel_km"].to_numpy(np.float64)
    km_text = np.where(
        np.isnan(km),
        "",
        np.char.add(np.rint(np.nan_to_num(km)).astype(np.int64).astype(str), " km"),
    ).astype(object)

    deadline_part = np.select(
        [~active, late == 0, late > 0],
        [
            "clock paused (" + frame["deadline_status"].str.replace("paused_", "") + ")",
            "meets deadline " + deadline_text,
            late.astype(str)
            + np.where(late == 1, " day", " days")
            + " after deadline "
            + deadline_text,
        ],
        default="",
    )
    deadline_words = pd.Series(deadline_part).str.replace("(patient_wish)", "(patient's wish)")

    home_name = frame["home_department_id"].map(name_of).fillna(frame["home_department_id"])
    first_home = _fmt_dates(home["first_home_day"].to_numpy(), today)
    home_first_after_deadline = (home["first_home_day"].to_numpy() > result.deadline_day) & (
        result.deadline_day != NEVER_LATE
    )
    # distance to the home department, for the patient's own travel limit
    home_index = home["home_index"].to_numpy()
    home_row = np.maximum(home_index, 0)
    home_km = great_circle_km(
        patients["latitude"].to_numpy(),
        patients["longitude"].to_numpy(),
        departments["latitude"].to_numpy()[home_row] if len(departments) else np.nan,
        departments["longitude"].to_numpy()[home_row] if len(departments) else np.nan,
    )
    limit = patients["max_travel_km"].to_numpy(np.float64)
    beyond_limit = (home_index >= 0) & ~np.isnan(limit) & (home_km > limit)
    home_conditions = [
        ~home["home_offers"].to_numpy(),
        beyond_limit,
        home["first_home_day"].to_numpy() < 0,
        home_first_after_deadline,
    ]
    home_part = np.select(
        home_conditions,
        [
            "home department " + home_name + " does not offer " + proc,
            "home department " + home_name + " is beyond the patient's travel limit",
            "home department " + home_name + " has no free " + proc + " slot in the horizon",
            "home department "
            + home_name
            + " has no free "
            + proc
            + " slot before "
            + first_home
            + " (after the deadline)",
        ],
        # An optimal solve leaves no eligible home slot up to the deadline empty while
        # sending the patient elsewhere, so these slots are all taken by other patients.
        default="home department " + home_name + "'s slots up to the deadline are all "
        "taken by other patients",
    )
    no_private = ~patients["accepts_private"].to_numpy(bool)
    no_foreign = ~patients["accepts_foreign"].to_numpy(bool)
    declined = np.where(
        no_private & no_foreign,
        "; private and foreign declined by patient",
        np.where(
            ~patients["accepts_private"].to_numpy(bool),
            "; private declined by patient",
            np.where(
                ~patients["accepts_foreign"].to_numpy(bool), "; abroad declined by patient", ""
            ),
        ),
    )
    category = frame["category"].to_numpy()
    already_passed = active & (result.deadline_day < 0)
    late_conditions = [(late > 0) & already_passed, late > 0]
    late_note = np.select(
        late_conditions,
        [
            "; the deadline had passed before today",
            "; no eligible slot meets the deadline without pushing another patient later",
        ],
        default="",
    )
    placed_text = target + " on " + date_text + ", " + km_text + ": " + deadline_words
    keep_text = "Current booking kept: " + placed_text + late_note
    home_text = "Home department: " + placed_text + late_note
    away_text = placed_text + "; " + home_part + late_note + declined
    unassigned_text = _unassigned_reasons(patients, frame, proc, result)
    code_conditions = [action == "keep", category == "home_department", placed]
    text = np.select(code_conditions, [keep_text, home_text, away_text], default=unassigned_text)
    away = placed & (action != "keep") & (category != "home_department")
    first_home_iso = _fmt_dates(home["first_home_day"].to_numpy(), today, "%Y-%m-%d")
    facts = pd.DataFrame(
        {
            "reason_code": np.select(
                code_conditions,
                ["keep", "home", "away"],
                default=np.where(
                    result.eligible_departments == 0,
                    "unassigned_no_department",
                    "unassigned_crowded",
                ),
            ),
            "home_situation": np.where(
                away,
                np.select(
                    home_conditions,
                    ["not_offered", "beyond_limit", "no_slot", "no_slot_before_deadline"],
                    default="taken",
                ),
                "",
            ),
            "home_first_date": np.where(
                away & home["home_offers"].to_numpy() & (home["first_home_day"].to_numpy() >= 0),
                first_home_iso,
                "",
            ),
            "late_cause": np.select(late_conditions, ["deadline_passed", "pushes_another"], ""),
            "declined": np.select(
                [no_private & no_foreign, no_private, no_foreign],
                ["both", "private", "foreign"],
                "",
            ),
            "travel_limit_km": patients["max_travel_km"].to_numpy(np.float64),
        },
        index=frame.index,
    )
    return pd.Series(text, index=frame.index).str.replace("  ", " "), facts


def _unassigned_reasons(
    patients: pd.DataFrame,
    frame: pd.DataFrame,
    proc: pd.Series,
    result: Outcome,
) -> pd.Series:
    what = patients["collaboration"].astype(str).str.replace("_", " ") + " " + proc
    limit = patients["max_travel_km"]
    limit_text = np.where(
        limit.notna(), " within " + limit.round(0).astype("Int64").astype(str) + " km", ""
    )
    no_department: pd.Series = (
        "No department with a free "
        + what
        + " slot on or after the earliest date"
        + limit_text
        + " (given accepted provider types)"
    )
    crowded = (
        "Every eligible "
        + what
        + " slot in the horizon is taken by other patients (placing this patient would leave "
        "another without a slot); refer to Sundhedsstyrelsen or extend the horizon"
    )
    return pd.Series(np.where(result.eligible_departments == 0, no_department, crowded))


def kpis(frame: pd.DataFrame) -> dict[str, Any]:
    """Headline numbers of a solution: placements, breaches, moves, travel, provider mix, cost."""
    placed = frame["action"] != "unassigned"
    travel = frame.loc[placed, "travel_km"]
    return {
        "patients": len(frame),
        "placed": int(placed.sum()),
        "unassigned": int((~placed).sum()),
        "breaches": int(frame["breach"].sum()),
        "days_late": int(frame["days_late"].fillna(0).sum()),
        "within_deadline_share": float(1 - frame["breach"].sum() / max(int(placed.sum()), 1)),
        "kept": int((frame["action"] == "keep").sum()),
        "moved": int((frame["action"] == "move").sum()),
        "new": int((frame["action"] == "new").sum()),
        "out_of_region": int((placed & (frame["region"] != frame["home_region"])).sum()),
        "private": int((frame["provider_type"] == "private").sum()),
        "foreign": int((frame["provider_type"] == "foreign").sum()),
        "travel_km_total": float(travel.sum()),
        "travel_km_mean": float(travel.mean()) if len(travel) else 0.0,
        "cost_dkk": float(frame["price_dkk"].fillna(0).sum()),
    }
