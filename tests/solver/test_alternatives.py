"""Ranked alternatives: exact tier costs (checked by forcing the patient and solving again),
one per department at the date the patient would get, and the same answers from Dijkstra and
from Bellman-Ford."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from capacity.io import read_folder
from solver import alternatives
from solver.alternatives import RANKED_COLUMNS, best_alternatives, ranked_alternatives
from solver.problem import Problem
from solver.solve import solve

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
TODAY = dt.date(2026, 11, 23)


def _problem(example: str) -> Problem:
    return Problem.from_dataset(read_folder(SHARED / "contract" / example), TODAY)


def _reviewed(proposals: pd.DataFrame) -> list[str]:
    away = (proposals["department_id"] != proposals["home_department_id"]) & (
        proposals["action"] != "unassigned"
    )
    return proposals.loc[away | (proposals["action"] == "move"), "patient_id"].tolist()


def test_forcing_the_patient_onto_an_alternative_costs_exactly_its_tiers() -> None:
    """Excluding every other department for the patient and solving again places it there
    and changes tiers 1-3 by exactly the alternative's extra breaches and days late.

    (Policy points are not compared: the exclusion changes the instance's category step.)"""
    problem = _problem("example")
    base = solve(problem)
    proposals = base.proposals.set_index("patient_id")
    unbooked = [p for p in _reviewed(base.proposals) if proposals.loc[p, "action"] == "new"]
    ranked = ranked_alternatives(problem, patient_ids=unbooked)
    ranked = ranked[ranked["extra_unassigned"] == 0]
    assert len(ranked) >= 10
    departments = problem.departments["department_id"].astype(str)
    for row in ranked.itertuples():
        others = departments[departments != row.department_id]
        excluded = pd.concat(
            [
                problem.excluded_pairs,
                pd.DataFrame({"patient_id": row.patient_id, "department_id": others}),
            ],
            ignore_index=True,
        ).astype("string")
        forced = solve(replace(problem, excluded_pairs=excluded))
        placed = forced.proposals.set_index("patient_id").loc[row.patient_id]
        assert placed["department_id"] == row.department_id
        assert forced.tiers.unassigned == base.tiers.unassigned
        assert forced.tiers.breaches - base.tiers.breaches == row.extra_breaches
        assert forced.tiers.days_late - base.tiers.days_late == row.extra_days_late


def test_booking_the_patient_at_the_alternatives_date_costs_exactly_its_tiers() -> None:
    """The date is exact too: with the patient booked at the alternative's department and
    date (its slot taken out of the declared ones, as an accepted booking's is) and no other
    option, solving again changes tiers 1-3 by the alternative's extra breaches and days late,
    and the patient keeps that booking."""
    problem = _problem("example")
    base = solve(problem)
    proposals = base.proposals.set_index("patient_id")
    unbooked = [p for p in _reviewed(base.proposals) if proposals.loc[p, "action"] == "new"]
    ranked = ranked_alternatives(problem, patient_ids=unbooked)
    ranked = ranked[ranked["extra_unassigned"] == 0]
    departments = problem.departments["department_id"].astype(str)
    checked = 0
    for row in ranked.itertuples():
        patients = problem.patients.copy()
        me = patients["patient_id"].astype(str) == row.patient_id
        service = patients.loc[me, ["collaboration", "procedure"]].iloc[0]
        slot = (
            (problem.capacity["department_id"] == row.department_id)
            & (problem.capacity["collaboration"] == service["collaboration"])
            & (problem.capacity["procedure"] == service["procedure"])
            & (problem.capacity["date"] == pd.Timestamp(row.date))
        )
        if problem.capacity.loc[slot, "free_slots"].sum() < 1:
            continue  # a slot another patient's booking holds: not one an accept can take
        capacity = problem.capacity.copy()
        capacity.loc[slot, "free_slots"] = capacity.loc[slot, "free_slots"] - 1
        patients.loc[me, "booked_department_id"] = row.department_id
        patients.loc[me, "booked_date"] = pd.Timestamp(row.date)
        excluded = pd.DataFrame({"patient_id": row.patient_id, "department_id": departments})
        booked = replace(
            problem,
            patients=patients,
            capacity=capacity,
            excluded_pairs=pd.concat([problem.excluded_pairs, excluded]).astype("string"),
        )
        forced = solve(booked)
        placed = forced.proposals.set_index("patient_id").loc[row.patient_id]
        assert (placed["action"], placed["department_id"], placed["date"]) == (
            "keep",
            row.department_id,
            row.date,
        )
        assert forced.tiers.unassigned == base.tiers.unassigned
        assert forced.tiers.breaches - base.tiers.breaches == row.extra_breaches
        assert forced.tiers.days_late - base.tiers.days_late == row.extra_days_late
        checked += 1
        if checked == 15:
            break
    assert checked >= 10


def test_one_per_department_best_first_never_the_proposal_itself() -> None:
    """At most k rows per patient, distinct departments, ranked by cost, none at the
    proposal's own department and date, each on a day that department has the service."""
    problem = _problem("example-tight")
    proposals = solve(problem).proposals
    wanted = _reviewed(proposals)
    ranked = ranked_alternatives(problem, patient_ids=wanted, k=2)
    assert list(ranked.columns) == list(RANKED_COLUMNS)
    assert set(ranked["patient_id"]) <= set(wanted)
    for _, rows in ranked.groupby("patient_id"):
        assert len(rows) <= 2
        assert rows["department_id"].is_unique
        assert list(rows["rank"]) == list(range(1, len(rows) + 1))
        cost = list(
            zip(
                rows["extra_unassigned"],
                rows["extra_breaches"],
                rows["extra_days_late"],
                rows["extra_points"],
                strict=True,
            )
        )
        assert cost == sorted(cost)
    merged = ranked.merge(proposals, on="patient_id", suffixes=("", "_proposed"))
    same = (merged["department_id"] == merged["department_id_proposed"]) & (
        merged["date"] == merged["date_proposed"]
    )
    assert not same.any()
    slots = problem.capacity.assign(date=problem.capacity["date"].dt.strftime("%Y-%m-%d"))
    booked = problem.patients.dropna(subset=["booked_department_id"])
    days = set(
        zip(
            slots["department_id"],
            slots["collaboration"],
            slots["procedure"],
            slots["date"],
            strict=True,
        )
    ) | set(
        zip(
            booked["booked_department_id"],
            booked["collaboration"],
            booked["procedure"],
            booked["booked_date"].dt.strftime("%Y-%m-%d"),
            strict=True,
        )
    )
    for row in merged.itertuples():
        assert (row.department_id, row.collaboration, row.procedure, row.date) in days
    assert set(ranked["why_not"]) <= {
        "leaves_unassigned",
        "more_breaches",
        "more_days_late",
        "policy_only",
    }
    policy_only = ranked[ranked["why_not"] == "policy_only"]
    assert (policy_only[["extra_breaches", "extra_days_late"]] == 0).all().all()


def test_dijkstra_and_bellman_ford_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    """The batched Dijkstra on reduced costs prices every option as one Bellman-Ford run per
    patient does."""
    problem = _problem("example-tight")
    wanted = _reviewed(solve(problem).proposals)
    fast = ranked_alternatives(problem, patient_ids=wanted)
    best_fast = best_alternatives(problem, patient_ids=wanted)
    monkeypatch.setattr(alternatives._Pricing, "_reduced_graph", lambda self: None)
    slow = ranked_alternatives(problem, patient_ids=wanted)
    pd.testing.assert_frame_equal(fast, slow)
    pd.testing.assert_frame_equal(best_fast, best_alternatives(problem, patient_ids=wanted))


def test_the_augmented_flow_places_the_patient_in_the_department() -> None:
    """The fallback reading of a date (the whole augmented flow, decomposed as the solve
    decomposes a flow) puts the patient in the alternative's department on a day it has
    slots, as the walk along the patient's own path does (chain members are interchangeable,
    so the two may name different days of equal cost)."""
    problem = _problem("example-tight")
    wanted = _reviewed(solve(problem).proposals)[:30]
    checked = 0
    for _, pricing, _, p, candidates, back in alternatives._priced(
        problem, alternatives.Policy(), wanted
    ):
        if isinstance(candidates, str):
            continue
        net = pricing.net
        for candidate in candidates[:3]:
            department = net.arc_department[candidate.arc]
            days = set(net.bucket_day[net.bucket_department == department].tolist())
            assert pricing.landing_day(candidate.arc, p, back) in days
            assert pricing._day_after_augmenting(candidate.arc, p, back) in days
            checked += 1
    assert checked >= 30


def test_ranked_names_the_breach_the_date_and_the_kept_booking() -> None:
    """Hand-made: the home slot taken from a patient who cannot travel is a breach (+6 days)
    on the home department's day 1; for a kept booking the alternative says it is kept."""
    from tests.solver.test_solver_cases import day, make_problem

    problem = make_problem(
        [{"deadline": day(2)}, {"deadline": day(2), "max_travel_km": 20.0}],
        [("AAL", 1, 1), ("AAL", 8, 1), ("AAR", 1, 1)],
    )
    ranked = ranked_alternatives(problem, patient_ids=["p0"])
    first = ranked.iloc[0]
    assert (first["department_id"], first["date"], first["why_not"]) == (
        "AAL",
        day(1).strftime("%Y-%m-%d"),
        "more_breaches",
    )
    assert (first["extra_breaches"], first["extra_days_late"]) == (1, 6)
    kept = make_problem([{"booked_department_id": "AAR", "booked_date": day(2)}], [("AAL", 1, 1)])
    row = ranked_alternatives(kept).iloc[0]
    assert (row["department_id"], row["why_not"], row["booking_kept"]) == (
        "AAL",
        "policy_only",
        True,
    )
    assert row["further_km"] == 0.0  # AAL is nearer than the booking at AAR
