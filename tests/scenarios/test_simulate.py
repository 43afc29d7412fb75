"""The rolling-horizon simulation: deterministic, capacity-true, conserving, and sensitive to
capacity, sharing and pauses in the right direction (small national runs, scale 0.1)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pandas.testing as pdt
import pytest

from capacity.generate import reference_departments, reference_services
from scenarios.kpis import days_late_distribution, summarise, utilisation, weekly_intervals
from scenarios.schema import Scenario, scenario_from_mapping
from scenarios.simulate import (
    DEPARTMENT_COLUMNS,
    PATIENT_COLUMNS,
    WEEKLY_COLUMNS,
    ReplicationResult,
    World,
    prepare,
    run_replication,
)

SMALL: dict[str, Any] = {
    "name": "small national",
    "base": {"type": "reference", "scale": 0.1, "shortages": False},
    "horizon_weeks": 4,
    "replications": 2,
}
#: AUH loses its lower-GI surgery and its oncology for the whole horizon.
AUH_LOSS = [
    {"type": "close", "department": "AUH-KIR", "collaboration": "lower_gi"},
    {"type": "close", "department": "AUH-ONK"},
]


def _scenario(**changes: Any) -> Scenario:
    return scenario_from_mapping({**SMALL, **changes})


def _runs(scenario: Scenario, replications: int = 2) -> list[ReplicationResult]:
    world = prepare(scenario)
    return [run_replication(scenario, r, world) for r in range(replications)]


def _capacity_breaches(runs: list[ReplicationResult]) -> int:
    """Capacity exceedances among the treated plus patients still waiting past their deadline."""
    return sum(
        int(r.weekly["exceeded_capacity"].sum() + r.weekly["waiting_overdue"].iloc[-1])
        for r in runs
    )


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    """A four-week national scenario at scale 0.1 without built-in shortages."""
    return _scenario()


@pytest.fixture(scope="module")
def world(scenario: Scenario) -> World:
    """The scenario's prepared base data, shared by the module's runs."""
    return prepare(scenario)


@pytest.fixture(scope="module")
def result(scenario: Scenario, world: World) -> ReplicationResult:
    """Replication 0 of the small scenario."""
    return run_replication(scenario, 0, world)


def test_frames_have_the_documented_columns(result: ReplicationResult) -> None:
    """weekly, departments and patients carry exactly the documented columns, in order."""
    assert tuple(result.weekly.columns) == WEEKLY_COLUMNS
    assert tuple(result.departments.columns) == DEPARTMENT_COLUMNS
    assert tuple(result.patients.columns) == PATIENT_COLUMNS
    assert list(result.weekly["week"]) == [1, 2, 3, 4]
    assert list(result.weekly["week_label"]) == ["2026-W48", "2026-W49", "2026-W50", "2026-W51"]


def test_same_seed_gives_identical_frames(
    scenario: Scenario, world: World, result: ReplicationResult
) -> None:
    """Running the same replication again (with a fresh world) gives identical frames."""
    again = run_replication(scenario, 0)
    pdt.assert_frame_equal(result.weekly, again.weekly)
    pdt.assert_frame_equal(result.departments, again.departments)
    pdt.assert_frame_equal(result.patients, again.patients)


def test_replications_differ(scenario: Scenario, world: World, result: ReplicationResult) -> None:
    """Another replication draws other arrivals, slots and choices."""
    other = run_replication(scenario, 1, world)
    assert not other.weekly["arrivals"].equals(result.weekly["arrivals"])
    assert (other.weekly["replication"] == 1).all()


def test_capacity_is_never_exceeded(result: ReplicationResult) -> None:
    """No department uses more slots in a week than it declared (bookings included)."""
    departments = result.departments
    assert (departments["used"] <= departments["slots"]).all()
    assert departments["utilisation"].between(0, 1).all()


def test_every_treated_patient_appears_once(result: ReplicationResult) -> None:
    """A patient is treated at most once, and the weekly counts match the patient rows."""
    patients = result.patients
    assert patients["patient_id"].is_unique
    per_week = patients.groupby("treated_week").size()
    assert per_week.reindex(result.weekly["week"], fill_value=0).tolist() == (
        result.weekly["treated"].tolist()
    )


def test_waiting_list_is_conserved(world: World, result: ReplicationResult) -> None:
    """Each week, arrivals minus treated equals the change in the waiting list."""
    weekly = result.weekly
    before = pd.concat([pd.Series([len(world.dataset.patients)]), weekly["waiting"][:-1]])
    change = weekly["waiting"].to_numpy() - before.to_numpy()
    assert (change == (weekly["arrivals"] - weekly["treated"]).to_numpy()).all()


def test_outcomes_are_consistent(result: ReplicationResult) -> None:
    """Within means no day late; every exceedance has days late and a monitoring reason."""
    patients = result.patients
    within = patients["exceed_reason"] == "within"
    assert (patients.loc[within, "days_late"] == 0).all()
    assert (patients.loc[~within, "days_late"] > 0).all()
    assert set(patients["exceed_reason"]) <= {"within", "capacity", "health", "wish"}
    assert (patients.loc[patients["provider_type"] == "foreign", "out_of_region"] == False).all()  # noqa: E712


def test_capacity_reduction_increases_capacity_breaches(scenario: Scenario, world: World) -> None:
    """Cutting every public lower-GI department by 70 % raises capacity breaches."""
    offered = reference_services().merge(reference_departments(), on="department_id")
    lower_gi = offered[
        (offered["collaboration"] == "lower_gi") & (offered["provider_type"] == "public")
    ]
    cuts = [
        {"type": "reduce", "department": d, "collaboration": "lower_gi", "percent": 70}
        for d in sorted(lower_gi["department_id"].unique())
    ]
    reduced = _scenario(capacity={"changes": cuts})
    unchanged = [run_replication(scenario, r, world) for r in range(2)]
    assert _capacity_breaches(_runs(reduced)) > _capacity_breaches(unchanged)


def test_without_cross_region_sharing_breaches_do_not_fall() -> None:
    """With AUH's lower-GI surgery and oncology closed, forbidding sharing does not help."""
    shared = _scenario(capacity={"changes": AUH_LOSS})
    alone = shared.with_changes(policy={"allow_cross_region": False})
    assert _capacity_breaches(_runs(alone)) >= _capacity_breaches(_runs(shared))


