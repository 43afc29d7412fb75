"""Every problem of a request body at once, with did-you-mean hints for the vocabulary.

A body is checked in three passes that FastAPI, the contract validator and the workflow would
otherwise run one after another, each stopping the request:

1. the schema (pydantic: types, missing fields, enums, dates),
2. the contract validator (:func:`workflow.records.validated_records`: vocabulary such as
   regions and departments, deadlines, services a department offers), and
3. the caller's scope as far as the body shows it (a ``home_region`` of another region, a
   ``department_id`` of another department, a chair's other collaboration).

When any of them finds a problem, the answer is one 422 problem+json listing all of them,
each at its JSON path (``patients[3].deadline``), first one per field, in body order. Only a
body whose sole problems are of the third kind is 403 (with those fields), as before; a valid
body then meets the checks against the store (a pseudonym another region holds: 403 with a
fixed message, never its data) and last the precondition (``If-Match``, 412).

A route opts in with :func:`body_checks`: the schema's errors are then completed by its check
(:data:`BodyCheck`) on the raw body before the 422 is answered (:mod:`api.problems`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any, TypeVar

import sqlalchemy as sa
from fastapi import Request
from fastapi.security import HTTPAuthorizationCredentials
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy import Connection

from capacity.errors import Forbidden, Invalid
from capacity.pseudonym import redact
from capacity.storage import schema
from capacity.vocabulary import REGIONS, closest
from workflow.access import Principal, solve_collaboration
from workflow.records import validated_records

#: A field problem as the API reports it: ``{"field": ..., "message": ..., "suggestion"?}``.
Problem = dict[str, Any]
#: A route's extra check of a raw body the schema refused: the problems the schema cannot see.
BodyCheck = Callable[[Request, Any], list[Problem]]
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def body_checks(check: BodyCheck) -> Callable[[Endpoint], Endpoint]:
    """Mark a route so that a body its schema refuses is also checked by ``check``."""

    def mark(endpoint: Endpoint) -> Endpoint:
        endpoint.body_checks = check  # type: ignore[attr-defined]
        return endpoint

    return mark


def extra_problems(request: Request, body: Any) -> list[Problem]:
    """The problems the route's :func:`body_checks` finds in ``body`` (none if it has none)."""
    check: BodyCheck | None = getattr(request.scope.get("endpoint"), "body_checks", None)
    if check is None:
        return []
    try:
        return check(request, body)
    except Exception:  # a hint is a courtesy; the schema's 422 stands without it
        return []


# ---- the schema's errors, with hints -----------------------------------------------------------

_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'")


def with_hint(problem: Problem, value: Any, choices: Iterable[str]) -> Problem:
    """``problem`` with a did-you-mean for ``value`` among ``choices`` (message and
    ``suggestion``), when one is close; the value itself is never repeated."""
    if not isinstance(value, str) or not value.strip():
        return problem
    suggestion = closest(value, list(choices))
    if suggestion is None or suggestion == value:
        return problem
    return problem | {
        "message": f"{problem['message']}; did you mean {suggestion!r}?",
        "suggestion": suggestion,
    }


def schema_problem(field: str, item: Mapping[str, Any]) -> Problem:
    """One pydantic error as a field problem; an enum or literal gets a did-you-mean."""
    problem: Problem = {"field": field, "message": str(item["msg"])}
    if item.get("type") in ("enum", "literal_error"):
        expected = str((item.get("ctx") or {}).get("expected", ""))
        problem = with_hint(problem, item.get("input"), _QUOTED.findall(expected))
    return problem


# ---- merging -------------------------------------------------------------------------------


def _order(field: str) -> tuple[tuple[int, int | str], ...]:
    """A field path's record in body order: ``patients[2]`` before ``patients[10]`` (the
    field's own name left out, so a record's problems keep the order they were found in)."""
    parts = re.findall(r"\[(\d+)\]|([^.\[\]]+)", field)
    if parts and parts[-1][1]:
        parts = parts[:-1]
    return tuple((0, int(index)) if index else (1, name) for index, name in parts)


