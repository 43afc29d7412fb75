"""The seeded generator: deterministic, contract-conformant, and true to the documented volumes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest
from typer.testing import CliRunner

from capacity import frames
from capacity.frames import Dataset
from capacity.generate import (
    HORIZON_DAYS,
    expected_waiting_list,
    generate_week,
    reference_services,
    week_monday,
    write_folder,
)
from capacity.io import read_folder
from kapacitet.cli import app

TABLES = ("departments", "services", "capacity", "patients")
MONDAY = pd.Timestamp("2026-11-23")


@pytest.fixture(scope="module")
def week() -> Dataset:
    """The national week 2026-W48 at scale 1, seed 2026."""
    return generate_week("2026-W48", seed=2026, scale=1.0)


def _assert_same(a: Dataset, b: Dataset) -> None:
    for table in TABLES:
        pdt.assert_frame_equal(getattr(a, table), getattr(b, table), obj=table)


def test_same_seed_gives_the_same_week() -> None:
    """Two runs with the same week, seed and scale give identical frames."""
    _assert_same(generate_week(seed=11, scale=0.3), generate_week(seed=11, scale=0.3))


def test_different_seeds_give_different_weeks() -> None:
    """Another seed gives other patients and other free slots."""
    a, b = generate_week(seed=1, scale=0.3), generate_week(seed=2, scale=0.3)
    assert not a.patients["latitude"].equals(b.patients["latitude"])
    assert not a.capacity["free_slots"].equals(b.capacity["free_slots"])


def test_frames_have_the_contract_dtypes(week: Dataset) -> None:
    """Every frame has its spec's columns, in order, with the spec's dtypes."""
    specs = {
        "departments": frames.DEPARTMENTS,
        "services": frames.SERVICES,
        "capacity": frames.CAPACITY,
        "patients": frames.PATIENTS | frames.PATIENT_CLOCKS,
    }
    for table, spec in specs.items():
        frame = getattr(week, table)
        assert list(frame.columns) == list(spec), table
        assert {c: str(t) for c, t in frame.dtypes.items()} == spec, table


def test_written_folder_reads_back_identically(week: Dataset, tmp_path: Path) -> None:
    """write_folder then capacity.io.read_folder (with validation) gives the same frames."""
    read = read_folder(write_folder(week, tmp_path))
    _assert_same(week, read)
    assert read.weekly_caps.empty


def test_written_files_use_contract_text(week: Dataset, tmp_path: Path) -> None:
    """CSV cells are ISO dates, true/false, whole prices without decimals, empty when missing."""
    write_folder(week, tmp_path)
    patients = pd.read_csv(tmp_path / "patients.csv", dtype=str, keep_default_na=False)
    assert patients["deadline"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert set(patients["accepts_foreign"]) == {"true", "false"}
    assert (patients["booked_date"] == "").any()
    services = pd.read_csv(tmp_path / "services.csv", dtype=str)
    assert services["price_dkk"].str.fullmatch(r"\d+").all()


def test_scale_one_is_a_national_week(week: Dataset) -> None:
    """Scale 1 gives 4,000-6,000 waiting patients and the full reference department set."""
    assert 4000 <= len(week.patients) <= 6000
    pdt.assert_frame_equal(week.services, reference_services())


@pytest.mark.parametrize("scale", [0.2, 2.0])
def test_scale_multiplies_patients_and_slots(week: Dataset, scale: float) -> None:
    """Patients and free slots grow in proportion to scale; departments stay."""
    scaled = generate_week(seed=2026, scale=scale)
    assert len(scaled.patients) / len(week.patients) == pytest.approx(scale, rel=0.01)
    slots = scaled.capacity["free_slots"].sum() / week.capacity["free_slots"].sum()
    assert slots == pytest.approx(scale, rel=0.1)
    assert len(scaled.departments) == len(week.departments)


def test_collaboration_shares_follow_incidence(week: Dataset) -> None:
    """Each collaboration's share of the list is within 2 points of the documented share."""
    expected = expected_waiting_list().groupby("collaboration")["share"].sum()
    actual = week.patients["collaboration"].value_counts(normalize=True)
    assert (actual.reindex(expected.index) - expected).abs().max() < 0.02


def test_a_few_per_cent_of_clocks_are_paused(week: Dataset) -> None:
    """About 7 % of clocks are paused for health or the patient's wish (2024 monitoring)."""
    paused = week.patients["deadline_status"].value_counts(normalize=True)
    assert 0.05 <= 1 - paused["active"] <= 0.09
    assert paused["paused_health"] > 0 and paused["paused_patient_wish"] > 0


def test_about_a_third_is_booked_some_after_the_deadline(week: Dataset) -> None:
    """30-40 % hold a booking; some active bookings fall after the deadline."""
    patients = week.patients
    booked = patients["booked_date"].notna()
    assert 0.30 <= booked.mean() <= 0.40
    late = booked & (patients["booked_date"] > patients["deadline"])
    assert (late & patients["deadline_status"].eq("active")).sum() > 0


def test_some_deadlines_have_already_passed(week: Dataset) -> None:
    """A tight week: a few per cent of active deadlines fall before Monday."""
    patients = week.patients
    overdue = (patients["deadline"] < MONDAY) & patients["deadline_status"].eq("active")
    assert 0.01 <= overdue.mean() <= 0.06