def test_paused_patients_exceed_for_health() -> None:
    """When every clock pauses for health and slots are plenty, exceedances are health ones."""
    paused = _scenario(
        capacity={"headroom": 3.0},
        behaviour={"pauses": {"health_per_week": 1.0, "wish_per_week": 0.0}},
    )
    (run,) = _runs(paused, replications=1)
    reasons = run.patients.loc[run.patients["days_late"] > 0, "exceed_reason"]
    assert (reasons == "health").sum() > 0
    # Base patients already overdue on day one are late for capacity, whatever their pause.
    assert (reasons == "health").mean() > 0.9


def test_closed_foreign_capacity_treats_nobody_abroad() -> None:
    """Switching foreign capacity off leaves no foreign slot and no patient treated abroad."""
    closed = _scenario(capacity={"changes": [{"type": "foreign", "enabled": False}]})
    (run,) = _runs(closed, replications=1)
    foreign = {"FLE", "UKSH", "UKE", "SUSL", "SUSM"}
    hospitals = run.departments["department_id"].str.split("-").str[0]
    assert run.departments.loc[hospitals.isin(foreign), "slots"].sum() == 0
    assert run.weekly["foreign"].sum() == 0


def test_extra_sessions_add_slots_in_their_weeks(scenario: Scenario, world: World) -> None:
    """Extra Saturday sessions add exactly their slots to the department in their weeks."""
    extra = {
        "type": "extra_sessions",
        "department": "RH-KIR",
        "collaboration": "upper_gi",
        "procedure": "surgery",
        "slots_per_week": 5,
        "weekdays": ["saturday"],
        "weeks": [2, 3],
    }
    more = run_replication(_scenario(capacity={"changes": [extra]}), 0)
    base = run_replication(scenario, 0, world)

    def slots(run: ReplicationResult) -> pd.Series:
        rows = run.departments[
            (run.departments["department_id"] == "RH-KIR")
            & (run.departments["collaboration"] == "upper_gi")
            & (run.departments["procedure"] == "surgery")
        ]
        return rows.set_index("week")["slots"].reindex([1, 2, 3, 4], fill_value=0)

    assert (slots(more) - slots(base)).tolist() == [0, 5, 5, 0]


def test_kpis_summarise_replications(
    scenario: Scenario, world: World, result: ReplicationResult
) -> None:
    """summarise gives a mean inside its interval per KPI; weekly and other views are tidy."""
    runs = [result, run_replication(scenario, 1, world)]
    weekly = pd.concat([r.weekly for r in runs])
    summary = summarise(weekly).set_index("kpi")
    assert (summary["replications"] == 2).all()
    finite = summary.dropna()
    assert ((finite["ci_low"] <= finite["mean"]) & (finite["mean"] <= finite["ci_high"])).all()
    assert 0 < summary.at["within_share", "mean"] <= 1
    intervals = weekly_intervals(weekly)
    assert set(intervals["week"]) == {1, 2, 3, 4}
    distribution = days_late_distribution(pd.concat([r.patients for r in runs]))
    assert (
        distribution["patients"] == distribution[["capacity", "health", "wish"]].sum(axis=1)
    ).all()
    used = utilisation(pd.concat([r.departments for r in runs]))
    assert used["utilisation"].between(0, 1).all()


def test_a_capacity_breach_without_an_offer_in_time_is_not_complied() -> None:
    """With AUH's lower-GI capacity gone and no sharing, some capacity exceedances had no
    offer of referral by the deadline: the monitoring counts them as rules not complied, and
    those that had one as capacity."""
    import datetime as dt

    from reports.monitoring import pathways_from_outcomes

    alone = _scenario(capacity={"changes": AUH_LOSS}).with_changes(
        policy={"allow_cross_region": False}
    )
    runs = _runs(alone)
    patients = pd.concat([r.patients for r in runs], ignore_index=True)
    capacity = patients[patients["exceed_reason"] == "capacity"]
    assert len(capacity) and (~capacity["offered_in_time"]).any()
    mondays = pd.Series(
        [dt.date(2026, 11, 23) + dt.timedelta(weeks=w) for w in range(4)], index=range(1, 5)
    )
    category = pathways_from_outcomes(patients, mondays, cross_region=False)["category"]
    expected = (
        capacity["offered_in_time"].map({True: "capacity", False: "not_complied"}).value_counts()
    )
    assert category.value_counts().get("not_complied", 0) == expected.get("not_complied", 0)
    assert category.value_counts().get("capacity", 0) == expected.get("capacity", 0)
