"""Nonsense sent to the referral and decision routes is 422 on both stores, never stored.

Found by calling the API as an outside tester: ``{"confirmed": "yes"}`` confirmed an offer
(a string read as true), a reason with a NUL character was stored on SQLite (and refused by
PostgreSQL), and ``?today=0001-01-01`` gave a duty-to-act list with 739,932 days left.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.api.test_api import TODAY, client, make_token, running_api
from workflow.access import Role


def _away(proposals: list[dict[str, Any]]) -> dict[str, Any]:
    return next(
        p
        for p in proposals
        if p["action"] in ("new", "move") and p["department_id"] != p["home_department_id"]
    )


def test_offer_answers_are_true_or_false_and_reasons_have_no_nul(
    database_url: str, shared_dir: Path
) -> None:
    with running_api(database_url, shared_dir) as api:
        assert api.nord.post("/v1/patients", json={"patients": api.records}).status_code == 200
        run = api.nord.post("/v1/solve-runs", json={"today": TODAY}).json()["run_id"]
        away = _away(api.nord.get(f"/v1/solve-runs/{run}/proposals").json())
        decision = f"/v1/solve-runs/{run}/proposals/{away['patient_id']}/decision"
        nul = api.nord.post(decision, json={"decision": "hold", "reason": "a\x00b"})
        assert nul.status_code == 422, nul.text
        assert [e["field"] for e in nul.json()["errors"]] == ["reason"]
        accepted = api.nord.post(decision, json={"decision": "accept"})
        assert accepted.status_code == 200, accepted.text
        offer = accepted.json()["offer_id"]
        receiving = client(
            str(api.nord.base_url),
            make_token(database_url, Role.DEPARTMENT, "recv", department_id=away["department_id"]),
        )
        confirm = f"/v1/referrals/{offer}/confirm"
        for body in (
            {"confirmed": "yes"},
            {"confirmed": 1},
            {"confirmed": "true"},
            {"confirmed": False, "reason": "no\x00theatre"},
            {"confirmed": False, "reason": "x" * 10_000},
        ):
            refused = receiving.post(confirm, json=body)
            assert refused.status_code == 422, (body, refused.text)
            assert refused.headers["content-type"] == "application/problem+json"
        [still] = receiving.get("/v1/referrals").json()
        assert still["status"] == "awaiting_department"
        assert receiving.post(confirm, json={"confirmed": True}).status_code == 200
        answer = f"/v1/referrals/{offer}/answer"
        assert api.nord.post(answer, json={"accepted": "no"}).status_code == 422
        assert api.nord.post(answer, json={"accepted": False, "reason": "\x00"}).status_code == 422
        [still] = api.nord.get("/v1/referrals").json()
        assert still["status"] == "awaiting_patient"


@pytest.mark.parametrize("today", ["0001-01-01", "1999-12-31", "2101-01-01", "9999-12-31"])
def test_a_today_outside_2000_to_2100_is_422(
    database_url: str, shared_dir: Path, today: str
) -> None:
    """The duty-to-act list and a solve take a ``today`` within the dates files may hold."""
    with running_api(database_url, shared_dir) as api:
        listed = api.nord.get("/v1/duty-to-act", params={"today": today})
        assert listed.status_code == 422, listed.text
        assert [e["field"] for e in listed.json()["errors"]] == ["today"]
        solved = api.nord.post("/v1/solve-runs", json={"today": today})
        assert solved.status_code == 422, solved.text
        assert [e["field"] for e in solved.json()["errors"]] == ["today"]
        assert api.nord.get("/v1/duty-to-act", params={"today": TODAY}).status_code == 200


@pytest.mark.parametrize("region", ["Atlantis", "nordjylland", "\x00"])
def test_duty_to_act_names_a_region_of_denmark(
    database_url: str, shared_dir: Path, region: str
) -> None:
    with running_api(database_url, shared_dir) as api:
        listed = api.nord.get("/v1/duty-to-act", params={"home_region": region})
        assert listed.status_code == 422, listed.text
        assert [e["field"] for e in listed.json()["errors"]] == ["home_region"]