def merged(*sources: Iterable[Problem]) -> list[Problem]:
    """The problems of every source, the first one per field (earlier sources first), by
    record in body order; messages CPR-redacted (a value sent by mistake is never echoed)."""
    seen: dict[str, Problem] = {}
    for source in sources:
        for problem in source:
            field = str(problem["field"])
            if field not in seen:
                seen[field] = problem | {"message": redact(str(problem["message"]))}
    fields = sorted(seen, key=lambda f: _order(f) if f != "body" else ())
    return [seen[field] for field in fields]


def refusal(
    checked: Iterable[Problem], scope: Iterable[Problem], forbidden: str
) -> Invalid | Forbidden | None:
    """The error for a body: 422 with every problem when any is not about scope, 403 with the
    scope problems when only those are left, None when there is nothing to say."""
    checked, scope = list(checked), list(scope)
    if checked:
        everything = merged(checked, scope)
        return Invalid(f"{len(everything)} field(s) invalid; see errors", errors=everything)
    if scope:
        return Forbidden(forbidden, errors=merged(scope))
    return None


# ---- who calls (a body check runs before the route, outside its dependencies) -------------------


def caller(request: Request) -> Principal | None:
    """The principal the request's bearer token names, or None when it names none."""
    from api.security import principal  # the security module imports this package's problems

    scheme, credentials = get_authorization_scheme_param(request.headers.get("authorization"))
    if not credentials:
        return None
    try:
        return principal(
            HTTPAuthorizationCredentials(scheme=scheme, credentials=credentials),
            request.app.state.engine,
        )
    except Exception:  # no valid token: no scope problems to add
        return None


# ---- records of a contract table ------------------------------------------------------------


@functools.cache
def _field_types(model: type[BaseModel]) -> dict[str, TypeAdapter[Any]]:
    """Each field of ``model`` as a type of its own (its constraints included)."""
    types: dict[str, TypeAdapter[Any]] = {}
    for name, field in model.model_fields.items():
        annotation: Any = field.annotation
        if field.metadata:
            annotation = Annotated.__class_getitem__((annotation, *field.metadata))  # type: ignore[attr-defined]
        types[name] = TypeAdapter(annotation)
    return types


def _as_the_schema_reads(types: dict[str, TypeAdapter[Any]], name: str, value: Any) -> Any:
    """``value`` as the schema turns it into Python for a valid body (``"1"`` → ``1.0``,
    ``"lung"`` → the enum), so the validator sees what a valid post would pass it; an
    invalid value as it is (the schema reports it)."""
    try:
        return types[name].validate_python(value)
    except ValidationError:
        return value


def raw_records(body: Any, key: str, model: type[BaseModel]) -> list[dict[str, Any]] | None:
    """``body[key]`` as records for the contract validator: the model's fields only, its
    defaults filled in, values read as the schema reads them, values that are not JSON
    scalars left out (the schema reports them)."""
    if not isinstance(body, dict) or not isinstance(body.get(key), list):
        return None
    types = _field_types(model)
    defaults = {
        name: field.default
        for name, field in model.model_fields.items()
        if not field.is_required() and not callable(field.default)
    }
    records = []
    for item in body[key]:
        given = item if isinstance(item, dict) else {}
        record = dict(defaults)
        for name, value in given.items():
            if name in model.model_fields and (
                value is None or isinstance(value, str | int | float | bool)
            ):
                record[name] = _as_the_schema_reads(types, name, value)
        records.append(record)
    return records


def contract_problems(request: Request, table: str, records: list[dict[str, Any]]) -> list[Problem]:
    """The contract validator's problems with ``records`` of ``table`` (``table[i].column``),
    less "missing column" ones (the schema names each missing field)."""
    if not records:
        return []
    with request.app.state.engine.connect() as conn:
        try:
            validated_records(conn, table, records)
        except Invalid as error:
            return [
                dict(problem)
                for problem in error.errors or []
                if not str(problem.get("message", "")).startswith("missing required column")
            ]
    return []


def region_problems(region: str | None, records: Iterable[Mapping[str, Any]]) -> list[Problem]:
    """``patients[i].home_region`` of a Danish region other than ``region``: not the caller's.

    An unknown region is the validator's to report (with its did-you-mean).
    """
    return [
        {"field": f"patients[{i}].home_region", "message": f"not your region ({region})"}
        for i, record in enumerate(records)
        if record.get("home_region") in REGIONS and record.get("home_region") != region
    ]


