"""Schemathesis against the live server's OpenAPI document: no 5xx, every response conforms.

For every operation, schema-valid (positive) and schema-invalid (negative) requests are sent
with a token of a role allowed to call it; each response must be documented (status, content
type, headers) and match its schema. Unknown query parameters are ignored, as HTTP APIs
commonly do, so schemathesis's negative_data_rejection check is not used. Bounded: a few
examples per operation and mode.
"""

from __future__ import annotations

from pathlib import Path

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
from api.security import Role
from tests.http_server import serve
from tests.test_api import REGION, TODAY, client, load_example_without_region, make_token

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
