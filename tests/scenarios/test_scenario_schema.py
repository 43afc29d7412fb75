"""Scenario files: every example loads, and each broken file names its YAML path and problem."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from scenarios.schema import (
    ExtraSessions,
    FolderBase,
    Reduce,
    ScenarioError,
    load_scenario,
    scenario_from_mapping,
)

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "scenarios" / "examples").glob("*.yaml"))
VALID: dict[str, Any] = {
    "name": "upper_gi_collapse",
    "base": {"type": "reference", "scale": 0.1},
    "horizon_weeks": 8,
    "capacity": {
        "changes": [
            {
                "type": "reduce",
                "department": "AUH-KIR",
                "collaboration": "upper_gi",
                "procedure": "surgery",
                "percent": 30,
                "weeks": [1, 8],
            }
        ]
    },
}


def _broken(path: str, value: Any) -> dict[str, Any]:
    """VALID with the value at a dotted path (list items as numbers) replaced or added."""
    data = copy.deepcopy(VALID)
    *parents, last = path.split(".")
    node: Any = data
    for part in parents:
        node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
    if isinstance(node, list) and int(last) == len(node):
        node.append(value)
    else:
        node[int(last) if last.isdigit() else last] = value
    return data


def _problems(data: dict[str, Any]) -> str:
    with pytest.raises(ScenarioError) as caught:
        scenario_from_mapping(data, source="upper_gi_collapse.yaml")
    return str(caught.value)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_loads(path: Path) -> None:
    """Each bundled example validates and says what it shows in its description."""
    scenario = load_scenario(path)
    assert scenario.description.strip()
    assert 1 <= scenario.horizon_weeks <= 26
    assert path.read_text(encoding="utf-8").startswith("#")


def test_examples_cover_the_issue() -> None:
    """The issue's example scenarios are all bundled."""
    names = {p.stem for p in EXAMPLES}
    assert {
        "lower_gi_collapse_without_sharing",
        "lower_gi_collapse_with_sharing",
        "upper_gi_university_loss",
        "lung_screening_pilot",
        "weekend_surgery_lists",
        "private_mammography",
        "no_foreign_options",
    } <= names


def test_valid_mapping_gives_typed_changes() -> None:
    """Changes come back as their typed models with the file's values."""
    scenario = scenario_from_mapping(VALID)
    (change,) = scenario.capacity.changes
    assert isinstance(change, Reduce)
    assert (change.department, change.percent, change.weeks) == ("AUH-KIR", 30.0, [1, 8])
    assert scenario.replications == 20 and scenario.seed == 1


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (
            "capacity.changes.0.percent",
            130,
            "upper_gi_collapse.yaml: capacity.changes[0].percent: must be between 0 and 100",
        ),
        ("horizon_weeks", 105, "horizon_weeks: must be between 1 and 104"),
        (
            "horizn_weeks",
            4,
            "horizn_weeks: unknown key; did you mean 'horizon_weeks'",
        ),
        ("base.scal", 1, "base.scal: unknown key; did you mean 'scale'"),
        ("base.type", "refrence", "base.type: unknown type; did you mean 'reference'"),
        (
            "capacity.changes.0.type",
            "reduse",
            "capacity.changes[0].type: unknown type; did you mean 'reduce'",
        ),
        (
            "capacity.changes.0.collaboration",
            "upper-gi",
            "capacity.changes[0].collaboration: unknown collaboration; did you mean 'upper_gi'",
        ),
        (
            "capacity.changes.0.weeks",
            [5, 2],
            "capacity.changes[0].weeks: expected 1 <= first <= last <= 104",
        ),
        (
            "capacity.changes.0.weeks",
            [10, 12],
            "capacity.changes[0].weeks: starts in week 10, after the horizon of 8 weeks",
        ),
        ("base.week", "2026-48", "base.week: expected an ISO week written YYYY-Www"),
        ("base.week", "2027-W53", "base.week: expected an ISO week written YYYY-Www"),
        (
            "policy.points",
            {"per_kmm": 1},
            "policy.points.per_kmm: unknown key; did you mean 'per_km'",
        ),
        ("policy.allow_cross_region", "no", "policy.allow_cross_region: expected true or false"),
        (
            "behaviour.pauses.health_per_week",
            1.5,
            "behaviour.pauses.health_per_week: must be between 0 and 1",
        ),
        (
            "behaviour.acceptance.intercep",
            1.0,
            "behaviour.acceptance.intercep: unknown key; did you mean 'intercept'",
        ),
        (
            "demand.surges",
            [{"collaboration": "lung", "factor": 2}],
            "demand.surges[0].weeks: required field is missing",
        ),
        (
            "capacity.changes.0.percent",
            "a third",
            "capacity.changes[0].percent: input should be a valid number",
        ),
    ],
)
def test_broken_scenario_names_path_and_problem(path: str, value: Any, expected: str) -> None:
    """A broken field is reported with its YAML path and what is wrong with it."""
    assert expected in _problems(_broken(path, value))


