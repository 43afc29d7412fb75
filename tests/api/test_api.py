"""The HTTP API over real HTTP (uvicorn on a loopback port), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from api.problems import ApiProblem
from capacity.io import read_folder
from capacity.storage import create_database_engine, load_dataset, upgrade_database
from kapacitet import cli
from tests.http_server import serve
from workflow import runs
from workflow import tables as store
from workflow.access import Role
from workflow.tokens import create_token, token_hash

TODAY = "2026-11-23"
REGION = "Nordjylland"


@dataclass(frozen=True)
class Api:
    """A running server, clients holding tokens of several roles, and the region's records."""

    nord: httpx.Client
    syd: httpx.Client
    chair: httpx.Client
    admin: httpx.Client
    anonymous: httpx.Client
    records: list[dict[str, Any]]


def _records(patients: pd.DataFrame) -> list[dict[str, Any]]:
    """Patients as the JSON records a region would post (contract fields, dates as ISO text)."""
    frame = patients.drop(columns=["deadline_rule"], errors="ignore").astype(object)
    frame = frame.where(frame.notna(), None)
    records = frame.to_dict(orient="records")
    return [
        {
            k: v.date().isoformat() if isinstance(v, pd.Timestamp) else v
            for k, v in record.items()
            if v is not None
        }
        for record in records
    ]


def load_example_without_region(database_url: str, shared_dir: Path) -> list[dict[str, Any]]:
    """Store the example week without Nordjylland's patients; return those as JSON records."""
    dataset = read_folder(shared_dir / "contract" / "example")
    own = dataset.patients["home_region"] == REGION
    load_dataset(database_url, replace(dataset, patients=dataset.patients[~own]))
    return _records(dataset.patients[own])


def make_token(database_url: str, role: Role, name: str, **scope: Any) -> str:
    """A new token of ``role`` stored in the database (as ``kapacitet token create`` does)."""
    engine = create_database_engine(database_url)
    upgrade_database(engine)
    with engine.begin() as connection:
        token, _ = create_token(connection, role, name, **scope)
    engine.dispose()
    return token


def client(base: str, token: str | None) -> httpx.Client:
    """An HTTP client for the server at ``base`` sending ``token`` as its bearer."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=base, headers=headers, timeout=60)


@contextmanager
def running_api(database_url: str, shared_dir: Path, **settings: Any) -> Iterator[Api]:
    """The example week without Nordjylland's patients, served, with clients of four roles."""
    records = load_example_without_region(database_url, shared_dir)
    tokens = {
        "nord": make_token(database_url, Role.REGION, "nord", region=REGION),
        "syd": make_token(database_url, Role.REGION, "syd", region="Syddanmark"),
        "chair": make_token(database_url, Role.COLLABORATION_CHAIR, "chair", collaboration="lung"),
        "admin": make_token(database_url, Role.ADMIN, "admin"),
    }
    with serve(database_url, **{"max_body_bytes": 200_000} | settings) as base:
        clients = {name: client(base, token) for name, token in tokens.items()}
        try:
            yield Api(**clients, anonymous=client(base, None), records=records)
        finally:
            for c in clients.values():
                c.close()


@pytest.fixture
def api(database_url: str, shared_dir: Path) -> Iterator[Api]:
    """The example week stored without Nordjylland's patients, served on a free port."""
    with running_api(database_url, shared_dir) as running:
        yield running


def _post_waiting_list(api: Api) -> None:
    response = api.nord.post("/v1/patients", json={"patients": api.records})
    assert response.status_code == 200, response.text
    assert response.json()["inserted"] == len(api.records)


def _solve(client: httpx.Client) -> dict[str, Any]:
    response = client.post("/v1/solve-runs", json={"today": TODAY})
    assert response.status_code == 200, response.text
    run: dict[str, Any] = response.json()
    return run


def test_readyz_after_migration(api: Api) -> None:
    """A started app has migrated the store and says it is ready."""
    assert api.anonymous.get("/readyz").json() == {"status": "ready"}


def test_openapi_has_request_examples(api: Api) -> None:
    """The OpenAPI document carries examples for the main request bodies."""
    schemas = api.anonymous.get("/openapi.json").json()["components"]["schemas"]
    for name in ("PatientsIn", "SolveRunIn", "DecisionIn", "PatientPatch"):
        assert schemas[name]["examples"], name


