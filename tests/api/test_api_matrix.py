"""Every /v1 endpoint × every role gets the expected status, over real HTTP (SQLite, PostgreSQL).

The table below must name every route the app serves under ``/v1`` (the test fails for a route
without a row, and for a row without a route), so a new endpoint cannot ship unchecked.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from api.app import create_app
from capacity.storage import create_database_engine, schema
from tests.api.test_api import REGION, TODAY, client, load_example_without_region, make_token
from tests.http_server import serve
from workflow import tables as store
from workflow.access import Role
from workflow.tokens import create_token

#: Routes left out of the matrix (none: FHIR has its rows below).
TODO_ROUTES: tuple[str, ...] = ()

#: The callers: no token, an expired token, and one token of each role ("other_region" is a
#: region token of Syddanmark, asking for Nordjylland's patient).
CALLERS = (
    "none",
    "expired",
    "region",
    "other_region",
    "department",
    "collaboration_chair",
    "specialist_unit",
    "admin",
)
FHIR_JSON = "application/fhir+json"
PATIENT = "pt42x00011"  # Nordjylland, breast radiotherapy, home department H42-11
DEPARTMENT = "H42-11"
COLLABORATION = "breast"


def _all(status: int) -> dict[str, int]:
    """Every valid token gets ``status``; no token and an expired one get 401."""
    return {"none": 401, "expired": 401} | {caller: status for caller in CALLERS[2:]}


def _only(allowed: dict[str, int], otherwise: int = 403) -> dict[str, int]:
    return _all(otherwise) | allowed


@dataclass(frozen=True)
class Row:
    """One endpoint: how to call it and the status each caller gets."""

    method: str
    path: str
    expected: dict[str, int]
    body: Callable[[Context], Any] | None = None
    params: Callable[[Context], dict[str, str]] = field(default=lambda ctx: {})
    content_type: str = "application/json"


@dataclass
class Context:
    """What the rows' bodies and path parameters need: records, ids made along the way."""

    records: list[dict[str, Any]]
    database_url: str
    engine: sa.Engine

    def latest_run(self) -> str:
        with self.engine.begin() as conn:
            return str(store.latest_run_id(conn))

    def scenario_run(self) -> str:
        """A finished scenario run stored directly (simulating one here would take seconds)."""
        with self.engine.begin() as conn:
            run_id = conn.execute(
                store.scenario_runs.insert()
                .values(
                    name="matrix",
                    status="done",
                    requested_at=store.now(),
                    replications=1,
                    scenario={"name": "matrix"},
                    summary={"kpis": []},
                )
                .returning(store.scenario_runs.c.run_id)
            ).scalar_one()
        return str(run_id)

    def offer(self, status: str) -> str:
        """A fresh offer of the region's patient at its home department, stored directly."""
        with self.engine.begin() as conn:
            offer_id = conn.execute(
                schema.referral_offers.insert()
                .values(
                    run_id=int(self.latest_run()),
                    patient_id=PATIENT,
                    department_id=DEPARTMENT,
                    date=dt.date(2026, 11, 30),
                    status=status,
                    offered_at=store.now(),
                )
                .returning(schema.referral_offers.c.offer_id)
            ).scalar_one()
        return str(offer_id)

    def throwaway_token(self) -> str:
        with self.engine.begin() as conn:
            _, token_id = create_token(conn, Role.ADMIN, "throwaway")
        return str(token_id)