def test_deadlines_follow_the_rules(week: Dataset) -> None:
    """Pre-examination: referral + 14; treatment: min(consent + 14, referral to treatment + 28)."""
    patients = week.patients
    day = pd.Timedelta(days=1)
    pre = patients["procedure"] == "pre_examination"
    assert (
        patients.loc[pre, "deadline"] == patients.loc[pre, "referral_received"] + 14 * day
    ).all()
    treatment = patients[~pre]
    rule = np.minimum(
        treatment["consent_date"] + 14 * day, treatment["referral_to_treatment"] + 28 * day
    )
    assert (treatment["deadline"] == rule).all()


def test_dates_lie_in_the_horizon(week: Dataset) -> None:
    """Earliest dates, bookings and capacity days lie in the six weeks from Monday."""
    patients, capacity = week.patients, week.capacity
    end = MONDAY + pd.Timedelta(days=HORIZON_DAYS - 1)
    assert patients["earliest_date"].between(MONDAY, end).all()
    booked = patients["booked_date"].dropna()
    assert booked.between(MONDAY, end).all()
    assert (booked.dt.day_of_week < 5).all()
    assert capacity["date"].min() == MONDAY and capacity["date"].max() == end


def test_capacity_declares_every_service_every_day(week: Dataset) -> None:
    """One row per service and day; slots are non-negative and scarce at weekends."""
    capacity = week.capacity
    assert len(capacity) == len(week.services) * HORIZON_DAYS
    assert not capacity.duplicated(["department_id", "collaboration", "procedure", "date"]).any()
    assert (capacity["free_slots"] >= 0).all()
    weekend = capacity["date"].dt.day_of_week >= 5
    assert capacity.loc[weekend, "free_slots"].sum() < 0.03 * capacity["free_slots"].sum()


def test_home_departments_are_nearby_public_offerers(week: Dataset) -> None:
    """The home department is public, offers the service and is in the home region if one does."""
    offers = week.services.merge(week.departments, on="department_id")
    public = offers[offers["provider_type"] == "public"]
    keys = ["collaboration", "procedure"]
    home = week.patients.merge(
        public.rename(columns={"department_id": "home_department_id"}),
        on=["home_department_id", *keys],
        how="left",
    )
    assert home["provider_type"].eq("public").all()
    in_region = set(
        zip(public["region"], public["collaboration"], public["procedure"], strict=True)
    )
    has_local = [
        key in in_region
        for key in zip(home["home_region"], home["collaboration"], home["procedure"], strict=True)
    ]
    assert (home.loc[has_local, "region"] == home.loc[has_local, "home_region"]).all()


def test_bookings_are_at_offering_departments(week: Dataset) -> None:
    """Every booking is at a department offering the patient's collaboration and procedure."""
    booked = week.patients.dropna(subset=["booked_department_id"])
    offered = booked.merge(
        week.services.rename(columns={"department_id": "booked_department_id"}),
        on=["booked_department_id", "collaboration", "procedure"],
    )
    assert len(offered) == len(booked)


def test_short_department_declares_less_than_its_own_demand(week: Dataset) -> None:
    """AUH colorectal surgery frees fewer slots in two weeks than its own patients need."""
    patients, capacity = week.patients, week.capacity
    service = {"collaboration": "lower_gi", "procedure": "surgery"}
    own = patients[
        (patients["home_department_id"] == "AUH-KIR")
        & (patients["collaboration"] == service["collaboration"])
        & (patients["procedure"] == service["procedure"])
        & patients["booked_date"].isna()
    ]
    slots = capacity[
        (capacity["department_id"] == "AUH-KIR")
        & (capacity["collaboration"] == service["collaboration"])
        & (capacity["procedure"] == service["procedure"])
        & (capacity["date"] < MONDAY + pd.Timedelta(days=14))
    ]
    assert slots["free_slots"].sum() < 0.6 * len(own)


def test_travel_limits_and_refusals_are_few(week: Dataset) -> None:
    """A few patients name a travel limit; some decline private or foreign providers."""
    patients = week.patients
    assert 0.01 <= patients["max_travel_km"].notna().mean() <= 0.08
    assert 0.02 <= (~patients["accepts_private"]).mean() <= 0.15
    assert 0.10 <= (~patients["accepts_foreign"]).mean() <= 0.40


def test_residences_lie_in_denmark(week: Dataset) -> None:
    """Residences are near Danish population centres."""
    patients = week.patients
    assert patients["latitude"].between(54.4, 57.9).all()
    assert patients["longitude"].between(7.9, 15.3).all()


def test_patient_ids_are_pseudonyms_never_cpr_like(week: Dataset) -> None:
    """Ids are unique week-stamped pseudonyms, never DDMMYY-XXXX or ten digits."""
    ids = week.patients["patient_id"]
    assert ids.is_unique
    assert ids.str.fullmatch(r"pt-2026W48-\d{6}").all()
    assert not ids.str.contains(r"\d{6}-?\d{4}").any()


def test_week_monday_reads_iso_weeks() -> None:
    """2026-W48 starts on Monday 23 November 2026; a malformed week is refused."""
    assert week_monday("2026-W48") == MONDAY
    with pytest.raises(ValueError, match="ISO week"):
        week_monday("2026-48")
    with pytest.raises(ValueError, match="does not exist"):
        week_monday("2026-W60")


def test_example_command_writes_a_readable_folder(tmp_path: Path) -> None:
    """`kapacitet example DIR` writes a valid folder and prints a one-line summary."""
    result = CliRunner().invoke(
        app, ["example", str(tmp_path), "--week", "2026-W48", "--seed", "3", "--scale", "0.2"]
    )
    assert result.exit_code == 0, result.output
    assert "patients" in result.output and "free slots" in result.output
    assert len(read_folder(tmp_path).patients) == len(generate_week(seed=3, scale=0.2).patients)
