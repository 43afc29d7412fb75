"""Property tests: on random small instances the solver's tiers 1-3 equal an independent MILP's."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solver.policy import Policy
from solver.problem import Problem
from solver.solve import solve
from tests.reference_milp import reference_tiers
from tests.strategies import TODAY, instances

SETTINGS = settings(
    max_examples=int(os.environ.get("KAPACITET_PROPERTY_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@SETTINGS
@given(instances())
def test_tiers_match_independent_milp(problem: Problem) -> None:
    """Tiers 1-3 equal the optimum of an independent three-stage MILP."""
    solution = solve(problem)
    reference = reference_tiers(
        problem.departments, problem.services, problem.capacity, problem.patients, problem.today
    )
    assert solution.tiers.hard() == (
        reference.unassigned,
        reference.breaches,
        reference.days_late,
    )
    assert solution.proof.certificate == "verified"


@SETTINGS
@given(instances())
def test_staged_and_single_pass_agree_on_every_tier(problem: Problem) -> None:
    """The staged fallback reaches the same tiers 1-4 as the single weighted pass."""
    single = solve(problem, method="single-pass")
    staged = solve(problem, method="staged")
    assert staged.tiers == single.tiers


@SETTINGS
@given(instances())
def test_capacity_never_exceeded_and_everyone_once(problem: Problem) -> None:
    """Each patient appears once; no department-day gets more patients than it has slots."""
    proposals = solve(problem).proposals
    assert sorted(proposals["patient_id"]) == sorted(problem.patients["patient_id"])
    cap = problem.capacity[problem.capacity["date"] >= pd.Timestamp(TODAY)]
    slots = cap.groupby(["department_id", "collaboration", "procedure", "date"])["free_slots"].sum()
    booked = problem.patients.dropna(subset=["booked_department_id"])
    booked = booked[booked["booked_date"] >= pd.Timestamp(TODAY)]
    held = booked.groupby(
        ["booked_department_id", "collaboration", "procedure", "booked_date"]
    ).size()
    held.index = held.index.set_names(slots.index.names)
    available = slots.add(held, fill_value=0)
    placed = proposals[proposals["action"] != "unassigned"].assign(
        date=lambda f: pd.to_datetime(f["date"])
    )
    used = placed.groupby(["department_id", "collaboration", "procedure", "date"]).size()
    over = used.sub(available.reindex(used.index).fillna(0))
    assert (over <= 0).all()


@SETTINGS
@given(instances())
def test_proposals_respect_eligibility(problem: Problem) -> None:
    """Every move or new placement is on/after today and earliest date, within travel limits."""
    proposals = solve(problem).proposals.set_index("patient_id")
    patients = problem.patients.set_index("patient_id")
    moved = proposals[proposals["action"].isin(["move", "new"])]
    for pid, row in moved.iterrows():
        p = patients.loc[pid]
        day = pd.Timestamp(row["date"])
        assert day >= pd.Timestamp(TODAY)
        assert pd.isna(p["earliest_date"]) or day >= p["earliest_date"]
        if not np.isnan(p["max_travel_km"]):
            assert row["travel_km"] <= p["max_travel_km"] + 0.05
        if row["provider_type"] == "private":
            assert p["accepts_private"]
        if row["provider_type"] == "foreign":
            assert p["accepts_foreign"]


@SETTINGS
@given(instances(), st.permutations(list(Policy().categories)))
def test_any_policy_keeps_tiers_one_to_three(problem: Problem, order: list[str]) -> None:
    """Reordering tier-4 categories never changes the optimal tiers 1-3."""
    default = solve(problem)
    other = solve(problem, Policy(categories=tuple(order), per_km=5, per_day=0))
    assert other.tiers.hard() == default.tiers.hard()


@SETTINGS
@given(instances())
def test_current_practice_never_beats_the_optimum(problem: Problem) -> None:
    """The baseline's tiers 1-3 are never lexicographically better than the solve's."""
    from solver.baseline import current_practice
    from solver.explain import kpis

    optimised = solve(problem)
    baseline = kpis(current_practice(problem))
    assert (baseline["unassigned"], baseline["breaches"], baseline["days_late"]) >= (
        optimised.tiers.hard()
    )
