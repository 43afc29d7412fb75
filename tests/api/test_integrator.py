"""The API as a regional integrator uses it (issue 15.6), over real HTTP on SQLite and PostgreSQL:
finding runs, paging every collection, every problem of a body at once with did-you-mean
hints, and conditional writes (ETag / If-Match) on patients and capacity declarations."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.test_api import (
    REGION,
    TODAY,
    Api,
    client,
    make_token,
    running_api,
)
from workflow.access import Role

PROBLEM = "application/problem+json"


@pytest.fixture
def api(database_url: str, shared_dir: Path) -> Iterator[tuple[Api, str]]:
    """The example week (Nordjylland's patients posted), served; and the database URL."""
    with running_api(database_url, shared_dir) as running:
        response = running.nord.post("/v1/patients", json={"patients": running.records})
        assert response.status_code == 200, response.text
        yield running, database_url


def _other(api: Api, database_url: str, role: Role, **scope: Any) -> httpx.Client:
    token = make_token(database_url, role, f"{role.value} test", **scope)
    return client(str(api.nord.base_url), token)


def _all_pages(c: httpx.Client, path: str, **params: Any) -> tuple[list[Any], int]:
    """Every item of a collection, following Link headers; and how many pages it took."""
    items: list[Any] = []
    url: str | None = path
    pages = 0
    query: dict[str, Any] | None = params
    while url is not None:
        response = c.get(url, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        assert isinstance(page, list)
        items += page
        pages += 1
        nxt = response.links.get("next")
        if nxt is None:
            assert "x-next-cursor" not in response.headers
            url = None
        else:
            assert response.headers["x-next-cursor"] in nxt["url"]
            url, query = nxt["url"], None  # the link carries limit, filters and cursor
        assert pages < 1000
    return items, pages


# ---- GET /v1/solve-runs --------------------------------------------------------------------------


def test_a_region_finds_the_run_a_chair_started(api: tuple[Api, str]) -> None:
    """A chair's run is listed for the regions whose patients it proposes for, not others;
    filters by collaboration, week and status; one run out of sight is 404 like an unknown."""
    running, url = api
    chair = _other(running, url, Role.COLLABORATION_CHAIR, collaboration="lower_gi")
    hoved = _other(running, url, Role.REGION, region="Hovedstaden")
    dept = _other(running, url, Role.DEPARTMENT, department_id="H42-11")
    with chair, hoved, dept:
        started = chair.post(
            "/v1/solve-runs", json={"today": TODAY, "week": "2026-W48", "collaboration": "lower_gi"}
        )
        assert started.status_code == 200, started.text
        run_id = started.json()["run_id"]
        national = running.nord.post("/v1/solve-runs", json={"today": TODAY}).json()["run_id"]

        seen = [run["run_id"] for run in hoved.get("/v1/solve-runs").json()]
        assert seen == [national, run_id]  # newest first
        assert hoved.get(f"/v1/solve-runs/{run_id}").status_code == 200
        # Nordjylland has no lower_gi patient: the chair's run is not its to see
        nord_runs = [run["run_id"] for run in running.nord.get("/v1/solve-runs").json()]
        assert nord_runs == [national]
        hidden = running.nord.get(f"/v1/solve-runs/{run_id}")
        assert hidden.status_code == 404 and hidden.headers["content-type"] == PROBLEM
        assert running.nord.get(f"/v1/solve-runs/{run_id}/proposals").status_code == 404
        # the chair sees their collaboration's run and the national one (lower_gi proposals)
        assert [r["run_id"] for r in chair.get("/v1/solve-runs").json()] == [national, run_id]
        listed = running.admin.get("/v1/solve-runs").json()
        assert {r["run_id"] for r in listed} >= {national, run_id}
        assert listed[0]["snapshot_id"] and listed[0]["status"] == "done"
        # a department sees the runs with proposals to or from it
        assert national in [r["run_id"] for r in dept.get("/v1/solve-runs").json()]

        def ids(**params: str) -> list[int]:
            response = hoved.get("/v1/solve-runs", params=params)
            assert response.status_code == 200, response.text
            return [r["run_id"] for r in response.json()]

        assert ids(collaboration="lower_gi") == [run_id]
        assert ids(week="2026-W48") == [run_id]
        assert ids(week="2026-W49") == []
        assert ids(status="done") == [national, run_id]
        assert ids(status="failed") == []
        assert hoved.get("/v1/solve-runs", params={"week": "2026-W99"}).status_code == 422
        wrong = hoved.get("/v1/solve-runs", params={"collaboration": "lower-gi"})
        assert wrong.status_code == 422
        assert wrong.json()["errors"][0]["suggestion"] == "lower_gi"
        assert wrong.json()["errors"][0]["field"] == "collaboration"


# ---- paging ------------------------------------------------------------------------------------


def test_every_collection_pages_with_limit_and_cursor(api: tuple[Api, str]) -> None:
    """limit=2 gives two items and a Link to the next page; following the links gives every
    item exactly once, in order; the last page has no Link."""
    running, _ = api
    everyone = running.admin.get("/v1/patients").json()
    assert len(everyone) == 40
    first = running.admin.get("/v1/patients", params={"limit": 2})
    assert first.status_code == 200 and len(first.json()) == 2
    assert first.json() == everyone[:2]
    assert 'rel="next"' in first.headers["link"] and "limit=2" in first.headers["link"]
    paged, pages = _all_pages(running.admin, "/v1/patients", limit=3)
    assert paged == everyone and pages == 14
    own, _ = _all_pages(running.nord, "/v1/patients", limit=3)
    assert {p["home_region"] for p in own} == {REGION} and len(own) == 8
    assert "link" not in running.admin.get("/v1/patients", params={"limit": 40}).headers

    running.nord.post("/v1/solve-runs", json={"today": TODAY}).raise_for_status()
    running.nord.post("/v1/solve-runs", json={"today": TODAY}).raise_for_status()
    for path in (
        "/v1/solve-runs",
        "/v1/solve-runs/1/proposals",
        "/v1/capacity/history",
        "/v1/audit",
        "/v1/tokens",
        "/v1/duty-to-act",
        "/v1/referrals",
        "/v1/departments",
        "/v1/services",
    ):
        whole = running.admin.get(path)
        assert whole.status_code == 200, (path, whole.text)
        paged, pages = _all_pages(running.admin, path, limit=1)
        if path == "/v1/audit":  # reading pages writes nothing, but compare by id
            assert [e["entry_id"] for e in paged] == [e["entry_id"] for e in whole.json()]
        else:
            assert paged == whole.json(), path
        assert pages == max(len(paged), 1), path
    proposals = running.nord.get("/v1/solve-runs/1/proposals").json()
    paged, _ = _all_pages(running.nord, "/v1/solve-runs/1/proposals", limit=3)
    assert paged == proposals and {p["home_region"] for p in paged} == {REGION}

    # a patient's timeline and the referrals, with entries to page through
    held, accepted = [p for p in proposals if p["action"] != "unassigned"][:2]
    decide = "/v1/solve-runs/2/proposals/{}/decision"
    for reason in ("asking", "still asking"):
        hold = {"decision": "hold", "reason": reason}
        assert running.nord.post(decide.format(held["patient_id"]), json=hold).is_success
    accept = {"decision": "accept", "reason": "agreed"}
    assert running.nord.post(decide.format(accepted["patient_id"]), json=accept).is_success
    timeline = f"/v1/patients/{held['patient_id']}/timeline"
    whole = running.nord.get(timeline).json()
    paged, pages = _all_pages(running.nord, timeline, limit=1)
    assert len(whole) >= 2 and paged == whole and pages == len(whole)
    offers = running.nord.get("/v1/referrals").json()
    assert offers and _all_pages(running.nord, "/v1/referrals", limit=1)[0] == offers


def test_bad_limits_and_cursors_are_422_naming_them(api: tuple[Api, str]) -> None:
    """limit outside 1..1000 and a cursor this list did not give out are 422 problem+json."""
    running, _ = api
    for limit in (0, -1, 1001, "x"):
        response = running.nord.get("/v1/patients", params={"limit": limit})
        assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
        assert response.json()["errors"][0]["field"] == "limit"
    runs_cursor = running.admin.get("/v1/tokens", params={"limit": 1}).headers["x-next-cursor"]
    forged = base64.urlsafe_b64encode(b'{"a": 1}').decode()
    for cursor in ("not base64!", "e30", forged, runs_cursor, "W10", "WzEsMl0"):
        response = running.nord.get("/v1/patients", params={"cursor": cursor})
        assert response.status_code == 422, (cursor, response.text)
        assert response.headers["content-type"] == PROBLEM
        assert [e["field"] for e in response.json()["errors"]] == ["cursor"]
    huge = base64.urlsafe_b64encode(b"[99999999999999]").decode().rstrip("=")
    assert running.admin.get("/v1/solve-runs", params={"cursor": huge}).status_code == 422


def test_openapi_says_collections_are_paged(api: tuple[Api, str]) -> None:
    """Every paged collection documents limit and cursor, and its Link / X-Next-Cursor."""
    running, _ = api
    paths = running.anonymous.get("/openapi.json").json()["paths"]
    for path in (
        "/v1/patients",
        "/v1/solve-runs",
        "/v1/solve-runs/{run_id}/proposals",
        "/v1/referrals",
        "/v1/duty-to-act",
        "/v1/capacity/history",
        "/v1/scenario-runs",
        "/v1/tokens",
        "/v1/audit",
        "/v1/patients/{patient_id}/timeline",
        "/v1/departments",
        "/v1/services",
    ):
        get = paths[path]["get"]
        names = {p["name"] for p in get["parameters"]}
        assert {"limit", "cursor"} <= names, path
        assert {"Link", "X-Next-Cursor"} <= set(get["responses"]["200"]["headers"]), path
    patient = paths["/v1/patients/{patient_id}"]
    assert "ETag" in patient["get"]["responses"]["200"]["headers"]
    assert "If-Match" in {p["name"] for p in patient["patch"]["parameters"]}


# ---- every problem at once ---------------------------------------------------------------------


def _patient(api: Api, **changes: Any) -> dict[str, Any]:
    return api.records[0] | changes


def test_every_problem_of_a_body_at_once_with_hints(api: tuple[Api, str]) -> None:
    """An unknown region, a bad date, a missing field, another region's patient and a typo'd
    department: one 422 listing each at its path, with did-you-means; nothing stored."""
    running, _ = api
    first = _patient(running, patient_id="pt-int-0001", home_region="Region Nordjylland")
    second = _patient(running, patient_id="pt-int-0002", earliest_date="2026-13-45")
    third = {k: v for k, v in _patient(running, patient_id="pt-int-0003").items()}
    del third["accepts_foreign"]
    fourth = _patient(running, patient_id="pt-int-0004", home_region="Syddanmark")
    fifth = _patient(running, patient_id="pt-int-0005", home_department_id="H42-1l")
    sixth = _patient(running, patient_id="pt-int-0006", collaboration="brest")
    body = {"patients": [first, second, third, fourth, fifth, sixth]}
    response = running.nord.post("/v1/patients", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    errors = {e["field"]: e for e in response.json()["errors"]}
    assert errors["patients[0].home_region"]["suggestion"] == "Nordjylland"
    assert "did you mean 'Nordjylland'" in errors["patients[0].home_region"]["message"]
    assert "patients[1].earliest_date" in errors
    assert "patients[2].accepts_foreign" in errors
    assert errors["patients[3].home_region"]["message"] == f"not your region ({REGION})"
    assert errors["patients[4].home_department_id"]["suggestion"].startswith("H42-1")
    assert errors["patients[5].collaboration"]["suggestion"] == "breast"
    assert list(errors) == sorted(errors, key=lambda f: int(f.split("[")[1].split("]")[0]))
    ids = {p["patient_id"] for p in running.admin.get("/v1/patients").json()}
    assert not any(i.startswith("pt-int") for i in ids)


def test_a_valid_body_with_only_the_wrong_region_is_still_403(api: tuple[Api, str]) -> None:
    """ "Region Nordjylland" alone is a 422 with the hint (not a bare 403); a valid body naming
    another region is 403 naming the field; another region's pseudonym stays a fixed 403."""
    running, _ = api
    typo = running.nord.post(
        "/v1/patients", json={"patients": [_patient(running, home_region="Region Nordjylland")]}
    )
    assert typo.status_code == 422
    assert typo.json()["errors"] == [
        {
            "field": "patients[0].home_region",
            "message": typo.json()["errors"][0]["message"],
            "suggestion": "Nordjylland",
        }
    ]
    foreign = running.nord.post(
        "/v1/patients", json={"patients": [_patient(running, home_region="Syddanmark")]}
    )
    assert foreign.status_code == 403
    assert [e["field"] for e in foreign.json()["errors"]] == ["patients[0].home_region"]
    theirs = running.admin.get("/v1/patients").json()
    syd = next(p for p in theirs if p["home_region"] == "Syddanmark")
    relabelled = _patient(running, patient_id=syd["patient_id"])
    taken = running.nord.post("/v1/patients", json={"patients": [relabelled]})
    assert taken.status_code == 403
    assert syd["home_department_id"] not in taken.text and "latitude" not in taken.text
    # invalid anyway: every problem, the pseudonym check (against the store) not reached
    both = running.nord.post(
        "/v1/patients",
        json={"patients": [relabelled | {"deadline": "tomorrow", "home_region": "Syddanmark"}]},
    )
    assert both.status_code == 422
    assert {e["field"] for e in both.json()["errors"]} == {
        "patients[0].deadline",
        "patients[0].home_region",
    }


def test_capacity_and_solves_report_every_problem(api: tuple[Api, str], shared_dir: Path) -> None:
    """A declaration with another department's row, a typo'd procedure and a bad date: one
    422; a chair's solve of another collaboration with a bad date: one 422 naming both."""
    running, url = api
    dept = _other(running, url, Role.DEPARTMENT, department_id="H42-11")
    row = {
        "department_id": "H42-11",
        "collaboration": "breast",
        "procedure": "radiotherapy",
        "date": "2026-11-24",
        "free_slots": 2,
    }
    with dept:
        response = dept.post(
            "/v1/capacity",
            json={
                "capacity": [
                    row | {"department_id": "H42-12"},
                    row | {"procedure": "radiotherpy"},
                    row | {"date": "2026-02-30"},
                ]
            },
        )
        assert response.status_code == 422, response.text
        errors = {e["field"]: e for e in response.json()["errors"]}
        assert errors["capacity[0].department_id"]["message"] == "not your department"
        assert errors["capacity[1].procedure"]["suggestion"] == "radiotherapy"
        assert "capacity[2].date" in errors
        only_foreign = dept.post(
            "/v1/capacity", json={"capacity": [row | {"department_id": "H42-12"}]}
        )
        assert only_foreign.status_code == 403
        typo = dept.post("/v1/capacity", json={"capacity": [row | {"department_id": "H42-1"}]})
        assert typo.status_code == 422 and "did you mean" in typo.text
    chair = _other(running, url, Role.COLLABORATION_CHAIR, collaboration="breast")
    with chair:
        response = chair.post(
            "/v1/solve-runs", json={"today": "2026-11-31", "collaboration": "lung"}
        )
        assert response.status_code == 422
        assert {e["field"] for e in response.json()["errors"]} == {"today", "collaboration"}
        other = chair.post("/v1/solve-runs", json={"today": TODAY, "collaboration": "lung"})
        assert other.status_code == 403
    decision = running.nord.post(
        "/v1/solve-runs/1/proposals/x/decision", json={"decision": "acept"}
    )
    assert decision.status_code == 422 and decision.json()["errors"][0]["suggestion"] == "accept"


# ---- conditional requests ----------------------------------------------------------------------


def test_patient_etag_if_match_and_if_none_match(api: tuple[Api, str]) -> None:
    """GET gives a strong ETag; If-None-Match with it is 304; a PATCH with it succeeds and
    gives the new tag; a PATCH with the old tag is 412 and changes nothing; no If-Match is
    allowed."""
    running, _ = api
    patient_id = running.records[0]["patient_id"]
    path = f"/v1/patients/{patient_id}"
    read = running.nord.get(path)
    etag = read.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert running.nord.get(path).headers["etag"] == etag  # stable
    cached = running.nord.get(path, headers={"If-None-Match": etag})
    assert cached.status_code == 304 and cached.content == b"" and cached.headers["etag"] == etag
    assert running.nord.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
    # system A patches with the tag it read
    first = running.nord.patch(path, json={"max_travel_km": 150}, headers={"If-Match": etag})
    assert first.status_code == 200, first.text
    new = first.headers["etag"]
    assert new != etag and running.nord.get(path).headers["etag"] == new
    # system B read before A's write: 412, nothing changed
    stale = running.nord.patch(path, json={"max_travel_km": 999}, headers={"If-Match": etag})
    assert stale.status_code == 412 and stale.headers["content-type"] == PROBLEM
    assert running.nord.get(path).json()["max_travel_km"] == 150
    weak = running.nord.patch(path, json={"max_travel_km": 10}, headers={"If-Match": f"W/{new}"})
    assert weak.status_code == 412
    listed = running.nord.patch(
        path, json={"max_travel_km": 160}, headers={"If-Match": f'"x", {new}'}
    )
    assert listed.status_code == 200
    assert running.nord.patch(
        path, json={"max_travel_km": 170}, headers={"If-Match": "*"}
    ).is_success
    assert running.nord.patch(path, json={"max_travel_km": 180}).status_code == 200
    # a stale tag with a bad body: the body's 422 first; another region's patient: 404
    bad = running.nord.patch(path, json={"deadline": "soon"}, headers={"If-Match": etag})
    assert bad.status_code == 422
    assert (
        running.syd.patch(path, json={"max_travel_km": 1}, headers={"If-Match": new}).status_code
        == 404
    )


def test_capacity_declaration_etag_and_if_match(api: tuple[Api, str]) -> None:
    """The department's current declaration has an ETag; a POST with it succeeds and gives the
    new one; a POST with the old one is 412 and stores nothing; 304 on If-None-Match."""
    running, url = api
    dept = _other(running, url, Role.DEPARTMENT, department_id="H42-11")
    row = {
        "department_id": "H42-11",
        "collaboration": "breast",
        "procedure": "radiotherapy",
        "date": "2026-11-24",
        "free_slots": 2,
    }
    with dept:
        current = running.nord.get("/v1/capacity/current/H42-11")
        assert current.status_code == 200, current.text
        etag = current.headers["etag"]
        body = current.json()
        assert body["department_id"] == "H42-11" and body["capacity"]
        assert {d["week"] for d in body["declarations"]} >= {"2026-W48"}
        assert running.nord.get("/v1/capacity/current/NOPE").status_code == 404
        cached = dept.get("/v1/capacity/current/H42-11", headers={"If-None-Match": etag})
        assert cached.status_code == 304
        # re-post what is current with its tag: unchanged, the tag stays
        same = dept.post(
            "/v1/capacity", json={"capacity": body["capacity"]}, headers={"If-Match": etag}
        )
        assert same.status_code == 200, same.text
        assert same.headers["etag"] == etag
        changed = dept.post(
            "/v1/capacity",
            json={"capacity": [r | {"free_slots": 5} for r in body["capacity"]]},
            headers={"If-Match": etag},
        )
        assert changed.status_code == 200, changed.text
        new = changed.headers["etag"]
        assert (
            new != etag and running.nord.get("/v1/capacity/current/H42-11").headers["etag"] == new
        )
        history = running.nord.get("/v1/capacity/history", params={"department_id": "H42-11"})
        versions = len(history.json())
        assert history.headers["etag"] == new
        stale = dept.post("/v1/capacity", json={"capacity": [row]}, headers={"If-Match": etag})
        assert stale.status_code == 412 and stale.headers["content-type"] == PROBLEM
        after = running.nord.get("/v1/capacity/history", params={"department_id": "H42-11"})
        assert len(after.json()) == versions
        assert dept.post("/v1/capacity", json={"capacity": [row]}).status_code == 200


def test_a_patch_reports_schema_and_record_problems_together(api: tuple[Api, str]) -> None:
    """A PATCH with a bad status and a deadline the contract refuses (year 9999, which the
    schema lets through): one 422 naming both at the body's paths, with a did-you-mean."""
    running, _ = api
    record = running.records[0]
    path = f"/v1/patients/{record['patient_id']}"
    body = {"deadline_status": "paused-health", "deadline": "9999-12-31"}
    response = running.nord.patch(path, json=body)
    assert response.status_code == 422, response.text
    errors = {e["field"]: e for e in response.json()["errors"]}
    assert set(errors) == {"deadline_status", "deadline"}
    assert errors["deadline_status"]["suggestion"] == "paused_health"
    alone = running.nord.patch(path, json={"deadline": "9999-12-31"})
    assert alone.status_code == 422
    assert [e["field"] for e in alone.json()["errors"]] == ["deadline"]
    # another region's patient: the schema's 422 only, nothing about the record
    other = running.syd.patch(path, json=body)
    assert other.status_code == 422
    assert [e["field"] for e in other.json()["errors"]] == ["deadline_status"]


def test_vocabulary_hints_everywhere(api: tuple[Api, str]) -> None:
    """Roles, regions, departments and statuses misspelt in tokens, queries and referrals
    get a did-you-mean; a body with several problems lists all of them."""
    running, _ = api
    token = running.admin.post(
        "/v1/tokens", json={"role": "department", "department_id": "H42-1l", "name": "d"}
    )
    assert token.status_code == 422
    assert token.json()["errors"][0]["suggestion"].startswith("H42-1")
    several = running.admin.post(
        "/v1/tokens",
        json={"role": "regoin", "region": "Region Syddanmark", "name": "r", "department_id": "X"},
    )
    assert several.status_code == 422
    errors = {e["field"]: e for e in several.json()["errors"]}
    assert errors["role"]["suggestion"] == "region"
    assert errors["region"]["suggestion"] == "Syddanmark"
    assert "department_id" in errors
    duty = running.nord.get("/v1/duty-to-act", params={"home_region": "nordjylland"})
    assert duty.status_code == 422 and duty.json()["errors"][0]["suggestion"] == "Nordjylland"
    offers = running.nord.get("/v1/referrals", params={"status": "awaiting-department"})
    assert offers.json()["errors"][0]["suggestion"] == "awaiting_department"


def test_parallel_writers_with_one_etag_exactly_one_wins(api: tuple[Api, str]) -> None:
    """Four systems read the same patient and the same declaration, then write at once with
    that ETag: exactly one write of each is made, the others are 412."""
    running, url = api
    path = f"/v1/patients/{running.records[0]['patient_id']}"
    etag = running.nord.get(path).headers["etag"]
    base = str(running.nord.base_url)
    nord_token = running.nord.headers["authorization"].removeprefix("Bearer ")
    writers = [client(base, nord_token) for _ in range(4)]

    def patch(i: int) -> int:
        body = {"max_travel_km": 100 + i}
        return writers[i].patch(path, json=body, headers={"If-Match": etag}).status_code

    with ThreadPoolExecutor(4) as pool:
        statuses = sorted(pool.map(patch, range(4)))
    assert statuses == [200, 412, 412, 412]
    dept_token = make_token(url, Role.DEPARTMENT, "d", department_id="H42-11")
    departments = [client(base, dept_token) for _ in range(4)]
    current = running.nord.get("/v1/capacity/current/H42-11")
    rows, tag = current.json()["capacity"], current.headers["etag"]

    def declare(i: int) -> int:
        body = {"capacity": [row | {"free_slots": 10 + i} for row in rows]}
        return departments[i].post("/v1/capacity", json=body, headers={"If-Match": tag}).status_code

    with ThreadPoolExecutor(4) as pool:
        statuses = sorted(pool.map(declare, range(4)))
    assert statuses == [200, 412, 412, 412]
    for c in writers + departments:
        c.close()
