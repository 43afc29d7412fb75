"""Hand-made cases: each eligibility rule, bookings, weekly caps, shadow prices and reasons."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest

from capacity import frames
from capacity.io import read_folder
from solver.policy import Policy
from solver.problem import Problem
from solver.shadow import shadow_prices, shadow_prices_by_resolve
from solver.solve import solve

TODAY = dt.date(2026, 11, 23)
SHARED = __import__("pathlib").Path(__file__).resolve().parents[2].parent / "shared"


def day(offset: int) -> pd.Timestamp:
    return pd.Timestamp(TODAY + dt.timedelta(days=offset))


DEPARTMENTS = [
    # id, region, provider, lat, lon
    ("AAL", "Nordjylland", "public", 57.05, 9.92),
    ("AAR", "Midtjylland", "public", 56.16, 10.20),
    ("PRIV", "Midtjylland", "private", 56.15, 10.19),
    ("FLE", "DE", "foreign", 54.78, 9.43),
]


def make_problem(
    patients: list[dict[str, Any]],
    capacity: list[tuple[str, int, int]],
    weekly_caps: list[tuple[str, str, int]] | None = None,
) -> Problem:
    """A lung-surgery problem: departments above, capacity as (department, day offset, slots)."""
    departments = pd.DataFrame(
        [
            {
                "department_id": d,
                "name": d,
                "hospital": f"{d} Hospital",
                "region": r,
                "provider_type": t,
                "latitude": lat,
                "longitude": lon,
            }
            for d, r, t, lat, lon in DEPARTMENTS
        ]
    )
    services = pd.DataFrame(
        [
            {
                "department_id": d,
                "collaboration": "lung",
                "procedure": "surgery",
                "price_dkk": 100000.0,
            }
            for d, *_ in DEPARTMENTS
        ]
    )
    cap = pd.DataFrame(
        [
            {
                "department_id": d,
                "collaboration": "lung",
                "procedure": "surgery",
                "date": day(o),
                "free_slots": n,
            }
            for d, o, n in capacity
        ],
        columns=list(frames.CAPACITY),
    )
    base = {
        "collaboration": "lung",
        "procedure": "surgery",
        "home_region": "Nordjylland",
        "home_department_id": "AAL",
        "latitude": 57.05,
        "longitude": 9.92,
        "earliest_date": day(0),
        "deadline": day(5),
        "deadline_status": "active",
        "booked_department_id": None,
        "booked_date": pd.NaT,
        "max_travel_km": float("nan"),
        "accepts_private": True,
        "accepts_foreign": True,
    }
    rows = [base | {"patient_id": f"p{i}"} | p for i, p in enumerate(patients)]
    caps = pd.DataFrame(
        [
            {
                "department_id": d,
                "collaboration": "lung",
                "procedure": "surgery",
                "week": w,
                "max_slots": n,
            }
            for d, w, n in (weekly_caps or [])
        ],
        columns=list(frames.WEEKLY_CAPS),
    )
    return Problem(
        departments=frames.conform(departments, frames.DEPARTMENTS),
        services=frames.conform(services, frames.SERVICES),
        capacity=frames.conform(cap, frames.CAPACITY),
        patients=frames.conform(pd.DataFrame(rows), frames.PATIENTS),
        today=TODAY,
        weekly_caps=frames.conform(caps, frames.WEEKLY_CAPS),
    )


def row(problem: Problem, patient: str = "p0", policy: Policy | None = None) -> pd.Series:
    proposals = solve(problem, policy).proposals
    return proposals.set_index("patient_id").loc[patient]


def test_home_department_preferred_when_on_time() -> None:
    """With slots at home and elsewhere, an on-time home slot is chosen."""
    r = row(make_problem([{}], [("AAL", 3, 1), ("AAR", 1, 1)]))
    assert (r["department_id"], r["action"], r["category"]) == ("AAL", "new", "home_department")


def test_referred_away_when_home_misses_deadline() -> None:
    """A patient whose home slot is after the deadline is referred to an on-time department."""
    r = row(make_problem([{}], [("AAL", 9, 1), ("AAR", 4, 1)]))
    assert r["department_id"] == "AAR" and r["days_late"] == 0
    assert "after the deadline" in r["reason"]


def test_days_before_today_and_earliest_date_never_used() -> None:
    """Slots before today or before the earliest date are not eligible."""
    problem = make_problem([{"earliest_date": day(3)}], [("AAL", -1, 3), ("AAL", 2, 3)])
    r = row(problem)
    assert r["action"] == "unassigned"


def test_travel_limit_excludes_far_departments() -> None:
    """A department beyond max_travel_km is not eligible; the reason says so."""
    problem = make_problem([{"max_travel_km": 50.0}], [("AAR", 1, 1)])
    r = row(problem)
    assert r["action"] == "unassigned"
    assert "within 50 km" in r["reason"]


@pytest.mark.parametrize(
    ("column", "department"), [("accepts_private", "PRIV"), ("accepts_foreign", "FLE")]
)
def test_declined_provider_types_are_not_used(column: str, department: str) -> None:
    """A patient who declined private (or foreign) providers is never placed there."""
    problem = make_problem([{column: False}], [(department, 1, 5)])
    assert row(problem)["action"] == "unassigned"


def test_paused_clock_cannot_be_breached() -> None:
    """A paused patient placed after the deadline has 0 days late and no breach."""
    problem = make_problem([{"deadline_status": "paused_health"}], [("AAL", 9, 1)])
    r = row(problem)
    assert r["days_late"] == 0 and not r["breach"]
    assert solve(problem).tiers.hard() == (0, 0, 0)


def test_past_deadline_counts_days_from_the_deadline() -> None:
    """A deadline already passed is a breach with days late counted from the deadline."""
    problem = make_problem([{"deadline": day(-3)}], [("AAL", 2, 1)])
    assert solve(problem).tiers.hard() == (0, 1, 5)


def test_own_booking_kept_even_outside_eligibility() -> None:
    """The current booking stays eligible beyond the travel limit and declined provider type."""
    problem = make_problem(
        [
            {
                "booked_department_id": "PRIV",
                "booked_date": day(2),
                "accepts_private": False,
                "max_travel_km": 10.0,
            }
        ],
        [],
    )
    r = row(problem)
    assert (r["action"], r["department_id"], r["days_late"]) == ("keep", "PRIV", 0)


def test_booking_before_today_is_not_kept() -> None:
    """A booking in the past frees nothing and is not a slot; the patient is placed anew."""
    problem = make_problem(
        [{"booked_department_id": "AAL", "booked_date": day(-1)}], [("AAL", 3, 1)]
    )
    r = row(problem)
    assert r["action"] == "move" and r["date"] == day(3).strftime("%Y-%m-%d")


def test_moved_booking_frees_its_slot_for_an_urgent_patient() -> None:
    """A booked patient with a late deadline moves so an urgent patient gets the freed slot."""
    problem = make_problem(
        [
            {"booked_department_id": "AAL", "booked_date": day(1), "deadline": day(20)},
            {"deadline": day(1)},
        ],
        [("AAL", 8, 1)],
    )
    proposals = solve(problem).proposals.set_index("patient_id")
    assert proposals.loc["p1", "date"] == day(1).strftime("%Y-%m-%d")
    assert proposals.loc["p0", "action"] == "move"
    assert solve(problem).tiers.hard() == (0, 0, 0)


def test_compliant_booking_kept_on_ties() -> None:
    """A compliant booking is kept rather than moved to an equally good slot."""
    problem = make_problem(
        [{"booked_department_id": "AAR", "booked_date": day(2)}], [("AAL", 1, 1)]
    )
    assert row(problem)["action"] == "keep"


def test_weekly_cap_limits_placements_across_days() -> None:
    """A weekly cap of one lets only one patient into a department's week, whatever its days."""
    patients = [{"deadline": day(30)}, {"deadline": day(30)}]
    capacity = [("AAL", 1, 1), ("AAL", 2, 1), ("AAL", 8, 1)]
    unlimited = solve(make_problem(patients, capacity)).proposals
    assert set(unlimited["date"]) == {day(1).strftime("%Y-%m-%d"), day(2).strftime("%Y-%m-%d")}
    capped = solve(make_problem(patients, capacity, [("AAL", "2026-W48", 1)])).proposals
    assert sorted(capped["date"]) == [day(1).strftime("%Y-%m-%d"), day(8).strftime("%Y-%m-%d")]


