"""Issue 11, point 3: JSON nested thousands deep is 422 problem+json on every JSON route."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.test_api import running_api

#: (method, path, content type, the caller allowed to send it) of routes reading a JSON body.
JSON_ROUTES = (
    ("POST", "/v1/patients", "application/json", "nord"),
    ("PATCH", "/v1/patients/pt42x00011", "application/json", "nord"),
    ("POST", "/v1/capacity", "application/json", "admin"),
    ("POST", "/v1/solve-runs", "application/json", "nord"),
    ("POST", "/v1/scenario-runs", "application/json", "admin"),
    ("POST", "/v1/tokens", "application/json", "admin"),
    ("POST", "/v1/fhir", "application/fhir+json", "nord"),
)


@pytest.mark.parametrize("depth", [5_000, 100_000])
def test_deeply_nested_json_is_422(database_url: str, shared_dir: Path, depth: int) -> None:
    """A body of arrays (or objects) nested ``depth`` deep is 422 problem+json on every JSON
    route (a small body: under the size limit), and the server answers normally afterwards."""
    arrays = ("[" * depth + "]" * depth).encode()
    objects = ('{"a":' * depth + "1" + "}" * depth).encode()
    with running_api(database_url, shared_dir, max_body_bytes=1_000_000) as api:
        for method, path, content_type, caller in JSON_ROUTES:
            for body in (arrays, objects):
                response = getattr(api, caller).request(
                    method, path, content=body, headers={"Content-Type": content_type}
                )
                assert response.status_code == 422, (method, path, response.text[:300])
                assert response.headers["content-type"] == "application/problem+json", path
                assert len(response.content) < 4096
        assert api.admin.get("/v1/departments").status_code == 200
