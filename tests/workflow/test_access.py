"""The access table (workflow.access): every action's roles, scopes, and a chair's solves."""

from __future__ import annotations

import pytest

from capacity.errors import Forbidden
from workflow.access import (
    ALLOWED,
    Action,
    Principal,
    Role,
    check,
    may_see_patient,
    solve_collaboration,
)

NORD = Principal(1, "nord", Role.REGION, region="Nordjylland")
CHAIR = Principal(2, "chair", Role.COLLABORATION_CHAIR, collaboration="lung")
DEPT = Principal(3, "dept", Role.DEPARTMENT, department_id="AAUH-LUN")
UNIT = Principal(4, "unit", Role.SPECIALIST_UNIT)


def test_every_action_has_a_row() -> None:
    assert set(ALLOWED) == set(Action)


def test_check_names_the_roles_allowed() -> None:
    with pytest.raises(Forbidden, match="allowed: region"):
        check(CHAIR, Action.POST_PATIENTS)
    assert check(NORD, Action.POST_PATIENTS) is NORD


def test_scopes() -> None:
    patient = {"home_region": "Nordjylland", "collaboration": "lung"}
    assert may_see_patient(NORD, **patient)
    assert not may_see_patient(NORD, home_region="Syddanmark", collaboration="lung")
    assert may_see_patient(CHAIR, **patient)
    assert not may_see_patient(CHAIR, home_region="Nordjylland", collaboration="breast")
    assert may_see_patient(DEPT, **patient, home_department_id="X", department_id="AAUH-LUN")
    assert not may_see_patient(DEPT, **patient, home_department_id="X", department_id="Y")
    assert may_see_patient(UNIT, home_region="Syddanmark", collaboration="breast")


def test_a_chair_solves_their_own_collaboration_only() -> None:
    assert solve_collaboration(CHAIR, None) == "lung"
    assert solve_collaboration(CHAIR, "lung") == "lung"
    with pytest.raises(Forbidden):
        solve_collaboration(CHAIR, "breast")
    assert solve_collaboration(NORD, None) is None
    with pytest.raises(Forbidden):
        solve_collaboration(DEPT, "lung")