def test_cross_region_policy_switch_restricts_to_home_region() -> None:
    """With cross-region sharing off, a patient stays in the home region even if late."""
    problem = make_problem([{}], [("AAL", 9, 1), ("AAR", 1, 1)])
    r = row(problem, policy=Policy(allow_cross_region=False, allow_foreign=False))
    assert r["department_id"] == "AAL" and r["days_late"] == 4


def test_empty_waiting_list_solves_cleanly() -> None:
    """No patients: an empty, verified solution rather than an error."""
    problem = make_problem([], [("AAL", 1, 1)])
    solution = solve(problem)
    assert len(solution.proposals) == 0 and solution.tiers.hard() == (0, 0, 0)


def test_shadow_prices_match_resolving_with_one_more_slot() -> None:
    """The priced value of one more slot equals re-solving with it, on the tight example."""
    dataset = read_folder(SHARED / "contract" / "example-tight")
    problem = Problem.from_dataset(dataset, TODAY)
    prices = shadow_prices(problem)
    sample = pd.concat([prices.head(4), prices.tail(2), prices.sample(4, random_state=1)])
    resolved = shadow_prices_by_resolve(problem, Policy(), sample)
    for column in ("unassigned_saved", "breaches_saved", "days_saved"):
        assert sample[column].tolist() == resolved[column].tolist()