ROWS = (
    Row("GET", "/v1/departments", _all(200)),
    Row("GET", "/v1/referrals", _all(200)),
    Row(
        "POST",
        "/v1/referrals/{offer_id}/confirm",
        _only({"department": 200}),
        body=lambda ctx: {"confirmed": True},
        params=lambda ctx: {"offer_id": ctx.offer("awaiting_department")},
    ),
    Row(
        "POST",
        "/v1/referrals/{offer_id}/answer",
        _only({"region": 200, "other_region": 404}),
        body=lambda ctx: {"accepted": True},
        params=lambda ctx: {"offer_id": ctx.offer("awaiting_patient")},
    ),
    Row(
        "GET",
        "/v1/patients/{patient_id}/timeline",
        _all(200) | {"other_region": 404},
        params=lambda ctx: {"patient_id": PATIENT},
    ),
    Row("GET", "/v1/duty-to-act", _all(200)),
    Row("GET", "/v1/services", _all(200)),
    Row(
        "POST",
        "/v1/patients",
        _only({"region": 200}),
        body=lambda ctx: {"patients": [r for r in ctx.records if r["patient_id"] == PATIENT]},
    ),
    Row("GET", "/v1/patients", _all(200)),
    Row(
        "GET",
        "/v1/patients/{patient_id}",
        _all(200) | {"other_region": 404},
        params=lambda ctx: {"patient_id": PATIENT},
    ),
    Row(
        "PATCH",
        "/v1/patients/{patient_id}",
        _only({"region": 200, "other_region": 404}),
        body=lambda ctx: {"max_travel_km": 300},
        params=lambda ctx: {"patient_id": PATIENT},
    ),
    Row(
        "POST",
        "/v1/capacity",
        _only({"department": 200}),
        body=lambda ctx: {
            "capacity": [
                {
                    "department_id": DEPARTMENT,
                    "collaboration": COLLABORATION,
                    "procedure": "radiotherapy",
                    "date": "2026-11-24",
                    "free_slots": 2,
                }
            ]
        },
    ),
    Row("GET", "/v1/capacity/history", _all(200)),
    Row(
        "GET",
        "/v1/capacity/current/{department_id}",
        _all(200),
        params=lambda ctx: {"department_id": DEPARTMENT},
    ),
    Row("GET", "/v1/solve-runs", _all(200)),
    Row(
        "GET",
        "/v1/capacity/template.xlsx",
        _only({"department": 200}),
        params=lambda ctx: {"weeks": "2026-W48"},
    ),
    # a JSON body is no workbook: the department gets 422, everyone else 403 before reading it
    Row("POST", "/v1/capacity/workbook", _only({"department": 422}), body=lambda ctx: {}),
    Row(
        "POST",
        "/v1/solve-runs",
        _only({"region": 200, "other_region": 200, "collaboration_chair": 200})
        | {"specialist_unit": 200, "admin": 200},
        body=lambda ctx: {"today": TODAY},
    ),
    Row(
        "GET",
        "/v1/solve-runs/{run_id}",
        _all(200),
        params=lambda ctx: {"run_id": ctx.latest_run()},
    ),
    Row(
        "GET",
        "/v1/solve-runs/{run_id}/proposals",
        _all(200),
        params=lambda ctx: {"run_id": ctx.latest_run()},
    ),
    Row(
        "POST",
        "/v1/solve-runs/{run_id}/proposals/{patient_id}/decision",
        _only({"region": 200, "other_region": 404, "collaboration_chair": 200}),
        body=lambda ctx: {"decision": "hold", "reason": "asking the patient"},
        params=lambda ctx: {"run_id": ctx.latest_run(), "patient_id": PATIENT},
    ),
    # the latest run (admin's, above) is done: the unit and admin learn there is nothing to
    # cancel; the others did not start it
    Row(
        "POST",
        "/v1/solve-runs/{run_id}/cancel",
        _only({"specialist_unit": 409, "admin": 409}),
        params=lambda ctx: {"run_id": ctx.latest_run()},
    ),
    Row("GET", "/v1/audit", _only({"admin": 200})),
    # a scenario naming an unknown department: past authorisation it is 422, not a simulation
    Row(
        "POST",
        "/v1/scenario-runs",
        _only({"specialist_unit": 422, "admin": 422}),
        body=lambda ctx: {"yaml": "name: x\nbase: {type: reference}\nhorizon_weeks: 0\n"},
    ),
    Row("GET", "/v1/scenario-runs", _only({"specialist_unit": 200, "admin": 200})),
    Row(
        "GET",
        "/v1/scenario-runs/{run_id}",
        _only({"specialist_unit": 200, "admin": 200}),
        params=lambda ctx: {"run_id": ctx.scenario_run()},
    ),
    Row(
        "POST",
        "/v1/scenario-runs/{run_id}/cancel",
        _only({"specialist_unit": 409, "admin": 409}),
        params=lambda ctx: {"run_id": ctx.scenario_run()},
    ),
    Row(
        "POST",
        "/v1/tokens",
        _only({"admin": 201}),
        body=lambda ctx: {"role": "specialist_unit", "name": "matrix", "expires_in": "1d"},
    ),
    Row("GET", "/v1/tokens", _only({"admin": 200})),
    Row(
        "DELETE",
        "/v1/tokens/{token_id}",
        _only({"admin": 200}),
        params=lambda ctx: {"token_id": ctx.throwaway_token()},
    ),
    Row(
        "POST",
        "/v1/fhir",
        _only({"region": 422, "other_region": 422, "department": 422}),
        body=lambda ctx: {"resourceType": "Bundle", "type": "collection"},
        content_type=FHIR_JSON,
    ),
    Row(
        "GET",
        "/v1/fhir/Appointment",
        _all(200),
        params=lambda ctx: {"run": ctx.latest_run()},
    ),
    # kapacitet's FHIR definitions describe the interface only: no token needed
    Row("GET", "/v1/fhir/metadata", dict.fromkeys(CALLERS, 200)),
    Row(
        "GET",
        "/v1/fhir/CodeSystem/{resource_id}",
        dict.fromkeys(CALLERS, 200),
        params=lambda ctx: {"resource_id": "collaboration"},
    ),
    Row(
        "GET",
        "/v1/fhir/StructureDefinition/{resource_id}",
        dict.fromkeys(CALLERS, 200),
        params=lambda ctx: {"resource_id": "deadline-status"},
    ),
)


