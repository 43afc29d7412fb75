"""Who may do what: the one access table every route, page and command consults.

A caller is a :class:`Principal` (what a valid token names). :data:`ALLOWED` says which roles
may take each :class:`Action`; the scope functions say *which* records a role reaches: a region
its own patients, a department the patients sent from or booked at it, a chair their
collaboration, the specialist unit and admin everything (patient ids are pseudonyms already).
The API maps :class:`~capacity.errors.Forbidden` to 403 and the page to a message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from capacity.errors import Forbidden


class Role(StrEnum):
    """Who calls: a region, a department, a collaboration's chair, the specialist unit, admin."""

    REGION = "region"
    DEPARTMENT = "department"
    COLLABORATION_CHAIR = "collaboration_chair"
    SPECIALIST_UNIT = "specialist_unit"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """The caller a valid token names, with the scope its role is limited to."""

    token_id: int
    name: str
    role: Role
    region: str | None = None
    department_id: str | None = None
    collaboration: str | None = None


class Action(StrEnum):
    """Everything a caller can ask kapacitet to do (reads of reference data need a token only)."""

    READ = "read"  # departments, services, runs and proposals in scope, capacity history
    POST_PATIENTS = "post_patients"
    PATCH_PATIENT = "patch_patient"
    DECLARE_CAPACITY = "declare_capacity"
    IMPORT_FHIR = "import_fhir"
    START_SOLVE = "start_solve"
    DECIDE = "decide"
    CANCEL_RUN = "cancel_run"
    CONFIRM_REFERRAL = "confirm_referral"  # the receiving department confirms or declines
    ANSWER_REFERRAL = "answer_referral"  # the home region records the patient's answer
    RUN_SCENARIO = "run_scenario"
    READ_SCENARIOS = "read_scenarios"
    READ_AUDIT = "read_audit"
    MANAGE_TOKENS = "manage_tokens"


_EVERYONE = frozenset(Role)
_UNIT = frozenset({Role.SPECIALIST_UNIT, Role.ADMIN})

#: The access table: the roles that may take each action. Scope (which records) comes after.
ALLOWED: Mapping[Action, frozenset[Role]] = {
    Action.READ: _EVERYONE,
    Action.POST_PATIENTS: frozenset({Role.REGION}),
    Action.PATCH_PATIENT: frozenset({Role.REGION}),
    Action.DECLARE_CAPACITY: frozenset({Role.DEPARTMENT}),
    Action.IMPORT_FHIR: frozenset({Role.DEPARTMENT, Role.REGION}),
    Action.START_SOLVE: frozenset({Role.REGION, Role.COLLABORATION_CHAIR}) | _UNIT,
    Action.DECIDE: frozenset({Role.REGION, Role.COLLABORATION_CHAIR}),
    Action.CANCEL_RUN: frozenset({Role.REGION, Role.COLLABORATION_CHAIR}) | _UNIT,
    Action.CONFIRM_REFERRAL: frozenset({Role.DEPARTMENT}),
    Action.ANSWER_REFERRAL: frozenset({Role.REGION}),
    Action.RUN_SCENARIO: _UNIT,
    Action.READ_SCENARIOS: _UNIT,
    Action.READ_AUDIT: frozenset({Role.ADMIN}),
    Action.MANAGE_TOKENS: frozenset({Role.ADMIN}),
}


def allowed(who: Principal, action: Action) -> bool:
    """Whether ``who``'s role may take ``action`` at all (see :data:`ALLOWED`)."""
    return who.role in ALLOWED[action]


def check(who: Principal, action: Action) -> Principal:
    """``who`` if their role may take ``action``; :class:`Forbidden` naming the roles that may."""
    if not allowed(who, action):
        roles = ", ".join(sorted(role.value for role in ALLOWED[action]))
        raise Forbidden(f"role {who.role.value} may not do this; allowed: {roles}")
    return who


@dataclass(frozen=True)
class PatientScope:
    """The patients a caller reaches; ``None`` in a field means no limit on it.

    A department reaches patients whose home department *or* booked department it is.
    """

    region: str | None = None
    collaboration: str | None = None
    department_id: str | None = None


def patient_scope(who: Principal) -> PatientScope:
    """The patients ``who`` may see (and, with the role's action, change)."""
    if who.role is Role.REGION:
        return PatientScope(region=who.region or "")
    if who.role is Role.COLLABORATION_CHAIR:
        return PatientScope(collaboration=who.collaboration or "")
    if who.role is Role.DEPARTMENT:
        return PatientScope(department_id=who.department_id or "")
    return PatientScope()


def may_see_patient(
    who: Principal,
    *,
    home_region: str | None,
    collaboration: str | None,
    home_department_id: str | None = None,
    department_id: str | None = None,
) -> bool:
    """Whether a patient (or a proposal for one, at ``department_id``) is in ``who``'s scope."""
    scope = patient_scope(who)
    if scope.region is not None and home_region != scope.region:
        return False
    if scope.collaboration is not None and collaboration != scope.collaboration:
        return False
    if scope.department_id is not None:
        return scope.department_id in (home_department_id, department_id)
    return True


class Placement(Protocol):
    """A patient placed at a department: a proposal, or the offer an accepted one made."""

    @property
    def home_region(self) -> str | None: ...
    @property
    def collaboration(self) -> str | None: ...
    @property
    def home_department_id(self) -> str | None: ...
    @property
    def department_id(self) -> str | None: ...


def may_see_proposal(who: Principal, proposal: Placement) -> bool:
    """Whether ``who`` may see a proposal (or an offer): its patient in scope, or (a
    department) sent to it."""
    return may_see_patient(
        who,
        home_region=proposal.home_region,
        collaboration=proposal.collaboration,
        home_department_id=proposal.home_department_id,
        department_id=proposal.department_id,
    )


def may_cancel(who: Principal, started_by: int | None) -> bool:
    """Whether ``who`` may cancel a run: the token that started it, the specialist unit, admin."""
    return started_by == who.token_id or who.role in (Role.SPECIALIST_UNIT, Role.ADMIN)


def solve_collaboration(who: Principal, requested: str | None) -> str | None:
    """The collaboration a solve started by ``who`` covers: a chair's is always their own.

    A chair naming another collaboration is :class:`Forbidden` (a field error on
    ``collaboration``), as is a chair whose token names none; naming none means theirs. Every
    other role that may solve gets what it asked for (``None``: every collaboration).
    """
    if who.role is Role.DEPARTMENT:
        raise Forbidden("role department may not start solves")
    check(who, Action.START_SOLVE)
    if who.role is not Role.COLLABORATION_CHAIR:
        return requested
    if who.collaboration is None:
        raise Forbidden("this chair's token names no collaboration; ask for a new token")
    if requested not in (None, who.collaboration):
        raise Forbidden(
            f"a chair of {who.collaboration} may solve only that collaboration",
            errors=[{"field": "collaboration", "message": f"only {who.collaboration}"}],
        )
    return who.collaboration


#: The operator at the command line (``kapacitet report meeting``, ``fhir export``): sees
#: everything, has no run quota (token 0), and is audited under its own name.
COMMAND_LINE = Principal(token_id=0, name="command line", role=Role.ADMIN)
