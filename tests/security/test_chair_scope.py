"""Issue 11, points 3 and 4: a chair solves only their collaboration, and one region's
whole-store solve leaves another collaboration's meeting run decidable."""

from __future__ import annotations

from pathlib import Path

from tests.api.test_api import TODAY, client, make_token, running_api
from workflow.access import Role


def test_chair_cannot_solve_another_collaboration(database_url: str, shared_dir: Path) -> None:
    """A breast chair naming upper_gi is 403; naming none solves breast only; a department
    token cannot start a solve at all."""
    chair_token = make_token(
        database_url, Role.COLLABORATION_CHAIR, "breast chair", collaboration="breast"
    )
    department_token = make_token(database_url, Role.DEPARTMENT, "d", department_id="H42-11")
    with running_api(database_url, shared_dir) as api:
        base = str(api.nord.base_url)
        with client(base, chair_token) as chair, client(base, department_token) as department:
            other = chair.post("/v1/solve-runs", json={"today": TODAY, "collaboration": "upper_gi"})
            assert other.status_code == 403, other.text
            assert other.headers["content-type"] == "application/problem+json"
            own = chair.post("/v1/solve-runs", json={"today": TODAY})
            assert own.status_code == 200, own.text
            assert own.json()["collaboration"] == "breast"
            proposals = chair.get(f"/v1/solve-runs/{own.json()['run_id']}/proposals").json()
            assert proposals and {p["collaboration"] for p in proposals} == {"breast"}
            refused = department.post("/v1/solve-runs", json={"today": TODAY})
            assert refused.status_code == 403
            runs = api.admin.get("/v1/audit").json()
            started = [e for e in runs if e["path"] == "/v1/solve-runs"]
            assert len(started) == 1  # the refused requests recorded no run


def test_region_whole_store_solve_leaves_a_meeting_decidable(
    database_url: str, shared_dir: Path
) -> None:
    """The breast chair's meeting run stays decidable after Syddanmark solves the whole store
    (also for Syddanmark's breast patients); the chair's own newer run makes it stale."""
    chair_token = make_token(
        database_url, Role.COLLABORATION_CHAIR, "breast chair", collaboration="breast"
    )
    with (
        running_api(database_url, shared_dir) as api,
        client(str(api.nord.base_url), chair_token) as chair,
    ):
        meeting = chair.post("/v1/solve-runs", json={"today": TODAY}).json()
        proposals = chair.get(f"/v1/solve-runs/{meeting['run_id']}/proposals").json()
        by_syd = [p for p in proposals if p["home_region"] == "Syddanmark"]
        first = by_syd[0]
        second = next(p for p in proposals if p is not first)
        whole = api.syd.post("/v1/solve-runs", json={"today": TODAY})
        assert whole.status_code == 200 and whole.json()["collaboration"] is None
        url = f"/v1/solve-runs/{meeting['run_id']}/proposals/{{}}/decision"
        held = chair.post(url.format(first["patient_id"]), json={"decision": "hold"})
        assert held.status_code == 200, held.text
        newer = chair.post("/v1/solve-runs", json={"today": TODAY}).json()
        stale = chair.post(url.format(second["patient_id"]), json={"decision": "hold"})
        assert stale.status_code == 409
        assert f"decide on run {newer['run_id']}" in stale.json()["detail"]
