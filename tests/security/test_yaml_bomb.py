"""Issue 11, point 3: a YAML alias bomb or a deeply nested scenario is a short 422, at once."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from scenarios.schema import ScenarioError, load_scenario
from tests.api.test_api import client, make_token, running_api
from workflow.access import Role


def alias_bomb(levels: int = 9, fan_out: int = 9) -> str:
    """A "billion laughs" scenario: each anchor is a list of ``fan_out`` aliases of the last
    (``fan_out ** levels`` strings once expanded; about 450 bytes of YAML)."""
    lines = ["name: bomb", "base: {type: reference}", "a0: &a0 [lol, lol, lol, lol, lol]"]
    for level in range(1, levels + 1):
        aliases = ", ".join([f"*a{level - 1}"] * fan_out)
        lines.append(f"a{level}: &a{level} [{aliases}]")
    lines.append(f"description: *a{levels}")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_a_small_fast_422(database_url: str, shared_dir: Path) -> None:
    """The alias bomb posted as a scenario run is 422 in under a second, under 4 KB, naming
    the YAML field and none of the expanded values."""
    bomb = alias_bomb()
    assert len(bomb.encode()) < 600
    unit_token = make_token(database_url, Role.SPECIALIST_UNIT, "unit")
    with (
        running_api(database_url, shared_dir) as api,
        client(str(api.nord.base_url), unit_token) as unit,
    ):
        started = time.perf_counter()
        response = unit.post("/v1/scenario-runs", json={"yaml": bomb})
        elapsed = time.perf_counter() - started
        assert response.status_code == 422, response.text[:500]
        assert elapsed < 1.0
        assert len(response.content) < 4096
        assert response.headers["content-type"] == "application/problem+json"
        assert "lol" not in response.text
        assert [e["field"] for e in response.json()["errors"]] == ["yaml"]
        assert "too large" in response.json()["errors"][0]["message"]
        assert unit.get("/v1/scenario-runs").json() == []  # nothing was queued


def test_deeply_nested_yaml_is_422(database_url: str, shared_dir: Path) -> None:
    """A scenario nested 100,000 levels deep (flow sequences) is 422, not a server error."""
    with running_api(database_url, shared_dir) as api:
        deep = "name: deep\nbase: {type: reference}\ndescription: " + "[" * 100_000
        response = api.admin.post("/v1/scenario-runs", json={"yaml": deep})
        assert response.status_code == 422, response.text[:500]
        assert len(response.content) < 4096
        assert "nested deeper" in response.json()["errors"][0]["message"]


def test_scenario_problems_never_echo_values(database_url: str, shared_dir: Path) -> None:
    """Invalid values (a CPR-like department, a 5,000-character name, a huge number) are
    reported by YAML path only: the response repeats none of them."""
    secret = "0101901234"
    long_name = "x" * 5_000
    yaml_text = (
        f"name: {long_name}\n"
        "base: {type: reference, scale: 1e308}\n"
        "horizon_weeks: 99999999999999999999\n"
        "capacity:\n  changes:\n"
        f"    - {{type: reduce, department: '{secret}', collaboration: lung, percent: 50}}\n"
    )
    with running_api(database_url, shared_dir) as api:
        response = api.admin.post("/v1/scenario-runs", json={"yaml": yaml_text})
        assert response.status_code == 422, response.text[:500]
        fields = {e["field"] for e in response.json()["errors"]}
        assert {"name", "base.scale", "horizon_weeks"} <= fields
        for value in (secret, long_name[:50], "99999999999999999999", "1e+308"):
            assert value not in response.text
        assert len(response.content) < 4096


def test_command_line_loader_refuses_the_bomb(tmp_path: Path) -> None:
    """``kapacitet scenario run`` reads files with the same bounded loader: the bomb is a
    ScenarioError naming the file, at once."""
    path = tmp_path / "bomb.yaml"
    path.write_text(alias_bomb(), encoding="utf-8")
    started = time.perf_counter()
    with pytest.raises(ScenarioError, match=r"^bomb\.yaml: the document is too large"):
        load_scenario(path)
    assert time.perf_counter() - started < 1.0