def test_best_alternative_names_the_breach_it_would_cause() -> None:
    """Taking the home slot from a patient who cannot travel would cost a breach: it says so."""
    from solver.alternatives import best_alternatives

    problem = make_problem(
        [{"deadline": day(2)}, {"deadline": day(2), "max_travel_km": 20.0}],
        [("AAL", 1, 1), ("AAL", 8, 1), ("AAR", 1, 1)],
    )
    proposals = solve(problem).proposals.set_index("patient_id")
    assert proposals.loc["p0", "department_id"] == "AAR"
    alternative = best_alternatives(problem, patient_ids=["p0"]).set_index("patient_id").loc["p0"]
    assert alternative["alternative_department_id"] == "AAL"
    assert (alternative["extra_breaches"], alternative["extra_days_late"]) == (1, 6)
    assert "1 more deadline breach" in alternative["why_not"]


def test_best_alternative_for_a_kept_booking_says_it_is_kept() -> None:
    """For a patient whose booking is kept, the alternative is declined because of the booking."""
    from solver.alternatives import best_alternatives

    problem = make_problem(
        [{"booked_department_id": "AAR", "booked_date": day(2)}], [("AAL", 1, 1)]
    )
    alternative = best_alternatives(problem).set_index("patient_id").loc["p0"]
    assert alternative["alternative_department_id"] == "AAL"
    assert "current booking is kept" in alternative["why_not"]


def test_parallel_workers_give_the_same_solution() -> None:
    """Solving the service parts in two worker processes changes nothing in the result."""
    problem = Problem.from_dataset(read_folder(SHARED / "contract" / "example-tight"), TODAY)
    serial, parallel = solve(problem, workers=1), solve(problem, workers=2)
    assert parallel.tiers == serial.tiers
    pd.testing.assert_frame_equal(parallel.proposals, serial.proposals)


