"""The annual capacity check: the compliant flow network against the solver, departments' losses,
shadow prices against re-solving, the weekly balance, the files and the command."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_bipartite_matching
from typer.testing import CliRunner

from capacity import frames
from capacity.geo import great_circle_km
from kapacitet.cli import app
from reports import capacity_check
from reports.capacity_check import CapacityCheckError, best_extra_slots, iso_weeks, sample_weeks
from solver.capacity_flow import (
    ENGINES,
    FlowEngine,
    compliant_network,
    department_losses,
    max_compliant_flow,
)
from solver.policy import Policy
from solver.problem import Problem
from solver.shadow import shadow_prices, shadow_prices_by_resolve
from solver.solve import solve
from tests.strategies import TODAY, instances

SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def matching_in_time(problem: Problem) -> int:
    """Most patients seen in time, by a per-patient, per-slot bipartite matching written from
    the contract's eligibility rules (independent of the solver and of the report's network)."""
    today = pd.Timestamp(problem.today)
    capacity = problem.capacity[problem.capacity["date"] >= today]
    patients = problem.patients.reset_index(drop=True)
    booked = patients[patients["booked_date"].notna() & (patients["booked_date"] >= today)]
    slots = pd.concat(
        [
            capacity.loc[capacity.index.repeat(capacity["free_slots"])],
            pd.DataFrame(
                {
                    "department_id": booked["booked_department_id"].astype(str),
                    "collaboration": booked["collaboration"],
                    "procedure": booked["procedure"],
                    "date": booked["booked_date"],
                }
            ),
        ],
        ignore_index=True,
    )
    offered = set(
        zip(
            problem.services["department_id"],
            problem.services["collaboration"],
            problem.services["procedure"],
            strict=True,
        )
    )
    departments = problem.departments.set_index("department_id")
    rows, cols = [], []
    for p, patient in patients.iterrows():
        earliest = patient["earliest_date"] if pd.notna(patient["earliest_date"]) else today
        active = patient["deadline_status"] == "active" and pd.notna(patient["deadline"])
        for s, slot in slots.iterrows():
            department = departments.loc[slot["department_id"]]
            in_time = not active or slot["date"] <= patient["deadline"]
            same_service = (slot["collaboration"], slot["procedure"]) == (
                patient["collaboration"],
                patient["procedure"],
            )
            # the patient's own booking is always eligible (days before today hold nothing)
            own_booking = bool(
                pd.notna(patient["booked_date"])
                and slot["department_id"] == str(patient["booked_department_id"])
                and slot["date"] == patient["booked_date"]
            )
            if not (same_service and in_time):
                continue
            if not own_booking and slot["date"] < max(earliest, today):
                continue
            km = great_circle_km(
                patient["latitude"],
                patient["longitude"],
                department["latitude"],
                department["longitude"],
            )
            limit = patient["max_travel_km"] if pd.notna(patient["max_travel_km"]) else np.inf
            eligible = (
                (slot["department_id"], slot["collaboration"], slot["procedure"]) in offered
                and (department["provider_type"] != "private" or patient["accepts_private"])
                and (department["provider_type"] != "foreign" or patient["accepts_foreign"])
                and float(km) <= limit
            )
            if eligible or own_booking:
                rows.append(p)
                cols.append(s)
    if not rows:
        return 0
    graph = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(patients), len(slots)))
    return int((maximum_bipartite_matching(graph, perm_type="column") >= 0).sum())


def placed(problem: Problem) -> int:
    """Patients the solver places (tier 1)."""
    return len(problem.patients) - solve(problem, verify=False).tiers.unassigned


def in_time(problem: Problem) -> int:
    """Patients the solver places on or before their deadline (any day for a paused clock)."""
    proposals = solve(problem, verify=False).proposals
    patients = problem.patients.set_index("patient_id")
    status = patients["deadline_status"].reindex(proposals["patient_id"]).to_numpy()
    is_placed = (proposals["department_id"] != "").to_numpy()
    date = pd.to_datetime(proposals["date"].where(is_placed, None))
    deadline = pd.to_datetime(proposals["deadline"])
    ok = (status != "active") | (date <= deadline).fillna(False).to_numpy()
    return int((is_placed & ok).sum())


def without(problem: Problem, department: str) -> Problem:
    """The problem with a department gone: no slots there, and bookings there given up."""
    patients = problem.patients.copy()
    gone = (patients["booked_department_id"] == department).fillna(False)
    patients.loc[gone, "booked_department_id"] = pd.NA
    patients.loc[gone, "booked_date"] = pd.NaT
    return Problem(
        problem.departments,
        problem.services,
        problem.capacity[problem.capacity["department_id"] != department],
        patients,
        problem.today,
    )


# ---- the compliant network -----------------------------------------------------------------------


@SETTINGS
@given(instances())
def test_max_compliant_flow_equals_a_per_patient_matching(problem):
    """The grouped network's maximum flow is the most patients a per-slot matching sees in time."""
    network = compliant_network(problem)
    assert max_compliant_flow(network).value == matching_in_time(problem)


