"""Issue 15.3: completeness and staleness of the capacity declarations.

Chairs and the specialist unit see which departments have declared for which weeks and when,
with the missing and stale ones flagged; a solve names the stale declarations it used, and the
review page says so.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from capacity import calendar
from capacity.storage import create_database_engine, schema
from tests.web_support import WEEK, Site, running_site, sign_in, start_run
from workflow import tables as store
from workflow.capacity import declare_capacity
from workflow.completeness import Freshness, freshness_of


@pytest.fixture
def site(database_url: str) -> Iterator[Site]:
    with running_site(database_url) as running:
        yield running


def _age_and_redeclare_one(database_url: str, days: int) -> str:
    """Make every declaration ``days`` old, then let one lung department declare its week
    ``WEEK`` again (one more slot on its first day): that department's id."""
    engine = create_database_engine(database_url)
    with engine.begin() as conn:
        old = store.now() - dt.timedelta(days=days)
        conn.execute(schema.loads.update().values(loaded_at=old))
        c, d = schema.capacity.c, schema.capacity_declarations.c
        rows = conn.execute(
            sa.select(c.department_id, c.collaboration, c.procedure, c.date, c.free_slots)
            .join(schema.capacity_declarations, d.declaration_id == c.declaration_id)
            .where(d.superseded.is_(False), d.week == WEEK, c.collaboration == "lung")
            .order_by(c.department_id, c.date, c.procedure)
        ).all()
    department = str(rows[0].department_id)
    mine = [
        {
            "department_id": r.department_id,
            "collaboration": r.collaboration,
            "procedure": r.procedure,
            "date": r.date.isoformat(),
            "free_slots": r.free_slots + (1 if i == 0 else 0),
        }
        for i, r in enumerate(x for x in rows if x.department_id == department)
    ]
    declare_capacity(engine, department, "test", capacity=mine)
    engine.dispose()
    return department


def _cells(page: str) -> dict[tuple[str, str], str]:
    cells: dict[tuple[str, str], str] = {}
    for department, body in re.findall(
        r'<tr data-department="([^"]+)"[^>]*>(.*?)</tr>', page, flags=re.S
    ):
        for week, freshness in re.findall(r'data-week="([^"]+)" data-freshness="(\w+)"', body):
            cells[(department, week)] = freshness
    return cells


def test_the_declarations_page_flags_missing_and_stale_weeks(site: Site) -> None:
    fresh = _age_and_redeclare_one(site.database_url, days=10)
    later = calendar.horizon(WEEK, 8)[2]  # two weeks on: the last two are not declared
    chair = sign_in(site.base, site.tokens.chair)
    page = chair.get("/web/declarations", params={"week": later}).text
    assert "<h1>Indmeldt kapacitet pr. afdeling og uge</h1>" in page
    cells = _cells(page)
    engine = create_database_engine(site.database_url)
    with engine.connect() as conn:
        s, d, loads = schema.services.c, schema.capacity_declarations.c, schema.loads.c
        lung = set(
            conn.execute(sa.select(s.department_id).where(s.collaboration == "lung")).scalars()
        )
        declared = {
            (row.department_id, row.week): row.loaded_at
            for row in conn.execute(
                sa.select(d.department_id, d.week, loads.loaded_at)
                .join(schema.loads, loads.load_id == d.load_id)
                .where(d.superseded.is_(False))
            )
        }
    engine.dispose()
    weeks = calendar.horizon(later, 6)
    assert {department for department, _ in cells} == lung, "every department of the chair's"
    now = store.now()
    for department in lung:
        for week in weeks:
            expected = freshness_of(declared.get((department, week)), now, 7)
            assert cells[(department, week)] == expected.value, (department, week)
    assert any(v == "missing" for v in cells.values()), "weeks beyond the declarations"
    this_week = _cells(chair.get("/web/declarations", params={"week": WEEK}).text)
    assert this_week[(fresh, WEEK)] == "fresh", "declared again today"
    assert "stale" in cells.values() and "fresh" not in {
        v for (dep, w), v in cells.items() if dep != fresh
    }
    # flagged departments first; a longer limit makes the ten-day-old ones fresh again
    order = re.findall(r'<tr data-department="([^"]+)"( class="flagged")?', page)
    flags = [bool(flag) for _, flag in order]
    assert flags == sorted(flags, reverse=True)
    relaxed = _cells(chair.get("/web/declarations", params={"week": later, "days": "30"}).text)
    assert "stale" not in relaxed.values()
    assert {v for v in relaxed.values()} == {Freshness.FRESH.value, Freshness.MISSING.value}


def test_a_solve_names_the_stale_capacity_it_used_and_the_page_says_so(site: Site) -> None:
    fresh = _age_and_redeclare_one(site.database_url, days=12)
    chair = sign_in(site.base, site.tokens.chair)
    page = start_run(chair).text
    run_id = int(re.search(r'<option value="(\d+)" selected', page)[1])  # type: ignore[index]
    engine = create_database_engine(site.database_url)
    with engine.connect() as conn:
        kpis = conn.execute(
            sa.select(store.solve_runs.c.kpis).where(store.solve_runs.c.run_id == run_id)
        ).scalar_one()
    engine.dispose()
    named = {(s["department_id"], s["week"]) for s in kpis["stale_capacity"]}
    assert named and (fresh, WEEK) not in named
    assert {w for _, w in named} >= {WEEK} and len({d for d, _ in named}) > 1
    assert all(s["age_days"] >= 12 for s in kpis["stale_capacity"])
    assert "Forældet kapacitet" in page
    pack = chair.get("/web/pack", params={"collaboration": "lung", "week": WEEK}).text
    assert "Forældet kapacitet" in pack, "the meeting pack says so too"


def test_a_region_sees_only_its_own_departments(site: Site) -> None:
    region = sign_in(site.base, site.tokens.region)
    page = region.get("/web/declarations", params={"week": WEEK}).text
    regions = set(re.findall(r"</th>\s*<td>([^<]+)</td>", page))
    assert regions == {"Syddanmark"}