def test_auto_falls_back_to_staged_when_or_tools_rejects_the_cost_range(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """If OR-Tools answers BAD_COST_RANGE to the single pass, auto stages and stays exact."""
    from solver import flow
    from solver import solve as solve_module

    problem = Problem.from_dataset(read_folder(SHARED / "contract" / "example-tight"), TODAY)
    expected = solve(problem, method="single-pass")
    real = flow.solve_max_flow_min_cost
    weights_seen: list[int] = []

    def picky(net, cost):  # type: ignore[no-untyped-def]
        weights_seen.append(int(cost.max()))
        if int(cost.max()) > 10**6:  # pretend only small costs fit
            raise flow.CostRangeError("BAD_COST_RANGE (simulated)")
        return real(net, cost)

    monkeypatch.setattr(solve_module.flow, "solve_max_flow_min_cost", picky)
    staged = solve(problem, workers=1)
    assert "staged" in staged.proof.method
    assert staged.tiers == expected.tiers


def test_staged_solve_merges_interchangeable_patients_exactly() -> None:
    """Many identical patients (merged in stage 1) get the same tiers staged as single-pass."""
    twins = [{"deadline": day(2)}] * 6 + [{"deadline": day(4), "accepts_foreign": False}] * 5
    problem = make_problem(twins, [("AAL", 1, 2), ("AAL", 3, 2), ("AAR", 2, 3), ("FLE", 1, 2)])
    single = solve(problem, method="single-pass")
    staged = solve(problem, method="staged")
    assert staged.tiers == single.tiers
    assert staged.tiers.unassigned == 2 and staged.proof.certificate == "verified"


def test_merging_never_joins_patients_with_different_options() -> None:
    """Patients whose arcs differ (here: travel limits) each keep a class of their own."""
    from solver import flow
    from solver.model import build_network
    from solver.solve import _hard_cost

    problem = make_problem([{}, {}, {"max_travel_km": 20.0}], [("AAL", 1, 1), ("AAR", 1, 1)])
    net = build_network(problem, Policy())
    merged = flow.merge_identical_patients(net, _hard_cost(net)[0])
    assert merged.representative.tolist() == [merged.representative[0]] * 2 + [2]


def test_rejected_pairs_are_never_proposed_but_bookings_stay() -> None:
    """An excluded (patient, department) pair is not proposed; the patient's booking still is."""
    problem = make_problem(
        [{}, {"booked_department_id": "AAR", "booked_date": day(2)}],
        [("AAL", 9, 2), ("AAR", 1, 1)],
    )
    first = solve(problem).proposals.set_index("patient_id")
    assert first.loc["p0", "department_id"] == "AAR"
    excluded = pd.DataFrame({"patient_id": ["p0", "p1"], "department_id": ["AAR", "AAR"]})
    again = solve(
        Problem(
            problem.departments,
            problem.services,
            problem.capacity,
            problem.patients,
            problem.today,
            excluded_pairs=excluded,
        )
    ).proposals.set_index("patient_id")
    assert again.loc["p0", "department_id"] == "AAL"
    assert again.loc["p1", "action"] == "keep"


def test_reason_says_when_home_is_beyond_the_travel_limit() -> None:
    """A patient living far from the home department is told the limit, not a slot story."""
    problem = make_problem(
        [{"latitude": 56.16, "longitude": 10.21, "max_travel_km": 20.0}],
        [("AAL", 1, 1), ("AAR", 1, 1)],
    )
    r = row(problem)
    assert r["department_id"] == "AAR"
    assert "beyond the patient's travel limit" in r["reason"]


def test_reason_says_home_slots_are_taken_when_they_are() -> None:
    """When the home department's on-time slot goes to another patient, the reason says so."""
    problem = make_problem(
        [{"deadline": day(2)}, {"deadline": day(2), "max_travel_km": 20.0}],
        [("AAL", 1, 1), ("AAR", 1, 1)],
    )
    r = row(problem)
    assert r["department_id"] == "AAR"
    assert "slots up to the deadline are all taken by other patients" in r["reason"]
