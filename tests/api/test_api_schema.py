"""Schemathesis against the live server's OpenAPI document: no 5xx, every response conforms.

For every operation, schema-valid (positive) and schema-invalid (negative) requests are sent
with a token of a role allowed to call it; each response must be documented (status, content
type, headers) and match its schema. Unknown query parameters are ignored, as HTTP APIs
commonly do, so schemathesis's negative_data_rejection check is not used. Bounded: a few
examples per operation and mode.

A stateful run chains a region's session through OpenAPI links (list or create → patch →
solve → read or cancel the run), so a write that makes a later solve fail is found too (it
found PATCH-then-solve 500s before patches were validated as whole records).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.routers import scenario_runs
from tests.api.test_api import REGION, TODAY, client, load_example_without_region, make_token
from tests.http_server import serve
from workflow.access import Role

#: Generated requests per operation and mode: about 300 requests in all, well under a minute.
EXAMPLES = 6
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _role_for(method: str, path: str) -> str:
    """The role allowed to call the operation, so requests get past authorisation."""
    if path.startswith(("/v1/patients", "/v1/solve-runs/{run_id}/proposals/", "/v1/fhir")):
        return "region"
    if path == "/v1/capacity" and method == "POST":
        return "department"
    if path in ("/v1/capacity/template.xlsx", "/v1/capacity/workbook"):
        return "department"
    if path.startswith("/v1/scenario-runs"):
        return "specialist_unit"
    return "admin"


def _exercise(
    operation: schemathesis.APIOperation,
    mode: schemathesis.GenerationMode,
    base: str,
    headers: dict[str, str],
) -> None:
    """Send ``EXAMPLES`` generated requests of ``mode`` to the operation and check each answer."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def call(case: schemathesis.Case) -> None:
        case.call_and_validate(base_url=base, headers=headers, checks=CHECKS)

    try:
        call()
    except Unsatisfiable:
        # nothing to negate: an operation without parameters or body has no invalid request
        assert not mode.is_positive, operation.label


def test_live_server_conforms_to_its_openapi_schema(
    database_url: str, shared_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Generated requests to every operation: never a 5xx, always a documented response."""
    # a valid scenario (the OpenAPI example is one) is queued, not simulated: this test is
    # about the HTTP contract; test_api.py runs a scenario to its KPIs
    monkeypatch.setattr(scenario_runs, "run_in_background", lambda bound, run_id: None)
    records = load_example_without_region(database_url, shared_dir)
    tokens = {
        "region": make_token(database_url, Role.REGION, "nord", region=REGION),
        "department": make_token(database_url, Role.DEPARTMENT, "d", department_id="H42-11"),
        "specialist_unit": make_token(database_url, Role.SPECIALIST_UNIT, "unit"),
        "admin": make_token(database_url, Role.ADMIN, "admin"),
    }
    with serve(database_url, max_body_bytes=200_000) as base:
        with client(base, tokens["region"]) as region:
            region.post("/v1/patients", json={"patients": records}).raise_for_status()
            region.post("/v1/solve-runs", json={"today": TODAY}).raise_for_status()
        schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 15
        for operation in operations:
            role = _role_for(operation.method.upper(), operation.path)
            headers = {"Authorization": f"Bearer {tokens[role]}"}
            _exercise(operation, schemathesis.GenerationMode.POSITIVE, base, headers)
            _exercise(operation, schemathesis.GenerationMode.NEGATIVE, base, headers)


#: The operations of a region's working session, in the order links chain them.
WORKFLOW_PATHS = (
    "/v1/patients",
    "/v1/patients/{patient_id}",
    "/v1/solve-runs",
    "/v1/solve-runs/{run_id}",
    "/v1/solve-runs/{run_id}/proposals",
    "/v1/solve-runs/{run_id}/cancel",
)
#: Steps per generated sequence and sequences in all: about a minute at most.
WORKFLOW_STEPS = 6
WORKFLOWS = 12


def _workflow_document(raw: dict[str, Any]) -> dict[str, Any]:
    """The served OpenAPI document cut to a region's session, with OpenAPI links chaining
    create or list → patch → solve → read or cancel, so generated sequences reach a solve
    after a patch (the class of bug: a PATCH stores a value that makes later solves fail)."""
    document = copy.deepcopy(raw)
    document["paths"] = {p: document["paths"][p] for p in WORKFLOW_PATHS}
    paths = document["paths"]

    def operation_id(path: str, method: str) -> str:
        return str(paths[path][method]["operationId"])

    def link(path: str, method: str, status: str, name: str, target: dict[str, Any]) -> None:
        response = paths[path][method]["responses"].setdefault(status, {"description": status})
        response.setdefault("links", {})[name] = target

    patch = operation_id("/v1/patients/{patient_id}", "patch")
    solve = operation_id("/v1/solve-runs", "post")
    link("/v1/patients", "get", "200", "PatchListed", {
        "operationId": patch, "parameters": {"patient_id": "$response.body#/0/patient_id"}
    })  # fmt: skip
    link("/v1/patients", "post", "200", "PatchPosted", {
        "operationId": patch,
        "parameters": {"patient_id": "$request.body#/patients/0/patient_id"},
    })  # fmt: skip
    link("/v1/patients/{patient_id}", "patch", "200", "SolveAfterPatch", {
        "operationId": solve, "requestBody": {"today": TODAY}
    })  # fmt: skip
    for status in ("200", "202"):
        for target, name in (
            ("/v1/solve-runs/{run_id}", "ReadRun"),
            ("/v1/solve-runs/{run_id}/proposals", "ReadProposals"),
            ("/v1/solve-runs/{run_id}/cancel", "CancelRun"),
        ):
            method = "post" if target.endswith("cancel") else "get"
            link("/v1/solve-runs", "post", status, name, {
                "operationId": operation_id(target, method),
                "parameters": {"run_id": "$response.body#/run_id"},
            })  # fmt: skip
    return document


def test_stateful_patch_then_solve_never_fails(database_url: str, shared_dir: Path) -> None:
    """Generated sequences of a region's session (list or create → patch → solve → read or
    cancel the run), linked by OpenAPI links: never a 5xx, always a documented response.

    A patch storing a value the contract refuses (a deadline of 9999-12-31, an infinite
    max_travel_km) must be 422, or the solve after it names the patient and field: a 500 on
    either step fails this test."""
    records = load_example_without_region(database_url, shared_dir)
    token = make_token(database_url, Role.REGION, "nord", region=REGION)
    with serve(database_url, max_body_bytes=200_000) as base:
        with client(base, token) as region:
            region.post("/v1/patients", json={"patients": records}).raise_for_status()
            raw = region.get("/openapi.json").json()
        schema = schemathesis.openapi.from_dict(_workflow_document(raw))
        headers = {"Authorization": f"Bearer {token}"}

        class RegionSession(schema.as_state_machine()):  # type: ignore[misc]
            def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
                return {"base_url": base, "headers": headers}

            def validate_response(
                self, response: Any, case: schemathesis.Case, **kwargs: Any
            ) -> None:
                case.validate_response(response, checks=CHECKS, headers=headers)

        RegionSession.run(
            settings=settings(
                max_examples=WORKFLOWS,
                stateful_step_count=WORKFLOW_STEPS,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
        )