def _api_routes(routes: Iterable[BaseRoute], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    """Every API route with its full path, included routers walked (FastAPI nests them)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        elif hasattr(route, "original_router"):  # an included router
            context = getattr(route, "include_context", None)
            inner = prefix + getattr(context, "prefix", "")
            yield from _api_routes(route.original_router.routes, inner)


def _served_routes() -> set[tuple[str, str]]:
    """(method, path) of every route under /v1 the app serves, TODO routes left out."""
    app = create_app("sqlite://")
    return {
        (method, path)
        for path, route in _api_routes(app.routes)
        if path.startswith("/v1") and not (TODO_ROUTES and path.startswith(TODO_ROUTES))
        for method in route.methods - {"HEAD"}
    }


def test_every_v1_route_has_a_row() -> None:
    """The matrix names exactly the app's /v1 routes."""
    rows = {(row.method, row.path) for row in ROWS}
    served = _served_routes()
    assert sorted(served - rows) == [], "routes without a row in the matrix"
    assert sorted(rows - served) == [], "rows for routes the app does not serve"


def _tokens(database_url: str) -> dict[str, str | None]:
    engine = create_database_engine(database_url)
    with engine.begin() as conn:
        past = store.now() - dt.timedelta(minutes=1)
        expired, _ = create_token(conn, Role.ADMIN, "expired", expires_at=past)
    engine.dispose()
    return {
        "none": None,
        "expired": expired,
        "region": make_token(database_url, Role.REGION, "nord", region=REGION),
        "other_region": make_token(database_url, Role.REGION, "syd", region="Syddanmark"),
        "department": make_token(database_url, Role.DEPARTMENT, "dept", department_id=DEPARTMENT),
        "collaboration_chair": make_token(
            database_url, Role.COLLABORATION_CHAIR, "chair", collaboration=COLLABORATION
        ),
        "specialist_unit": make_token(database_url, Role.SPECIALIST_UNIT, "unit"),
        "admin": make_token(database_url, Role.ADMIN, "admin"),
    }


def test_endpoint_role_matrix(database_url: str, shared_dir: Path) -> None:
    """Each caller gets its expected status on each endpoint; errors are problem+json, and a
    patient of another region is 404 without any of its data."""
    records = load_example_without_region(database_url, shared_dir)
    tokens = _tokens(database_url)
    engine = create_database_engine(database_url)
    context = Context(records, database_url, engine)
    secret = next(r for r in records if r["patient_id"] == PATIENT)["home_department_id"]
    mismatches = []
    with serve(database_url) as base:
        clients = {caller: client(base, token) for caller, token in tokens.items()}
        # the region posts its list and solves once, so every path parameter exists
        clients["region"].post("/v1/patients", json={"patients": records}).raise_for_status()
        clients["region"].post("/v1/solve-runs", json={"today": TODAY}).raise_for_status()
        for row in ROWS:
            for caller in CALLERS:
                params = row.params(context)
                url = row.path.format(**params)
                query = {k: v for k, v in params.items() if f"{{{k}}}" not in row.path}
                body = json.dumps(row.body(context)) if row.body else None
                response = clients[caller].request(
                    row.method,
                    url,
                    params=query,
                    content=body,
                    headers={"Content-Type": row.content_type} if body else {},
                )
                if response.status_code != row.expected[caller]:
                    mismatches.append(
                        f"{row.method} {row.path} as {caller}: {response.status_code}, "
                        f"expected {row.expected[caller]}: {response.text[:200]}"
                    )
                if response.status_code >= 400:
                    # FHIR answers its own mistakes as OperationOutcome; auth is problem+json
                    allowed = {"application/problem+json"}
                    if row.path.startswith("/v1/fhir") and response.status_code not in (401, 403):
                        allowed = {FHIR_JSON}
                    assert response.headers["content-type"] in allowed, (row.path, caller)
                if caller == "other_region" and "{patient_id}" in row.path:
                    assert secret not in response.text and "latitude" not in response.text
        for c in clients.values():
            c.close()
    engine.dispose()
    assert mismatches == []


def test_other_region_never_sees_the_patient_in_lists(database_url: str, shared_dir: Path) -> None:
    """Lists and proposals a region reads hold none of another region's patients."""
    records = load_example_without_region(database_url, shared_dir)
    nord = make_token(database_url, Role.REGION, "nord", region=REGION)
    syd = make_token(database_url, Role.REGION, "syd", region="Syddanmark")
    with serve(database_url) as base, client(base, nord) as own, client(base, syd) as other:
        own.post("/v1/patients", json={"patients": records}).raise_for_status()
        run = own.post("/v1/solve-runs", json={"today": TODAY}).json()
        ids = {r["patient_id"] for r in records}
        listed = other.get("/v1/patients").json()
        proposals = other.get(f"/v1/solve-runs/{run['run_id']}/proposals").json()
        assert listed and proposals
        assert not ids & {p["patient_id"] for p in listed + proposals}