def test_unknown_department_suggests_the_closest() -> None:
    """A misspelt department id is checked against the reference data, with a hint."""
    message = _problems(_broken("capacity.changes.0.department", "AUH-KIX"))
    assert "capacity.changes[0].department: unknown department; did you mean 'AUH-KIR'" in (message)


def test_department_must_offer_the_service() -> None:
    """A change for a service the department does not offer is refused, listing what it offers."""
    message = _problems(_broken("capacity.changes.0.collaboration", "lung"))
    assert "capacity.changes[0]: AUH-KIR does not offer lung surgery" in message


def test_private_agreement_needs_a_private_department() -> None:
    """A private agreement with a public department is refused."""
    change = {
        "type": "private_agreement",
        "department": "AUH-KIR",
        "collaboration": "upper_gi",
        "procedure": "surgery",
        "slots_per_week": 2,
    }
    message = _problems(_broken("capacity.changes.0", change))
    assert "needs a private department" in message


def test_every_problem_is_listed_at_once() -> None:
    """Several problems in one file are all reported, one line each."""
    data = _broken("capacity.changes.0.percent", 130)
    data["replications"] = 0
    data["colour"] = "blue"
    with pytest.raises(ScenarioError) as caught:
        scenario_from_mapping(data, source="s.yaml")
    assert len(caught.value.problems) == 3
    assert all(line.startswith("s.yaml: ") for line in str(caught.value).splitlines())


def test_load_scenario_reports_the_file_name(tmp_path: Path) -> None:
    """Problems in a file carry the file's name; invalid YAML is reported, not raised raw."""
    broken = tmp_path / "upper_gi_collapse.yaml"
    broken.write_text(yaml.safe_dump(_broken("capacity.changes.0.percent", 130)), "utf-8")
    with pytest.raises(ScenarioError, match=r"^upper_gi_collapse\.yaml: capacity\.changes\[0\]"):
        load_scenario(broken)
    broken.write_text("name: [unclosed", "utf-8")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(broken)


def test_folder_base_is_relative_to_the_file(tmp_path: Path) -> None:
    """A folder base's relative path is resolved from the scenario file's folder."""
    data = {"name": "from folder", "base": {"type": "folder", "path": "week"}}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data), "utf-8")
    base = load_scenario(tmp_path / "s.yaml").base
    assert isinstance(base, FolderBase)
    assert Path(base.path) == tmp_path / "week"


def test_with_changes_merges_and_validates() -> None:
    """with_changes replaces fields, merges mappings and validates the result."""
    scenario = scenario_from_mapping(VALID)
    without = scenario.with_changes(policy={"allow_cross_region": False}, name="without")
    assert without.solver_policy().allow_cross_region is False
    assert scenario.solver_policy().allow_cross_region is True
    assert without.capacity == scenario.capacity
    with pytest.raises(ScenarioError, match="horizon_weeks"):
        scenario.with_changes(horizon_weeks=0)


def test_dumped_scenario_loads_back(tmp_path: Path) -> None:
    """A scenario written as JSON-mode YAML (as runs store it) loads back equal."""
    scenario = scenario_from_mapping(
        _broken(
            "capacity.changes.1",
            {
                "type": "extra_sessions",
                "department": "AUH-KIR",
                "collaboration": "upper_gi",
                "procedure": "surgery",
                "slots_per_week": 3,
            },
        )
    )
    assert isinstance(scenario.capacity.changes[1], ExtraSessions)
    file = tmp_path / "scenario.yaml"
    file.write_text(yaml.safe_dump(scenario.model_dump(mode="json")), "utf-8")
    assert load_scenario(file) == scenario