def test_region_posts_solves_accepts_and_next_solve_keeps_it(api: Api) -> None:
    """Done-when path: post, solve, read own proposals, accept one, the next solve keeps it."""
    _post_waiting_list(api)
    run = _solve(api.nord)
    assert run["proof"]["certificate"] == "verified"
    assert run["snapshot_at"].endswith(("+00:00", "Z"))
    proposals = api.nord.get(f"/v1/solve-runs/{run['run_id']}/proposals").json()
    assert {p["patient_id"] for p in proposals} == {r["patient_id"] for r in api.records}
    chosen = next(p for p in proposals if p["action"] == "new")
    decided = api.nord.post(
        f"/v1/solve-runs/{run['run_id']}/proposals/{chosen['patient_id']}/decision",
        json={"decision": "accept", "reason": "patient agreed"},
    )
    assert decided.status_code == 200, decided.text
    patient = api.nord.get(f"/v1/patients/{chosen['patient_id']}").json()
    assert (patient["booked_department_id"], patient["booked_date"]) == (
        chosen["department_id"],
        chosen["date"],
    )
    later = _solve(api.nord)
    again = api.nord.get(f"/v1/solve-runs/{later['run_id']}/proposals").json()
    kept = next(p for p in again if p["patient_id"] == chosen["patient_id"])
    assert (kept["action"], kept["department_id"], kept["date"]) == (
        "keep",
        chosen["department_id"],
        chosen["date"],
    )


def test_other_region_cannot_see_the_patients(api: Api) -> None:
    """Another region gets 404 for the patient and finds it in no list or proposal."""
    _post_waiting_list(api)
    run = _solve(api.nord)
    patient_id = api.records[0]["patient_id"]
    response = api.syd.get(f"/v1/patients/{patient_id}")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "home_department_id" not in response.json()
    listed = {p["patient_id"] for p in api.syd.get("/v1/patients").json()}
    assert listed and not listed & {r["patient_id"] for r in api.records}
    proposals = api.syd.get(f"/v1/solve-runs/{run['run_id']}/proposals").json()
    assert {p["home_region"] for p in proposals} == {"Syddanmark"}
    decided = api.syd.post(
        f"/v1/solve-runs/{run['run_id']}/proposals/{patient_id}/decision",
        json={"decision": "accept"},
    )
    assert decided.status_code == 404


def test_rejected_pair_is_not_proposed_again(api: Api) -> None:
    """After a reject, the next solve proposes another department for that patient."""
    _post_waiting_list(api)
    run = _solve(api.nord)
    proposals = api.nord.get(f"/v1/solve-runs/{run['run_id']}/proposals").json()
    chosen = next(p for p in proposals if p["action"] == "new")
    url = f"/v1/solve-runs/{run['run_id']}/proposals/{chosen['patient_id']}/decision"
    assert api.nord.post(url, json={"decision": "reject", "reason": "too far"}).status_code == 200
    assert api.nord.post(url, json={"decision": "accept"}).status_code == 409
    later = _solve(api.nord)
    again = api.nord.get(f"/v1/solve-runs/{later['run_id']}/proposals").json()
    now = next(p for p in again if p["patient_id"] == chosen["patient_id"])
    assert now["department_id"] != chosen["department_id"]
    stale = api.nord.post(url, json={"decision": "hold"})
    assert stale.status_code == 409
    assert stale.headers["content-type"] == "application/problem+json"


def test_a_newer_run_of_another_collaboration_leaves_a_run_decidable(api: Api) -> None:
    """Decisions go on the newest run *for the patient*: another collaboration's newer run does
    not make a run stale (two chairs meet at once); a newer run with the patient does."""
    _post_waiting_list(api)
    collaborations = sorted({r["collaboration"] for r in api.records})
    assert len(collaborations) >= 2
    first, other = collaborations[:2]
    ours = api.nord.post("/v1/solve-runs", json={"today": TODAY, "collaboration": first})
    assert ours.status_code == 200, ours.text
    theirs = api.nord.post("/v1/solve-runs", json={"today": TODAY, "collaboration": other})
    assert theirs.status_code == 200, theirs.text
    run_id = ours.json()["run_id"]
    proposals = api.nord.get(f"/v1/solve-runs/{run_id}/proposals").json()
    assert {p["collaboration"] for p in proposals} == {first}
    one, two = [p for p in proposals if p["action"] != "unassigned"][:2]
    url = f"/v1/solve-runs/{run_id}/proposals/{{}}/decision"
    held = api.nord.post(url.format(one["patient_id"]), json={"decision": "hold"})
    assert held.status_code == 200, held.text
    everyone = _solve(api.nord)
    stale = api.nord.post(url.format(two["patient_id"]), json={"decision": "hold"})
    assert stale.status_code == 409
    assert f"decide on run {everyone['run_id']}" in stale.json()["detail"]


