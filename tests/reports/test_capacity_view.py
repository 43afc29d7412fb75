"""The look-ahead capacity view: free slots against known + expected demand per department,
procedure and week, public holidays, the region filter, both languages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pandas as pd
import pytest

from capacity import calendar
from capacity.generate import expected_home_referrals, generate_week, weekly_referral_rates
from capacity.holidays import easter_sunday, holidays_in_week, public_holidays
from capacity.storage import create_database_engine, load_dataset, upgrade_database
from reports.meeting.capacity import (
    LookaheadCell,
    arrivals_by_deadline_week,
    capacity_view,
    deadline_days,
    expected_demand,
    expected_text,
    holiday_name,
    home_rates,
    known_demand,
    level,
    list_scale,
    look_ahead,
)
from reports.meeting.model import CapacityCell
from reports.meeting.queries import capacity_overview
from reports.meeting.text import TEXT
from workflow.access import Principal, Role

WEEK = "2026-W48"
WEEKS = calendar.horizon(WEEK, 6)
SCALE = 0.05


# ---- holidays --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "easter"),
    [(2000, "2000-04-23"), (2019, "2019-04-21"), (2024, "2024-03-31"), (2026, "2026-04-05"),
     (2027, "2027-03-28"), (2038, "2038-04-25")],
)  # fmt: skip
def test_easter_is_the_gregorian_easter(year: int, easter: str) -> None:
    assert easter_sunday(year) == dt.date.fromisoformat(easter)


def test_danish_public_holidays_of_2026_and_great_prayer_day_ends_in_2023() -> None:
    days = public_holidays(2026)
    assert [d.isoformat() for d in days] == [
        "2026-01-01", "2026-04-02", "2026-04-03", "2026-04-05", "2026-04-06", "2026-05-14",
        "2026-05-24", "2026-05-25", "2026-12-25", "2026-12-26",
    ]  # fmt: skip
    assert "great_prayer_day" not in days.values()
    assert public_holidays(2023)[dt.date(2023, 5, 5)] == "great_prayer_day"
    assert holidays_in_week("2026-W52") == (
        (dt.date(2026, 12, 25), "christmas_day"),
        (dt.date(2026, 12, 26), "boxing_day"),
    )
    assert holidays_in_week("2026-W53") == ((dt.date(2027, 1, 1), "new_years_day"),)
    assert holidays_in_week("2026-W48") == ()


def test_holiday_names_in_both_languages() -> None:
    assert holiday_name("christmas_day", "da") == "juledag"
    assert holiday_name("christmas_day", "en") == "Christmas Day"
    for key in public_holidays(2023).values():
        assert f"holiday_{key}" in TEXT["en"], key


# ---- expected and known demand, pure ---------------------------------------------------------


def test_the_rules_give_every_new_referral_its_deadline_14_days_on() -> None:
    assert deadline_days() == {
        "pre_examination": 14,
        "surgery": 14,
        "chemotherapy": 14,
        "radiotherapy": 14,
    }


def test_arrivals_count_in_the_week_of_their_deadline() -> None:
    assert arrivals_by_deadline_week(7.0, 14, 6) == [0, 0, 7, 7, 7, 7]
    # 10 days: arrivals of Mon-Thu of the first week are due in the second
    assert arrivals_by_deadline_week(7.0, 10, 4) == [0, 4, 7, 7]
    assert arrivals_by_deadline_week(3.5, 0, 2) == [3.5, 3.5]


def test_expected_and_known_demand_per_department_procedure_and_week() -> None:
    lags = {"surgery": 14, "pre_examination": 10}
    expected = expected_demand(
        [("A", "surgery", 2.0), ("A", "pre_examination", 7.0), ("B", "surgery", 0.0)],
        WEEKS,
        lags,
    )
    assert expected[("A", "surgery", WEEKS[2])] == pytest.approx(2.0)
    assert ("A", "surgery", WEEKS[1]) not in expected
    assert expected[("A", "pre_examination", WEEKS[1])] == pytest.approx(4.0)
    assert not any(key[0] == "B" for key in expected)

    monday = calendar.week_monday(WEEK)
    known = known_demand(
        [
            ("A", "surgery", monday - dt.timedelta(days=3)),  # passed: the first week
            ("A", "surgery", monday + dt.timedelta(days=6)),
            ("A", "surgery", monday + dt.timedelta(days=15)),
            ("A", "surgery", monday + dt.timedelta(weeks=6)),  # after the horizon: left out
        ],
        WEEKS,
    )
    assert known == {("A", "surgery", WEEKS[0]): 2, ("A", "surgery", WEEKS[2]): 1}


def test_the_heatmap_class_is_the_legends_and_counts_expected_demand() -> None:
    for free in range(0, 12):
        for demand in range(0, 9):
            assert level(free, demand) == CapacityCell(free=free, demand=demand).level
    assert LookaheadCell(free=3, known=3, expected=0.0).level == "balanced"
    assert LookaheadCell(free=3, known=3, expected=2.0).level == "short"
    assert LookaheadCell(free=3, known=0, expected=6.5).level == "severe"
    # what is shown is what is coloured: 0.03 expected shows as 0 and is no demand
    assert LookaheadCell(free=0, known=0, expected=0.03).level == "none"
    assert expected_text(0.03, "da") == "0"
    assert expected_text(4.25, "da") == "4,2" and expected_text(4.25, "en") == "4.2"


def test_look_ahead_groups_by_department_and_filters_by_region() -> None:
    departments = {
        "A": ("Kirurgi, Aarhus", "Midtjylland"),
        "B": ("Onkologi, Odense", "Syddanmark"),
        "X": ("Klinik, Lund", "SE"),
    }
    services = [("A", "surgery"), ("A", "pre_examination"), ("B", "chemotherapy"), ("X", "surgery")]
    free = {("A", "surgery", WEEKS[0]): 4, ("B", "chemotherapy", WEEKS[3]): 1}
    known = {("A", "surgery", WEEKS[0]): 2, ("B", "radiotherapy", WEEKS[0]): 1}
    expected = {("A", "surgery", WEEKS[2]): 1.5}
    view = look_ahead("lung", WEEKS, services, departments, free, known, expected)
    assert [d.department_id for d in view.departments] == ["A", "B", "X"]  # abroad last
    assert view.regions == ("Midtjylland", "Syddanmark", "SE")
    a = view.departments[0]
    assert [r.procedure for r in a.rows] == ["pre_examination", "surgery"]
    surgery = a.rows[1].cells
    assert (surgery[0].free, surgery[0].known, surgery[0].expected) == (4, 2, 0.0)
    assert (surgery[2].free, surgery[2].known, surgery[2].expected) == (0, 0, 1.5)
    assert a.totals[0] == LookaheadCell(free=4, known=2, expected=0.0)
    # demand at a procedure the department does not offer still gets its row
    assert [r.procedure for r in view.departments[1].rows] == ["chemotherapy", "radiotherapy"]
    assert [w.holiday for w in view.weeks] == [False, False, False, False, True, True]

    south = look_ahead("lung", WEEKS, services, departments, free, known, region="Syddanmark")
    assert [d.department_id for d in south.departments] == ["B"] and south.region == "Syddanmark"
    unknown = look_ahead("lung", WEEKS, services, departments, free, known, region="Atlantis")
    assert unknown.region is None and len(unknown.departments) == 3
    own = look_ahead("lung", WEEKS, services, departments, free, known, only="B")
    assert [d.department_id for d in own.departments] == ["B"] and own.regions == ("Syddanmark",)


def test_home_rates_are_the_generators_expected_home_referrals() -> None:
    week = generate_week(WEEK, seed=2026, scale=SCALE)
    rates = home_rates(week.departments, week.services, "lung", 1.0)
    reference = expected_home_referrals(week.departments, week.services, 1.0)
    lung = reference[reference["collaboration"] == "lung"]
    assert sorted(rates) == sorted(
        (str(d), str(p), float(r))
        for d, p, r in lung[["department_id", "procedure", "per_week"]].itertuples(index=False)
    )
    national = weekly_referral_rates(1.0)
    assert sum(r for _, _, r in rates) == pytest.approx(
        national.loc[national["collaboration"] == "lung", "per_week"].sum()
    )
    # a store of one collaboration only: the other pathways have no home, lung is unchanged
    only_lung = week.services[week.services["collaboration"] == "lung"]
    assert sorted(home_rates(week.departments, only_lung, "lung", 1.0)) == sorted(rates)
    assert home_rates(week.departments, week.services, "lung", 0.0) == []


def test_list_scale_is_the_stored_list_against_the_reference_list() -> None:
    week = generate_week(WEEK, seed=2026, scale=SCALE)
    lung = int((week.patients["collaboration"] == "lung").sum())
    assert list_scale(lung, "lung") == pytest.approx(SCALE, rel=0.25)
    assert list_scale(0, "lung") == 0.0


# ---- the query over a store (SQLite and PostgreSQL) ------------------------------------------


@pytest.fixture
def stored(database_url: str) -> Iterator[tuple[str, pd.DataFrame]]:
    week = generate_week(WEEK, seed=2026, scale=SCALE)
    load_dataset(database_url, week)
    engine = create_database_engine(database_url)
    upgrade_database(engine)
    engine.dispose()
    yield database_url, week.patients


def _everyone() -> Principal:
    return Principal(token_id=1, name="Specialenheden", role=Role.SPECIALIST_UNIT)


def test_known_plus_expected_per_department_and_procedure(
    stored: tuple[str, pd.DataFrame],
) -> None:
    database_url, patients = stored
    engine = create_database_engine(database_url)
    with engine.connect() as conn:
        view = capacity_view(conn, _everyone(), "lung", WEEK)
        known_only = capacity_view(conn, _everyone(), "lung", WEEK, expected=False)
        overview_weeks, overview = capacity_overview(conn, _everyone(), "lung", WEEK)
    engine.dispose()

    # known: the stored list without a compliant booking, by the deadline's week
    lung = patients[
        (patients["collaboration"] == "lung") & (patients["deadline_status"] == "active")
    ]
    waiting = lung[lung["booked_date"].isna() | (lung["booked_date"] > lung["deadline"])]
    first = pd.Timestamp(calendar.week_monday(WEEK))
    due = waiting["deadline"]
    weeks = calendar.weeks_of(due.where(due >= first, first))
    want = waiting.assign(week=weeks).groupby(["home_department_id", "procedure", "week"]).size()
    want = want[want.index.get_level_values("week").isin(WEEKS)]
    got = {
        (d.department_id, r.procedure, w): c.known
        for d in view.departments
        for r in d.rows
        for w, c in zip(view.labels, r.cells, strict=True)
        if c.known
    }
    assert got == {key: int(n) for key, n in want.items()} and got

    # expected: the generator's home-department rates at the list's scale, due 14 days on
    assert view.scale == pytest.approx(SCALE, rel=0.25)
    week = generate_week(WEEK, seed=2026, scale=SCALE)
    rates = {
        (d, p): r for d, p, r in home_rates(week.departments, week.services, "lung", view.scale)
    }
    for department in view.departments:
        for row in department.rows:
            per_week = rates.get((department.department_id, row.procedure), 0.0)
            assert [c.expected for c in row.cells] == pytest.approx(
                [0, 0, per_week, per_week, per_week, per_week]
            )
    assert sum(c.expected for d in view.departments for c in d.totals) > 0
    assert all(c.expected == 0 for d in known_only.departments for c in d.totals)

    # the meeting pack's heatmap is the known part summed over procedures
    assert overview_weeks == view.labels
    assert [(r.department_id, [(c.free, c.demand) for c in r.cells]) for r in overview] == [
        (d.department_id, [(c.free, c.known) for c in d.totals]) for d in view.departments
    ]
    assert [w.week for w in view.weeks if w.holiday] == ["2026-W52", "2026-W53"]


def test_region_filter_and_a_departments_own_rows(stored: tuple[str, pd.DataFrame]) -> None:
    database_url, _ = stored
    engine = create_database_engine(database_url)
    with engine.connect() as conn:
        everything = capacity_view(conn, _everyone(), "lung", WEEK)
        south = capacity_view(conn, _everyone(), "lung", WEEK, region="Syddanmark")
        department = everything.departments[0].department_id
        own = capacity_view(
            conn,
            Principal(token_id=2, name="Afd", role=Role.DEPARTMENT, department_id=department),
            "lung",
            WEEK,
        )
    engine.dispose()
    assert "Syddanmark" in everything.regions and south.region == "Syddanmark"
    assert south.departments and {d.region for d in south.departments} == {"Syddanmark"}
    assert [d.department_id for d in south.departments] == [
        d.department_id for d in everything.departments if d.region == "Syddanmark"
    ]
    assert [d.department_id for d in own.departments] == [department]