@SETTINGS
@given(instances())
def test_networkx_and_scipy_agree_on_value_and_minimum_cut(problem):
    """networkx (preflow-push) and scipy (Dinic) give the same maximum flow and the same cut."""
    network = compliant_network(problem)
    by_networkx = max_compliant_flow(network, engine="networkx")
    by_scipy = max_compliant_flow(network)
    assert by_networkx.value == by_scipy.value
    assert np.array_equal(by_networkx.cut_buckets, by_scipy.cut_buckets)
    assert by_scipy.bucket_flow.sum() == by_scipy.value


@SETTINGS
@given(instances(late_options=False))
def test_without_late_options_the_flow_is_the_solvers_placed_count(problem):
    """When every slot is before every deadline, the solver's placements are all in time and
    their number is the networkx maximum compliant flow."""
    network = compliant_network(problem)
    assert max_compliant_flow(network, engine="networkx").value == placed(problem)


@SETTINGS
@given(instances())
def test_the_solver_never_sees_more_patients_in_time_than_the_flow(problem):
    """The solver first places as many as it can, so its in-time count is at most the flow."""
    assert in_time(problem) <= max_compliant_flow(compliant_network(problem)).value


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(late_options=False))
def test_removing_a_department_costs_the_solver_exactly_its_reported_loss(problem):
    """Without late options, removing each department lowers the solver's placed count by
    exactly the loss the report gives it."""
    network = compliant_network(problem)
    losses = department_losses(network, max_compliant_flow(network)).set_index("department_id")
    before = placed(problem)
    for department in problem.departments["department_id"].astype(str):
        reported = int(losses["loss"].get(department, 0))
        assert before - placed(without(problem, department)) == reported


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_with_late_options_the_loss_bounds_the_solvers_in_time_count(problem):
    """With late options the solver's in-time count without a department is at most the
    maximum compliant flow minus the department's reported loss."""
    network = compliant_network(problem)
    flow = max_compliant_flow(network)
    for row in department_losses(network, flow).itertuples():
        assert in_time(without(problem, row.department_id)) <= flow.value - row.loss


# ---- shadow prices ------------------------------------------------------------------------------


def tight_week() -> Problem:
    """Two lung-surgery departments: A has one slot before three deadlines, B is far away."""
    departments = pd.DataFrame(
        {
            "department_id": ["A", "B"],
            "name": ["A", "B"],
            "hospital": ["A", "B"],
            "region": ["Hovedstaden", "Syddanmark"],
            "provider_type": ["public", "public"],
            "latitude": [55.68, 55.40],
            "longitude": [12.57, 10.39],
        }
    )
    services = pd.DataFrame(
        {
            "department_id": ["A", "B"],
            "collaboration": ["lung", "lung"],
            "procedure": ["surgery", "surgery"],
            "price_dkk": [1.0, 1.0],
        }
    )
    day = [pd.Timestamp(TODAY + dt.timedelta(days=d)) for d in range(10)]
    capacity = pd.DataFrame(
        {
            "department_id": ["A", "A", "B", "B"],
            "collaboration": ["lung"] * 4,
            "procedure": ["surgery"] * 4,
            "date": [day[1], day[8], day[4], day[9]],
            "free_slots": [1, 3, 1, 1],
        }
    )
    n = 5
    patients = pd.DataFrame(
        {
            "patient_id": [f"p{i}" for i in range(n)],
            "collaboration": ["lung"] * n,
            "procedure": ["surgery"] * n,
            "home_region": ["Hovedstaden"] * n,
            "home_department_id": ["A"] * n,
            "latitude": [55.7] * n,
            "longitude": [12.5] * n,
            "earliest_date": [day[0]] * n,
            "deadline": [day[2], day[2], day[2], day[5], day[6]],
            "deadline_status": ["active"] * n,
            "booked_department_id": [None] * n,
            "booked_date": [pd.NaT] * n,
            "max_travel_km": [np.nan, np.nan, 30.0, np.nan, np.nan],
            "accepts_private": [True] * n,
            "accepts_foreign": [True] * n,
        }
    )
    return Problem(
        frames.conform(departments, frames.DEPARTMENTS),
        frames.conform(services, frames.SERVICES),
        frames.conform(capacity, frames.CAPACITY),
        frames.conform(patients, frames.PATIENTS),
        TODAY,
    )


