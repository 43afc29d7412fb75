"""Choosing one of a proposal's alternatives instead of the proposal, over real HTTP, on
SQLite and PostgreSQL: stored alternatives, the accept at the alternative, the next solve."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.test_api import Api, _post_waiting_list, _solve, running_api


@pytest.fixture
def api(database_url: str, shared_dir: Path) -> Iterator[Api]:
    """The example week stored without Nordjylland's patients, served on a free port."""
    with running_api(database_url, shared_dir) as running:
        yield running


def _reviewed(proposals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        p
        for p in proposals
        if p["action"] == "move"
        or (p["action"] != "unassigned" and p["department_id"] != p["home_department_id"])
    ]


def test_reviewed_proposals_carry_their_alternatives(api: Api) -> None:
    """Referrals away from home and moved bookings store up to 3 alternatives, one per
    department, none at the proposal's own slot; other proposals store none."""
    _post_waiting_list(api)
    run = _solve(api.nord)
    proposals = api.nord.get(f"/v1/solve-runs/{run['run_id']}/proposals").json()
    reviewed = _reviewed(proposals)
    assert reviewed
    for proposal in proposals:
        if proposal in reviewed:
            alternatives = proposal["alternatives"]
            assert len(alternatives) <= 3
            assert len({a["department_id"] for a in alternatives}) == len(alternatives)
            for a in alternatives:
                assert (a["department_id"], a["date"]) != (
                    proposal["department_id"],
                    proposal["date"],
                )
                assert a["why_not"] in {
                    "leaves_unassigned",
                    "more_breaches",
                    "more_days_late",
                    "policy_only",
                }
        else:
            assert "alternatives" not in proposal
        assert proposal["reason_code"] in {
            "keep",
            "home",
            "away",
            "unassigned_no_department",
            "unassigned_crowded",
        }


def test_chosen_alternative_is_booked_and_the_next_solve_keeps_it(api: Api) -> None:
    """Accept an alternative instead of the proposal: the booking, the offer and the decision
    are the alternative's, and the next solve keeps the patient there."""
    _post_waiting_list(api)
    run = _solve(api.nord)
    proposals = api.nord.get(f"/v1/solve-runs/{run['run_id']}/proposals").json()
    url = f"/v1/solve-runs/{run['run_id']}/proposals/{{}}/decision"
    candidates = [
        (p, a)
        for p in _reviewed(proposals)
        if p["action"] == "new"
        for a in p["alternatives"]
        if a["why_not"] == "policy_only" and (not p["deadline"] or a["date"] <= p["deadline"])
    ]
    assert candidates
    chosen = None
    for proposal, alternative in candidates:
        response = api.nord.post(
            url.format(proposal["patient_id"]),
            json={
                "decision": "accept",
                "reason": "the patient prefers it",
                "department_id": alternative["department_id"],
                "date": alternative["date"],
            },
        )
        if response.status_code == 409:  # that slot is held by a booking, not declared free
            continue
        assert response.status_code == 200, response.text
        chosen = (proposal, alternative, response.json())
        break
    assert chosen is not None
    proposal, alternative, decision = chosen
    assert decision["alternative"] is True
    assert (decision["department_id"], decision["date"]) == (
        alternative["department_id"],
        alternative["date"],
    )
    assert decision["offer_id"] is not None
    patient = api.nord.get(f"/v1/patients/{proposal['patient_id']}").json()
    assert (patient["booked_department_id"], patient["booked_date"]) == (
        alternative["department_id"],
        alternative["date"],
    )
    offers = api.nord.get("/v1/referrals").json()
    offer = next(o for o in offers if o["offer_id"] == decision["offer_id"])
    assert (offer["department_id"], offer["date"]) == (
        alternative["department_id"],
        alternative["date"],
    )
    audit = api.admin.get("/v1/audit").json()
    entry = next(e for e in audit if e["path"] == url.format(proposal["patient_id"]))
    assert entry["after"]["alternative"] is True
    assert entry["after"]["instead_of"] == {
        "department_id": proposal["department_id"],
        "date": proposal["date"],
    }
    later = _solve(api.nord)
    again = api.nord.get(f"/v1/solve-runs/{later['run_id']}/proposals").json()
    kept = next(p for p in again if p["patient_id"] == proposal["patient_id"])
    assert (kept["action"], kept["department_id"], kept["date"]) == (
        "keep",
        alternative["department_id"],
        alternative["date"],
    )
    assert kept["standing_decision"]["department_id"] == alternative["department_id"]


def test_an_alternative_not_listed_is_422_at_its_field(api: Api) -> None:
    """A department that is not one of the proposal's alternatives, a wrong date, half an
    alternative or an alternative with a reject is 422 problem+json naming the field."""
    _post_waiting_list(api)
    run = _solve(api.nord)
    proposals = api.nord.get(f"/v1/solve-runs/{run['run_id']}/proposals").json()
    proposal = next(p for p in _reviewed(proposals) if p["alternatives"])
    alternative = proposal["alternatives"][0]
    url = f"/v1/solve-runs/{run['run_id']}/proposals/{proposal['patient_id']}/decision"
    wrong = [
        ({"department_id": "H42-NOPE", "date": alternative["date"]}, "department_id"),
        ({"department_id": alternative["department_id"], "date": "2026-01-01"}, "date"),
        ({"department_id": alternative["department_id"]}, "date"),
        ({"date": alternative["date"]}, "department_id"),
        ({"department_id": alternative["department_id"], "date": "27/11"}, "date"),
    ]
    for fields, field in wrong:
        response = api.nord.post(url, json={"decision": "accept"} | fields)
        assert response.status_code == 422, (fields, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in response.json()["errors"]] == [field], response.json()
    rejected = api.nord.post(
        url,
        json={"decision": "reject"}
        | {"department_id": alternative["department_id"], "date": alternative["date"]},
    )
    assert rejected.status_code == 422
    assert rejected.json()["errors"][0]["field"] == "department_id"
    # nothing was booked by the refused requests: the proposal itself can still be accepted
    # (an empty department_id, as a form sends it, is no alternative)
    plain = api.nord.post(url, json={"decision": "accept", "department_id": ""})
    assert plain.status_code == 200, plain.text
    assert plain.json()["alternative"] is False
    assert plain.json()["department_id"] == proposal["department_id"]


def test_openapi_documents_the_alternative_fields(api: Api) -> None:
    """The decision body's department_id and date are documented with examples."""
    schemas = api.anonymous.get("/openapi.json").json()["components"]["schemas"]
    body = schemas["DecisionIn"]
    for field in ("department_id", "date"):
        assert body["properties"][field]["description"]
        assert body["properties"][field]["examples"]
    assert any("department_id" in example for example in body["examples"])
    assert "alternative" in schemas["Decision"]["properties"]
