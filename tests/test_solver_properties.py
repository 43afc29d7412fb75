"""Property tests: on random small instances the solver's tiers 1-3 equal an independent MILP's."""

from __future__ import annotations

import datetime as dt
import os

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capacity import frames
from solver.policy import Policy
from solver.problem import Problem
from solver.solve import solve
from tests.reference_milp import reference_tiers

TODAY = dt.date(2026, 11, 23)
SERVICES = [("lung", "surgery"), ("breast", "chemotherapy")]
REGIONS = ["Hovedstaden", "Sjælland", "Syddanmark"]


@st.composite
def instances(draw: st.DrawFn) -> Problem:
    """A random contract instance: 2-5 departments, up to 14 patients, 10 days of slots."""
    n_dept = draw(st.integers(2, 5))
    dept_rows = []
    for d in range(n_dept):
        provider = draw(st.sampled_from(["public", "public", "private", "foreign"]))
        dept_rows.append(
            {
                "department_id": f"D{d}",
                "name": f"Dept {d}",
                "hospital": f"Hospital {d}",
                "region": "DE" if provider == "foreign" else draw(st.sampled_from(REGIONS)),
                "provider_type": provider,
                "latitude": draw(st.floats(54.8, 57.5)),
                "longitude": draw(st.floats(8.2, 12.6)),
            }
        )
    service_rows, capacity_rows = [], []
    for d in range(n_dept):
        for collab, proc in SERVICES:
            if draw(st.booleans()):
                service_rows.append(
                    {
                        "department_id": f"D{d}",
                        "collaboration": collab,
                        "procedure": proc,
                        "price_dkk": float(draw(st.sampled_from([38000, 61000, 90000]))),
                    }
                )
                for day in draw(st.lists(st.integers(-2, 9), max_size=6)):
                    capacity_rows.append(
                        {
                            "department_id": f"D{d}",
                            "collaboration": collab,
                            "procedure": proc,
                            "date": pd.Timestamp(TODAY + dt.timedelta(days=day)),
                            "free_slots": draw(st.integers(0, 2)),
                        }
                    )
    offered = [(r["department_id"], r["collaboration"], r["procedure"]) for r in service_rows]
    patient_rows = []
    for i in range(draw(st.integers(1, 14))):
        collab, proc = draw(st.sampled_from(SERVICES))
        region = draw(st.sampled_from(REGIONS))
        booking = None
        own = [o for o in offered if o[1:] == (collab, proc)]
        if own and draw(st.integers(0, 2)) == 0:
            booking = (
                draw(st.sampled_from(own))[0],
                pd.Timestamp(TODAY + dt.timedelta(days=draw(st.integers(-1, 9)))),
            )
        status = draw(st.sampled_from(["active"] * 4 + ["paused_health", "paused_patient_wish"]))
        patient_rows.append(
            {
                "patient_id": f"p{i}",
                "collaboration": collab,
                "procedure": proc,
                "home_region": region,
                "home_department_id": f"D{draw(st.integers(0, n_dept - 1))}",
                "latitude": draw(st.floats(54.8, 57.5)),
                "longitude": draw(st.floats(8.2, 12.6)),
                "earliest_date": pd.Timestamp(TODAY + dt.timedelta(days=draw(st.integers(-5, 6)))),
                "deadline": pd.Timestamp(TODAY + dt.timedelta(days=draw(st.integers(-4, 10)))),
                "deadline_status": status,
                "booked_department_id": booking[0] if booking else None,
                "booked_date": booking[1] if booking else pd.NaT,
                "max_travel_km": draw(st.sampled_from([np.nan, np.nan, 80.0, 200.0])),
                "accepts_private": draw(st.booleans()),
                "accepts_foreign": draw(st.booleans()),
            }
        )
    return Problem(
        departments=frames.conform(pd.DataFrame(dept_rows), frames.DEPARTMENTS),
        services=frames.conform(
            pd.DataFrame(service_rows, columns=list(frames.SERVICES)), frames.SERVICES
        ),
        capacity=frames.conform(
            pd.DataFrame(capacity_rows, columns=list(frames.CAPACITY)), frames.CAPACITY
        ),
        patients=frames.conform(pd.DataFrame(patient_rows), frames.PATIENTS),
        today=TODAY,
    )


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