def resolved_best(problem: Problem) -> pd.DataFrame:
    """Per department and service, the best day by re-solving with one more slot on each."""
    prices = shadow_prices(problem, Policy())
    if prices.empty:
        return best_extra_slots(prices)
    resolved = shadow_prices_by_resolve(problem, Policy(), prices)
    return best_extra_slots(
        prices[["department_id", "collaboration", "procedure", "date", "free_slots", "used"]].join(
            resolved
        )
    )


def test_one_more_slot_goes_where_re_solving_avoids_the_most_breaches():
    """The shadow-price ranking equals the ranking found by re-solving with one more slot."""
    problem = tight_week()
    ranked = best_extra_slots(shadow_prices(problem, Policy()))
    assert ranked.iloc[0]["department_id"] == "A"
    assert ranked.iloc[0]["breaches_saved"] >= 1
    pd.testing.assert_frame_equal(ranked, resolved_best(problem))


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_shadow_price_ranking_agrees_with_re_solving_on_random_weeks(problem):
    """On random weeks the best day and saving of every department-service agree with
    re-solving."""
    ranked = best_extra_slots(shadow_prices(problem, Policy()))
    pd.testing.assert_frame_equal(ranked, resolved_best(problem))


def test_an_unknown_flow_engine_is_refused_naming_the_engines():
    """The flow interface has one function per engine and names them for any other name."""
    assert set(ENGINES) == {FlowEngine.NETWORKX, FlowEngine.SCIPY}
    network = compliant_network(tight_week())
    assert max_compliant_flow(network, "networkx").value == max_compliant_flow(network).value
    with pytest.raises(ValueError, match="expected scipy or networkx"):
        max_compliant_flow(network, engine="igraph")


# ---- the period and the balance -----------------------------------------------------------------


def test_weeks_of_the_year_and_a_range():
    """2026 has 53 ISO weeks; a range names its weeks; a week outside the year is refused."""
    assert len(iso_weeks(2026)) == 53
    assert iso_weeks(2026, "10-12,20") == ["2026-W10", "2026-W11", "2026-W12", "2026-W20"]
    with pytest.raises(CapacityCheckError, match="not within weeks 1-52"):
        iso_weeks(2027, "50-53")
    assert sample_weeks(iso_weeks(2026, "1-52"), 2) == ["2026-W14", "2026-W40"]


def test_reference_balance_flags_regions_without_the_service():
    """Sjælland has no lung surgery: a structural deficit whose region declares no slots."""
    balance = capacity_check.reference_balance(iso_weeks(2026, "1-8"), scale=1.0)
    deficits = balance.deficits()
    sjaelland = deficits[
        (deficits["collaboration"] == "lung")
        & (deficits["procedure"] == "surgery")
        & (deficits["region"] == "Sjælland")
    ]
    assert len(sjaelland) == 1 and bool(sjaelland["no_capacity"].iloc[0])
    assert (deficits["deficit_share"] >= capacity_check.PERSISTENT_SHARE).all()
    national = balance.by_collaboration()
    assert (national[national["region"] == "all"]["utilisation"] < 1).all()


# ---- files and the command ----------------------------------------------------------------------