def test_malformed_json_is_422_problem(api: Api) -> None:
    """A body that is not JSON is a 422 problem+json, not a server error."""
    response = api.nord.post(
        "/v1/patients", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_token_create_prints_token_and_stores_only_its_hash(database_url: str) -> None:
    """`kapacitet token create` prints a token once; the database holds its hash, not it."""
    result = CliRunner().invoke(
        cli.app,
        ["token", "create", "--role", "region", "--region", REGION, "--db", database_url],
    )
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[0]
    engine = create_database_engine(database_url)
    with engine.connect() as connection:
        stored = connection.execute(sa.select(store.api_tokens)).one()
    engine.dispose()
    assert (stored.token_hash, stored.role, stored.region) == (token_hash(token), "region", REGION)
    assert token not in str(stored._mapping)


def test_missing_token_401_and_wrong_role_403(api: Api) -> None:
    """No or unknown token is 401 problem+json; a role not allowed is 403."""
    missing = api.anonymous.get("/v1/departments")
    assert missing.status_code == 401
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["status"] == 401
    bogus = api.anonymous.get("/v1/departments", headers={"Authorization": "Bearer nope"})
    assert bogus.status_code == 401
    assert api.chair.post("/v1/patients", json={"patients": api.records}).status_code == 403
    assert api.nord.get("/v1/audit").status_code == 403
    assert api.nord.get("/v1/departments").status_code == 200


def test_other_regions_patients_are_refused(api: Api) -> None:
    """A region posting a patient of another region gets 403 naming the field."""
    response = api.syd.post("/v1/patients", json={"patients": api.records[:1]})
    assert response.status_code == 403
    assert response.json()["errors"][0]["field"] == "patients[0].home_region"


def test_invalid_records_are_422_with_field_paths(api: Api) -> None:
    """A CPR-like id, a bad date and an unknown department are 422 with field paths."""
    records = [dict(record) for record in api.records[:4]]
    records[1]["patient_id"] = "010203-1234"
    records[2]["home_department_id"] = "H42-99"
    response = api.nord.post("/v1/patients", json={"patients": records})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    fields = {error["field"] for error in response.json()["errors"]}
    assert {"patients[1].patient_id", "patients[2].home_department_id"} <= fields
    assert "010203-1234" not in response.text
    records = [dict(api.records[0]), dict(api.records[1])]
    records[1]["deadline"] = "2026-13-45"
    bad_date = api.nord.post("/v1/patients", json={"patients": records})
    assert bad_date.status_code == 422
    assert [e["field"] for e in bad_date.json()["errors"]] == ["patients[1].deadline"]
    assert api.nord.get("/v1/patients").json() == []


def test_missing_deadline_computed_by_rules(api: Api) -> None:
    """A patient posted with clock dates but no deadline gets the rules' deadline."""
    record = {k: v for k, v in api.records[0].items() if k != "deadline"}
    record |= {"clock_start": "2026-11-20", "referral_received": "2026-11-20"}
    response = api.nord.post("/v1/patients", json={"patients": [record]})
    assert response.status_code == 200, response.text
    patient = api.nord.get(f"/v1/patients/{record['patient_id']}").json()
    assert patient["deadline"] and patient["deadline_rule"]


def test_patch_pauses_a_deadline(api: Api) -> None:
    """PATCH changes the deadline status of the region's own patient, not another's."""
    _post_waiting_list(api)
    patient_id = api.records[0]["patient_id"]
    url = f"/v1/patients/{patient_id}"
    patched = api.nord.patch(url, json={"deadline_status": "paused_health"})
    assert patched.status_code == 200 and patched.json()["deadline_status"] == "paused_health"
    assert api.syd.patch(url, json={"deadline_status": "active"}).status_code == 404
    assert api.nord.patch(url, json={"deadline_status": "sleeping"}).status_code == 422


def test_oversized_body_is_413(api: Api) -> None:
    """A body over the configured limit is refused with 413 before it is read."""
    response = api.nord.post("/v1/patients", json={"patients": api.records * 500})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


def test_every_write_is_audited(api: Api) -> None:
    """Posting, patching, solving and deciding each append an audit entry the admin can read."""
    _post_waiting_list(api)
    patient_id = api.records[0]["patient_id"]
    api.nord.patch(f"/v1/patients/{patient_id}", json={"deadline_status": "paused_health"})
    run = _solve(api.nord)
    url = f"/v1/solve-runs/{run['run_id']}/proposals/{patient_id}/decision"
    assert api.nord.post(url, json={"decision": "hold"}).status_code == 200
    entries = api.admin.get("/v1/audit").json()
    writes = [(e["method"], e["path"].split("/")[2], e["token_name"]) for e in entries[:4]]
    assert writes == [
        ("POST", "solve-runs", "nord"),
        ("POST", "solve-runs", "nord"),
        ("PATCH", "patients", "nord"),
        ("POST", "patients", "nord"),
    ]
    patch = entries[2]
    assert (patch["before"]["deadline_status"], patch["after"]["deadline_status"]) == (
        "active",
        "paused_health",
    )
    assert sum(e["path"] == "token create" for e in entries) == 4


def test_accept_of_a_slot_declared_away_is_409(
    api: Api, database_url: str, shared_dir: Path
) -> None:
    """A department re-declares the proposed day without free slots: accepting it is 409."""
    _post_waiting_list(api)
    run = _solve(api.nord)
    proposals = api.nord.get(f"/v1/solve-runs/{run['run_id']}/proposals").json()
    chosen = next(p for p in proposals if p["action"] == "new")
    capacity = read_folder(shared_dir / "contract" / "example").capacity
    day = pd.Timestamp(chosen["date"])
    week = capacity["date"].dt.isocalendar().week == day.isocalendar().week
    declared = capacity[(capacity["department_id"] == chosen["department_id"]) & week].copy()
    slot = (declared["date"] == day) & (declared["procedure"] == chosen["procedure"])
    slot &= declared["collaboration"] == chosen["collaboration"]
    declared.loc[slot, "free_slots"] = 0
    dataset = read_folder(shared_dir / "contract" / "example")
    empty = dataset.patients.iloc[:0]
    load_dataset(database_url, replace(dataset, capacity=declared, patients=empty))
    url = f"/v1/solve-runs/{run['run_id']}/proposals/{chosen['patient_id']}/decision"
    response = api.nord.post(url, json={"decision": "accept"})
    assert response.status_code == 409
    assert "no longer free" in response.json()["detail"]


def test_accepted_booking_holds_its_declared_slot(api: Api, database_url: str) -> None:
    """An accepted proposal counts against its day's declared free slots in later solves."""
    _post_waiting_list(api)
    run = _solve(api.nord)
    proposals = api.nord.get(f"/v1/solve-runs/{run['run_id']}/proposals").json()
    chosen = next(p for p in proposals if p["action"] == "new")
    url = f"/v1/solve-runs/{run['run_id']}/proposals/{chosen['patient_id']}/decision"
    assert api.nord.post(url, json={"decision": "accept"}).status_code == 200
    engine = create_database_engine(database_url)
    with engine.connect() as connection:
        held = store.held_by_acceptances(connection)
    engine.dispose()
    assert held[["department_id", "procedure", "held"]].values.tolist() == [
        [chosen["department_id"], chosen["procedure"], 1]
    ]
    assert held["date"].dt.date.astype(str).tolist() == [chosen["date"]]


def _department_client(api: Api, database_url: str, department_id: str) -> httpx.Client:
    engine = create_database_engine(database_url)
    with engine.begin() as connection:
        token, _ = create_token(connection, Role.DEPARTMENT, "dept", department_id=department_id)
    engine.dispose()
    return httpx.Client(
        base_url=str(api.nord.base_url), headers={"Authorization": f"Bearer {token}"}, timeout=60
    )


def test_department_declares_its_week_idempotently_with_history(
    api: Api, database_url: str
) -> None:
    """A declaration supersedes the week's previous one; re-posting it changes nothing."""
    rows = [
        {
            "department_id": "H42-11",
            "collaboration": "breast",
            "procedure": "radiotherapy",
            "date": "2026-11-24",
            "free_slots": 3,
        },
        {
            "department_id": "H42-11",
            "collaboration": "breast",
            "procedure": "radiotherapy",
            "date": "2026-11-25",
            "free_slots": 1,
        },
    ]
    with _department_client(api, database_url, "H42-11") as department:
        first = department.post("/v1/capacity", json={"capacity": rows})
        assert first.status_code == 200, first.text
        assert first.json() == {"new": 1, "superseded": 1, "unchanged": 0}
        again = department.post("/v1/capacity", json={"capacity": rows})
        assert again.json() == {"new": 0, "superseded": 0, "unchanged": 1}
        other = department.post(
            "/v1/capacity", json={"capacity": [rows[0] | {"department_id": "H42-12"}]}
        )
        assert other.status_code == 403
    history = api.syd.get("/v1/capacity/history", params={"department_id": "H42-11"}).json()
    week = [h for h in history if h["week"] == "2026-W48"]
    assert [h["version"] for h in week] == [1, 2]
    assert [h["superseded"] for h in week] == [True, False]
    assert week[-1]["free_slots"] == 4
    audit = api.admin.get("/v1/audit").json()
    assert any(entry["path"] == "/v1/capacity" for entry in audit)


def test_declaration_errors_name_the_field(api: Api, database_url: str) -> None:
    """A service the department does not offer and negative slots are 422 with field paths."""
    with _department_client(api, database_url, "H42-11") as department:
        bad = department.post(
            "/v1/capacity",
            json={
                "capacity": [
                    {
                        "department_id": "H42-11",
                        "collaboration": "lung",
                        "procedure": "surgery",
                        "date": "2026-11-24",
                        "free_slots": 1,
                    }
                ]
            },
        )
        assert bad.status_code == 422
        assert bad.headers["content-type"].startswith("application/problem+json")
        assert any(e["field"].startswith("capacity[0]") for e in bad.json()["errors"])
        negative = department.post(
            "/v1/capacity",
            json={
                "capacity": [
                    {
                        "department_id": "H42-11",
                        "collaboration": "breast",
                        "procedure": "radiotherapy",
                        "date": "2026-11-24",
                        "free_slots": -1,
                    }
                ]
            },
        )
        assert negative.status_code == 422


def _wait_until_done(api_client: httpx.Client, location: str) -> dict[str, Any]:
    """Poll a queued run until it is done or failed (at most 60 s)."""
    deadline = time.monotonic() + 60
    while True:
        run: dict[str, Any] = api_client.get(location).json()
        if run["status"] in ("done", "failed"):
            return run
        assert time.monotonic() < deadline, f"run still {run['status']}"
        time.sleep(0.05)


def test_large_solve_is_202_and_runs_in_the_background(
    database_url: str, shared_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At the async threshold a solve is 202 + Location; proposals are 409 until it is done."""
    release = threading.Event()
    execute = runs.execute_run

    def held_back(bound: sa.Engine, run_id: int) -> Any:
        release.wait(30)
        return execute(bound, run_id)

    monkeypatch.setattr(runs, "execute_run", held_back)
    with running_api(database_url, shared_dir, async_threshold=10) as api:
        _post_waiting_list(api)
        response = api.nord.post("/v1/solve-runs", json={"today": TODAY})
        assert response.status_code == 202, response.text
        location = response.headers["location"]
        assert location == f"/v1/solve-runs/{response.json()['run_id']}"
        assert response.json()["status"] == "queued" and response.json()["tiers"] is None
        assert response.json()["patients"] == 40
        waiting = api.nord.get(f"{location}/proposals")
        assert waiting.status_code == 409
        assert waiting.headers["content-type"] == "application/problem+json"
        assert "queued" in waiting.json()["detail"]
        release.set()
        run = _wait_until_done(api.nord, location)
        assert run["status"] == "done", run
        assert run["proof"]["certificate"] == "verified"
        assert run["snapshot_id"] and run["snapshot_at"] and run["patients"] == 40
        proposals = api.nord.get(f"{location}/proposals").json()
        assert {p["patient_id"] for p in proposals} == {r["patient_id"] for r in api.records}


def test_small_solve_stays_synchronous_below_the_threshold(
    database_url: str, shared_dir: Path
) -> None:
    """Below the threshold the same request answers 200 with the finished run."""
    with running_api(database_url, shared_dir, async_threshold=41) as api:
        _post_waiting_list(api)
        run = _solve(api.nord)
        assert run["status"] == "done" and run["patients"] == 40


def test_each_solve_names_the_data_version_it_read(api: Api) -> None:
    """Two solves of unchanged data name the same snapshot; a post in between changes it."""
    first = _solve(api.nord)
    again = _solve(api.nord)
    assert first["snapshot_id"] == again["snapshot_id"]
    _post_waiting_list(api)
    later = _solve(api.nord)
    assert later["snapshot_id"] != first["snapshot_id"]
    assert later["snapshot_at"] > first["snapshot_at"]


def test_a_failed_background_run_says_why(
    database_url: str, shared_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A background solve that raises is 'failed' with its error; its proposals are 409."""

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ApiProblem(503, "the store changed during each of 5 snapshot reads; try again")

    monkeypatch.setattr(runs, "read_consistent_snapshot", broken)
    with running_api(database_url, shared_dir, async_threshold=1) as api:
        response = api.nord.post("/v1/solve-runs", json={"today": TODAY})
        assert response.status_code == 202
        run = _wait_until_done(api.nord, response.headers["location"])
        assert run["status"] == "failed" and "snapshot reads" in run["error"]
        refused = api.nord.get(f"{response.headers['location']}/proposals")
        assert refused.status_code == 409 and "failed" in refused.json()["detail"]


def test_expired_and_revoked_tokens_are_401(api: Api, database_url: str) -> None:
    """A token past its expiry or revoked is refused with 401 problem+json."""
    engine = create_database_engine(database_url)
    with engine.begin() as connection:
        past = store.now() - dt.timedelta(seconds=1)
        expired, _ = create_token(connection, Role.REGION, "old", region=REGION, expires_at=past)
        future = store.now() + dt.timedelta(days=1)
        fresh, fresh_id = create_token(
            connection, Role.REGION, "new", region=REGION, expires_at=future
        )
    engine.dispose()
    base = str(api.nord.base_url)
    with client(base, expired) as old, client(base, fresh) as new:
        refused = old.get("/v1/departments")
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
        assert "expired" in refused.json()["detail"]
        assert new.get("/v1/departments").status_code == 200
        revoked = api.admin.delete(f"/v1/tokens/{fresh_id}")
        assert revoked.status_code == 200 and revoked.json()["revoked_at"]
        gone = new.get("/v1/departments")
        assert gone.status_code == 401 and "revoked" in gone.json()["detail"]


def test_admin_creates_lists_and_revokes_tokens_over_the_api(api: Api) -> None:
    """POST /v1/tokens shows a working token once; the list never holds hashes; all audited."""
    created = api.admin.post(
        "/v1/tokens",
        json={"role": "region", "region": "Syddanmark", "name": "syd 2", "expires_in": "90d"},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    expires = dt.datetime.fromisoformat(body["expires_at"])
    assert dt.timedelta(days=89) < expires - dt.datetime.now(dt.UTC) <= dt.timedelta(days=90)
    with client(str(api.nord.base_url), body["token"]) as holder:
        assert holder.get("/v1/patients").status_code == 200
    listed = api.admin.get("/v1/tokens").json()
    assert body["token_id"] in {t["token_id"] for t in listed}
    assert "token_hash" not in listed[0] and body["token"] not in str(listed)
    assert api.nord.get("/v1/tokens").status_code == 403
    missing_scope = api.admin.post("/v1/tokens", json={"role": "department", "name": "d"})
    assert missing_scope.status_code == 422
    bad_expiry = api.admin.post(
        "/v1/tokens", json={"role": "admin", "name": "a", "expires_in": "soon"}
    )
    assert [e["field"] for e in bad_expiry.json()["errors"]] == ["expires_in"]
    assert api.admin.delete("/v1/tokens/999999").status_code == 404
    api.admin.delete(f"/v1/tokens/{body['token_id']}")
    audit = api.admin.get("/v1/audit").json()
    assert [(e["method"], e["resource_id"]) for e in audit[:2]] == [
        ("DELETE", str(body["token_id"])),
        ("POST", str(body["token_id"])),
    ]


def test_cli_token_expiry_list_and_revoke(database_url: str) -> None:
    """`token create --expires-in 90d`, `token list` and `token revoke ID` from the shell."""
    runner = CliRunner()
    created = runner.invoke(
        cli.app,
        ["token", "create", "--role", "admin", "--expires-in", "90d", "--db", database_url],
    )
    assert created.exit_code == 0, created.output
    listed = runner.invoke(cli.app, ["token", "list", "--db", database_url])
    assert listed.exit_code == 0, listed.output
    row = listed.stdout.splitlines()[1].split("\t")
    assert row[1] == "admin" and row[5].startswith(
        str((dt.datetime.now(dt.UTC) + dt.timedelta(days=90)).date())
    )
    revoked = runner.invoke(cli.app, ["token", "revoke", row[0], "--db", database_url])
    assert revoked.exit_code == 0 and "revoked" in revoked.stdout
    listed = runner.invoke(cli.app, ["token", "list", "--db", database_url])
    assert listed.stdout.splitlines()[1].split("\t")[6] != "-"
    unknown = runner.invoke(cli.app, ["token", "revoke", "424242", "--db", database_url])
    assert unknown.exit_code == 1
    bad = runner.invoke(
        cli.app, ["token", "create", "--role", "admin", "--expires-in", "x", "--db", database_url]
    )
    assert bad.exit_code == 2 and "--expires-in" in bad.output


def test_inputs_schemathesis_found_are_4xx_not_500(api: Api) -> None:
    """A week not in the ISO calendar, an id beyond the database's integers, a NUL character
    and a solve with no patients in scope are 422 problem+json naming the field."""
    week = api.nord.post("/v1/solve-runs", json={"today": TODAY, "week": "2025-W53"})
    assert week.status_code == 422 and week.json()["errors"][0]["field"] == "week"
    huge = api.nord.get(f"/v1/solve-runs/{2**70}")
    assert huge.status_code == 422 and huge.json()["errors"][0]["field"] == "run_id"
    nul = api.nord.get("/v1/capacity/history", params={"department_id": "H42\x0011"})
    assert nul.status_code in (200, 422)  # SQLite stores NUL; PostgreSQL refuses it: 422
    assert nul.status_code == 200 or nul.headers["content-type"] == "application/problem+json"
    empty = api.nord.post("/v1/solve-runs", json={"today": TODAY, "collaboration": "urinary"})
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "collaboration"


SMALL_SCENARIO = """name: auh_loss_small
base: {type: reference, week: 2026-W48, scale: 0.05}
horizon_weeks: 2
capacity:
  changes:
    - {type: reduce, department: AUH-KIR, collaboration: upper_gi, procedure: surgery,
       percent: 50, weeks: [1, 2]}
replications: 1
"""


def test_scenario_run_is_queued_and_reports_kpis(database_url: str, shared_dir: Path) -> None:
    """A posted YAML scenario is 202 + Location; polled, it ends done with its KPI summary."""
    unit_token = make_token(database_url, Role.SPECIALIST_UNIT, "unit")
    with (
        running_api(database_url, shared_dir) as api,
        client(str(api.nord.base_url), unit_token) as unit,
    ):
        response = unit.post("/v1/scenario-runs", json={"yaml": SMALL_SCENARIO})
        assert response.status_code == 202, response.text
        location = response.headers["location"]
        assert response.json()["status"] == "queued" and response.json()["replications"] == 1
        assert api.nord.get(location).status_code == 403
        run = _wait_until_done(unit, location)
        assert run["status"] == "done", run
        kpis = {k["kpi"]: k for k in run["summary"]["kpis"]}
        assert 0 <= kpis["within_share"]["mean"] <= 1
        assert run["summary"]["metadata"]["replications"] == 1
        audit = api.admin.get("/v1/audit").json()
        assert audit[0]["path"] == "/v1/scenario-runs" and "AUH-KIR" in audit[0]["after"]["yaml"]
        listed = unit.get("/v1/scenario-runs", params={"status": "done"}).json()
        assert [(r["run_id"], r["status"]) for r in listed] == [(run["run_id"], "done")]
        assert "summary" not in listed[0]  # the list is brief; the run itself has the KPIs
        assert unit.get("/v1/scenario-runs", params={"status": "queued"}).json() == []
        assert unit.get("/v1/scenario-runs", params={"status": "nope"}).status_code == 422
        assert api.nord.get("/v1/scenario-runs").status_code == 403


def test_invalid_scenario_is_422_with_yaml_paths(api: Api) -> None:
    """Scenario mistakes are 422 problem+json naming the YAML path; folder bases are refused."""
    mistakes = SMALL_SCENARIO.replace("percent: 50", "percent: 500").replace(
        "type: reference", "type: refrence"
    )
    response = api.admin.post("/v1/scenario-runs", json={"yaml": mistakes})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    fields = [e["field"] for e in response.json()["errors"]]
    assert "base.type" in fields
    broken = api.admin.post("/v1/scenario-runs", json={"yaml": "name: [unclosed"})
    assert [e["field"] for e in broken.json()["errors"]] == ["yaml"]
    folder = SMALL_SCENARIO.replace(
        "{type: reference, week: 2026-W48, scale: 0.05}", "{type: folder, path: /etc}"
    )
    refused = api.admin.post("/v1/scenario-runs", json={"yaml": folder})
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {"field": "base.type", "message": "only 'reference' over the API"}
    ]
    too_many = api.admin.post(
        "/v1/scenario-runs", json={"yaml": SMALL_SCENARIO, "replications": 51}
    )
    assert [e["field"] for e in too_many.json()["errors"]] == ["replications"]
    percent = SMALL_SCENARIO.replace("percent: 50", "percent: 500")
    out_of_range = api.admin.post("/v1/scenario-runs", json={"yaml": percent})
    assert [e["field"] for e in out_of_range.json()["errors"]] == ["capacity.changes[0].percent"]


MOVED = "pt42x00005"  # Midtjylland, booked at H42-07 on 2026-12-01 after its deadline
SLOT = ("H42-07", "lower_gi", "chemotherapy", "2026-12-01")  # declared free: 0


def _proposal(client_: httpx.Client, run_id: int, patient_id: str) -> dict[str, Any]:
    proposals = client_.get(f"/v1/solve-runs/{run_id}/proposals").json()
    return next(p for p in proposals if p["patient_id"] == patient_id)


def _week_declaration(shared_dir: Path, department_id: str, week: int) -> list[dict[str, Any]]:
    capacity = read_folder(shared_dir / "contract" / "example").capacity
    rows = capacity[
        (capacity["department_id"] == department_id)
        & (capacity["date"].dt.isocalendar().week == week)
    ]
    return [
        {
            "department_id": r.department_id,
            "collaboration": r.collaboration,
            "procedure": r.procedure,
            "date": r.date.date().isoformat(),
            "free_slots": int(r.free_slots),
        }
        for r in rows.itertuples()
    ]


def test_slot_freed_by_an_accepted_move_waits_for_a_declaration(
    api: Api, database_url: str, shared_dir: Path
) -> None:
    """A booked patient's accepted move frees its old slot, but no later solve offers it (nor
    may a proposal relying on it be accepted) until the department declares it free."""
    base = str(api.nord.base_url)
    mid = client(base, make_token(database_url, Role.REGION, "mid", region="Midtjylland"))
    latitude, longitude = 55.35171, 10.33937  # H42-07: the new patient's only reachable option
    waiting = {
        "patient_id": "pt42y00001",
        "collaboration": "lower_gi",
        "procedure": "chemotherapy",
        "home_region": "Midtjylland",
        "home_department_id": "H42-07",
        "latitude": latitude,
        "longitude": longitude,
        "earliest_date": "2026-11-24",
        "deadline": "2026-12-10",
        "max_travel_km": 5,
        "accepts_private": False,
        "accepts_foreign": False,
    }
    with mid:
        assert mid.post("/v1/patients", json={"patients": [waiting]}).status_code == 200
        first = _solve(api.admin)["run_id"]
        moved = _proposal(mid, first, MOVED)
        assert (moved["action"], moved["booked_department_id"]) == ("move", "H42-07")
        relying = _proposal(mid, first, "pt42y00001")
        assert (relying["department_id"], relying["date"]) == (SLOT[0], SLOT[3])
        decision = f"/v1/solve-runs/{first}/proposals/{{}}/decision"
        accepted = mid.post(decision.format(MOVED), json={"decision": "accept"})
        assert accepted.status_code == 200, accepted.text
        refused = mid.post(decision.format("pt42y00001"), json={"decision": "accept"})
        assert refused.status_code == 409 and "no longer free" in refused.json()["detail"]

        second = _solve(api.admin)["run_id"]
        assert _proposal(mid, second, MOVED)["action"] == "keep"
        assert _proposal(mid, second, "pt42y00001")["action"] == "unassigned"

        rows = _week_declaration(shared_dir, "H42-07", 49)
        for row in rows:
            if (row["collaboration"], row["procedure"], row["date"]) == SLOT[1:]:
                row["free_slots"] = 1
        with _department_client(api, database_url, "H42-07") as department:
            declared = department.post("/v1/capacity", json={"capacity": rows})
            assert declared.status_code == 200, declared.text
        third = _solve(api.admin)["run_id"]
        placed = _proposal(mid, third, "pt42y00001")
        assert (placed["action"], placed["department_id"], placed["date"]) == (
            "new",
            SLOT[0],
            SLOT[3],
        )


def test_weekly_caps_declared_over_the_api_bind_the_solve(api: Api, database_url: str) -> None:
    """A department's weekly cap of 0 keeps the next solve from placing anyone there that week;
    re-posting it changes nothing, and caps are checked like weekly_caps.csv."""
    base = str(api.nord.base_url)
    with client(base, make_token(database_url, Role.REGION, "mid", region="Midtjylland")) as mid:
        before = _proposal(mid, _solve(api.admin)["run_id"], MOVED)
        assert before["department_id"] == "H42-10"
        cap = {
            "department_id": "H42-10",
            "collaboration": "lower_gi",
            "procedure": "chemotherapy",
            "week": pd.Timestamp(before["date"]).strftime("%G-W%V"),
            "max_slots": 0,
        }
        with _department_client(api, database_url, "H42-10") as department:
            posted = department.post("/v1/capacity", json={"weekly_caps": [cap]})
            assert posted.status_code == 200, posted.text
            assert posted.json()["weekly_caps"] == {"inserted": 1, "updated": 0, "unchanged": 0}
            again = department.post("/v1/capacity", json={"weekly_caps": [cap]})
            assert again.json()["weekly_caps"] == {"inserted": 0, "updated": 0, "unchanged": 1}
            other = department.post(
                "/v1/capacity", json={"weekly_caps": [cap | {"department_id": "H42-07"}]}
            )
            assert other.status_code == 403
            assert other.json()["errors"][0]["field"] == "weekly_caps[0].department_id"
            unoffered = department.post(
                "/v1/capacity", json={"weekly_caps": [cap | {"collaboration": "lung"}]}
            )
            assert unoffered.status_code == 422
            assert unoffered.json()["errors"][0]["field"].startswith("weekly_caps[0]")
            empty = department.post("/v1/capacity", json={})
            assert empty.status_code == 422
        after = _proposal(mid, _solve(api.admin)["run_id"], MOVED)
        week_of = pd.Timestamp(after["date"]).strftime("%G-W%V") if after["date"] else None
        assert (after["department_id"], week_of) != ("H42-10", cap["week"])


@pytest.mark.slow
def test_api_benchmark_smoke() -> None:
    """bench/api.py at a tiny size measures both workloads at 1 and 2 clients."""
    from bench.api import report, run_benchmark

    summary = run_benchmark(
        scale=0.02, clients=2, requests=1, cheap_requests=2, baseline_requests=1
    )
    assert [(r["workload"], r["clients"]) for r in summary["results"]] == [
        ("solve", 1),
        ("solve", 2),
        ("read run", 1),
        ("read run", 2),
    ]
    assert "req/s ratio" in report(summary)


def test_every_request_body_in_openapi_has_an_example(api: Api) -> None:
    """Each JSON request body the OpenAPI document describes carries at least one example."""
    document = api.anonymous.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    missing = []
    for path, operations in document["paths"].items():
        if path.startswith("/v1/fhir"):
            continue  # FHIR bodies are FHIR resources, documented by HL7 (another engineer's)
        for method, operation in operations.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is None:
                continue
            name = body["schema"]["$ref"].rsplit("/", 1)[-1]
            if not schemas[name].get("examples"):
                missing.append(f"{method.upper()} {path}: {name}")
    assert missing == []


def test_chunked_body_over_the_limit_is_413(api: Api) -> None:
    """A body streamed without Content-Length is cut off at the limit with 413 problem+json."""

    def chunks() -> Iterator[bytes]:
        yield b'{"patients": ['
        for _ in range(400):
            yield b'{"patient_id": "pt42x00001", "collaboration": "breast"},' * 10
        yield b"{}]}"

    response = api.nord.post(
        "/v1/patients", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
