"""``GET /v1/fhir/Appointment?run=`` with an id no store can hold is 422, on both stores.

Found by calling the API as an outside tester: ``?run=99999999999999999999`` reached the
driver, which could not bind it (500).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.test_api import running_api


@pytest.mark.parametrize("run", ["99999999999999999999", "2147483648", "0", "-1"])
def test_a_run_id_out_of_range_is_422(database_url: str, shared_dir: Path, run: str) -> None:
    with running_api(database_url, shared_dir) as api:
        response = api.nord.get("/v1/fhir/Appointment", params={"run": run})
        assert response.status_code == 422, response.text
        assert [e["field"] for e in response.json()["errors"]] == ["run"]
        assert api.nord.get("/v1/fhir/Appointment", params={"run": "2147483647"}).status_code == 404