CHROMIUM = any(Path(p).exists() for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser"))


def test_the_command_writes_the_check_from_a_database(tmp_path: Path):
    """From a stored reference week: HTML (with figures), Excel and (with Chromium) PDF, and the
    week the load was made for is the one analysed."""
    from capacity.generate import generate_week
    from capacity.storage import load_dataset

    url = f"sqlite:///{tmp_path / 'k.sqlite'}"
    load_dataset(url, generate_week("2026-W48", seed=3, scale=0.05))
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        ["report", "capacity-check", "--year", "2026", "--db", url, "--out", str(out)]
        + ([] if CHROMIUM else ["--no-pdf"]),
    )
    assert result.exit_code == 0, result.output
    expected = ["capacity-check-2026.html", "capacity-check-2026.xlsx"]
    if CHROMIUM:
        expected.insert(1, "capacity-check-2026.pdf")
        assert (out / "capacity-check-2026.pdf").read_bytes()[:5] == b"%PDF-"
    assert sorted(p.name for p in out.iterdir()) == expected
    html = (out / "capacity-check-2026.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in html and "2026-W48 (" in html
    assert '<html lang="da">' in html and "Årligt kapacitetstjek 2026" in html
    assert "rummer 1 ugentlig(e) indlæsning(er) i perioden (2026-W48)" in html
    english = CliRunner().invoke(
        app,
        [
            *("report", "capacity-check", "--year", "2026", "--db", url),
            *("--out", str(out), "--lang", "en", "--no-pdf"),
        ],
    )
    assert english.exit_code == 0, english.output
    html = (out / "capacity-check-2026.html").read_text(encoding="utf-8")
    assert "Annual capacity check 2026" in html
    assert "holds 1 weekly load(s) in the period (2026-W48)" in html


def test_the_command_refuses_a_database_without_the_weeks(tmp_path: Path):
    """An empty database says what to load, exits 1 and writes nothing."""
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        [
            "report",
            "capacity-check",
            "--year",
            "2026",
            "--db",
            f"sqlite:///{tmp_path / 'empty.sqlite'}",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 1
    assert "load the weeks first" in result.output
    assert not out.exists() or not any(out.iterdir())


# ---- the year: seasonality, holidays and one more slot ------------------------------------------


@pytest.fixture(scope="module")
def year_balance() -> capacity_check.Balance:
    return capacity_check.reference_balance(iso_weeks(2026), scale=0.2)


def test_demand_and_capacity_follow_the_year(year_balance: capacity_check.Balance):
    """Summer and Christmas weeks have fewer referrals and fewer slots than ordinary weeks
    (the reference year profile and the public holidays), so the weeks differ (issue 17.4)."""
    weekly = year_balance.weekly.groupby("week")[["demand", "capacity"]].sum()
    ordinary = weekly.loc[["2026-W36", "2026-W37", "2026-W38"]].mean()
    summer = weekly.loc[["2026-W29", "2026-W30"]].mean()
    christmas = weekly.loc["2026-W52"]
    assert summer["capacity"] < 0.8 * ordinary["capacity"]
    assert summer["demand"] < 0.9 * ordinary["demand"]
    assert christmas["capacity"] < 0.6 * ordinary["capacity"]


def test_one_more_slot_ranks_by_the_year_danish_public_first(
    year_balance: capacity_check.Balance,
):
    """Breaches avoided over the year per department and service: Danish public departments
    first, most first within each provider type, and the top 15 are not all equal."""
    table = year_balance.year_extra_slots()
    assert {"breaches_year", "national_weeks", "provider_type"} <= set(table.columns)
    rank = table["provider_type"].map({"public": 0, "private": 1, "foreign": 2})
    assert rank.is_monotonic_increasing
    for _, group in table.groupby(rank):
        assert group["breaches_year"].is_monotonic_decreasing
    assert table.head(15)["breaches_year"].nunique() > 1
    assert (table["breaches_year"] <= table["weeks"]).all()
    foreign = table[table["provider_type"] == "foreign"]
    assert (foreign["breaches_year"] == foreign["national_weeks"]).all()


def test_the_page_speaks_danish_by_default_and_english_on_request(
    year_balance: capacity_check.Balance,
):
    from reports.capacity_check import CapacityCheck, render_html
    from reports.capacity_check.sources import reference_departments

    check = CapacityCheck(2026, tuple(iso_weeks(2026)), year_balance, (), reference_departments())
    danish = render_html(check)
    assert "Hvor én plads mere undgår flest overskridelser" in danish
    assert "Breaches" not in danish and "Demand against" not in danish
    assert danish.index("Hvor én plads mere") < danish.index("Efterspørgsel mod udbudt")
    english = render_html(check, lang="en")
    assert "Where one more slot avoids the most breaches" in english