def department_problems(
    department_id: str | None, tables: Mapping[str, Iterable[Mapping[str, Any]]]
) -> list[Problem]:
    """``table[i].department_id`` naming another department than the caller's."""
    return [
        {"field": f"{table}[{i}].department_id", "message": "not your department"}
        for table, records in tables.items()
        for i, record in enumerate(records)
        if isinstance(record.get("department_id"), str)
        and record.get("department_id") != department_id
    ]


# ---- the routes' checks ------------------------------------------------------------------------


def patients_problems(request: Request, body: Any) -> list[Problem]:
    """POST /v1/patients: the contract validator's problems and other regions' patients."""
    from api.schemas import PatientRecord

    records = raw_records(body, "patients", PatientRecord)
    if records is None:
        return []
    who = caller(request)
    scope = region_problems(who.region, records) if who is not None else []
    return [*contract_problems(request, "patients", records), *scope]


def capacity_problems(request: Request, body: Any) -> list[Problem]:
    """POST /v1/capacity: the validator's problems with the rows and caps, and rows of
    another department (an unknown one is the validator's, with its did-you-mean)."""
    from api.routers.capacity import CapacityRecord, WeeklyCapRecord

    tables = {
        "capacity": raw_records(body, "capacity", CapacityRecord) or [],
        "weekly_caps": raw_records(body, "weekly_caps", WeeklyCapRecord) or [],
    }
    found = [
        problem
        for table, records in tables.items()
        for problem in contract_problems(request, table, records)
    ]
    who = caller(request)
    scope = department_problems(who.department_id, tables) if who is not None else []
    return [*found, *scope]


def solve_scope_problems(request: Request, body: Any) -> list[Problem]:
    """POST /v1/solve-runs: a chair's solve of another collaboration."""
    who = caller(request)
    if who is None or not isinstance(body, dict) or not isinstance(body.get("collaboration"), str):
        return []
    try:
        solve_collaboration(who, body["collaboration"])
    except Forbidden as refused:
        return list(refused.errors or [])
    return []


def record_fields(problems: Iterable[Problem]) -> list[Problem]:
    """A one-record validation's problems at the body's own paths: ``patients[0].deadline``
    becomes ``deadline`` (a PATCH body is the record's fields)."""
    return [
        problem | {"field": str(problem["field"]).removeprefix("patients[0].")}
        for problem in problems
    ]


def patch_problems(request: Request, body: Any) -> list[Problem]:
    """PATCH /v1/patients/{id}: the stored record with the body's changes, validated as a
    whole (a deadline before the referral, say), beside the schema's problems. Nothing for a
    patient the caller does not own (its 404 is never hinted at)."""
    from api.schemas import PatientPatch
    from workflow.patients import owned_patient

    who = caller(request)
    patient_id = request.scope.get("path_params", {}).get("patient_id")
    if who is None or who.region is None or not isinstance(body, dict) or not patient_id:
        return []
    with request.app.state.engine.connect() as conn:
        before = owned_patient(conn, who.region, str(patient_id))
    if before is None:
        return []
    types = _field_types(PatientPatch)
    changes = {
        name: _as_the_schema_reads(types, name, value)
        for name, value in body.items()
        if name in PatientPatch.model_fields
        and (value is None or isinstance(value, str | int | float | bool))
    }
    return record_fields(contract_problems(request, "patients", [before | changes]))


def department_problem(conn: Connection, field: str, department_id: str) -> Problem | None:
    """``department_id`` at ``field`` when no such department is stored, with the closest
    stored id as its did-you-mean."""
    known = [str(d) for d in conn.execute(sa.select(schema.departments.c.department_id)).scalars()]
    if department_id in known:
        return None
    return with_hint({"field": field, "message": "unknown department"}, department_id, known)


def token_problems(request: Request, body: Any) -> list[Problem]:
    """POST /v1/tokens: a department token's unknown ``department_id`` (with a did-you-mean)."""
    if not isinstance(body, dict) or not isinstance(body.get("department_id"), str):
        return []
    with request.app.state.engine.connect() as conn:
        problem = department_problem(conn, "department_id", body["department_id"])
    return [problem] if problem is not None else []
