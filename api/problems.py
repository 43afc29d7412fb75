"""RFC 9457 problem details (``application/problem+json``) for every error the API returns."""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from capacity.errors import Conflict, Forbidden, Invalid, KapacitetError, NotFound, QuotaExceeded
from workflow.errors import InternalFailure, Unavailable

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://kapacitet.dk/problems/"


_PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                    "suggestion": {
                        "type": "string",
                        "description": "did you mean: the closest known value",
                    },
                },
            },
        },
    },
    "examples": [
        {
            "type": TYPE_BASE + "validation",
            "title": "Unprocessable Entity",
            "status": 422,
            "detail": "1 field(s) invalid; see errors",
            "errors": [{"field": "patients[3].deadline", "message": "Input should be a date"}],
        }
    ],
}

#: Every route's error responses in the OpenAPI document: problem+json for 4xx and 5xx.
RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {
        "description": description,
        "content": {MEDIA_TYPE: {"schema": _PROBLEM_SCHEMA}},
    }
    for code, description in (
        ("4XX", "A client error (RFC 9457 problem details, with field paths for 422)"),
        ("5XX", "A server error (problem details revealing nothing of the internals)"),
    )
}


class ApiProblem(KapacitetError):
    """An HTTP-only error a client can act on (401, 400): its status, title and what went wrong.

    The workflow never raises it (it raises :mod:`capacity.errors`); it is a domain error too
    so that whatever catches those catches this. ``errors`` lists field problems as
    ``{"field": "patients[3].deadline", "message": ...}``.
    """

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        kind: str | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(detail, errors=errors)
        self.status = status
        self.detail = detail
        self.kind = kind or HTTPStatus(status).phrase.lower().replace(" ", "-")
        self.errors = errors


def problem_response(
    status: int, detail: str, *, kind: str | None = None, errors: list[dict[str, Any]] | None = None
) -> JSONResponse:
    """The problem+json response for ``status`` with ``detail`` (and field ``errors``)."""
    body: dict[str, Any] = {
        "type": TYPE_BASE + (kind or HTTPStatus(status).phrase.lower().replace(" ", "-")),
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """A pydantic location as a field path: ``("body", "patients", 3, "deadline")`` →
    ``patients[3].deadline``."""
    parts = [part for part in loc if part not in ("body", "query", "path")]
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "body"


_DID_YOU_MEAN = re.compile(r"did you mean '((?:[^'\\]|\\.)*)'\?")


def with_suggestions(errors: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """Field problems with each message's did-you-mean also as ``suggestion`` (the known
    value a client can offer its user or retry with)."""
    if errors is None:
        return None
    found = []
    for problem in errors:
        hint = _DID_YOU_MEAN.search(str(problem.get("message", "")))
        if hint is not None and "suggestion" not in problem:
            problem = {**problem, "suggestion": hint.group(1)}
        found.append(problem)
    return found


def domain_status(error: KapacitetError) -> int:
    """The HTTP status of a domain error (:mod:`capacity.errors`, :mod:`workflow.errors`):
    404, 403, 429, 409, 422, 503 or 500."""
    if isinstance(error, ApiProblem):
        return error.status
    for kind, status in (
        (NotFound, 404),
        (Forbidden, 403),
        (QuotaExceeded, 429),
        (Conflict, 409),
        (Invalid, 422),
        (Unavailable, 503),
        (InternalFailure, 500),
    ):
        if isinstance(error, kind):
            return status
    return 422


def domain_kind(error: KapacitetError) -> str | None:
    """The problem type of a domain error: its own ``kind``, ``validation`` for any other
    :class:`Invalid`, else the status's phrase (``None``)."""
    kind: str | None = getattr(error, "kind", None)
    if kind is None and isinstance(error, Invalid):
        return "validation"
    return kind


def install(app: FastAPI) -> None:
    """Map every error the app can raise to problem+json; a client mistake is never a 500."""

    @app.exception_handler(ApiProblem)
    async def _api_problem(request: Request, error: ApiProblem) -> JSONResponse:
        return problem_response(error.status, error.detail, kind=error.kind, errors=error.errors)

    @app.exception_handler(KapacitetError)
    async def _domain(request: Request, error: KapacitetError) -> JSONResponse:
        return problem_response(
            domain_status(error),
            error.message,
            kind=domain_kind(error),
            errors=with_suggestions(error.errors),
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        # every problem at once: the schema's (enums with a did-you-mean) and those the
        # route's body check finds in the same body (api.validation)
        from api import validation

        schema = [
            validation.schema_problem(field_path(item["loc"]), item) for item in error.errors()
        ]
        extra = await run_in_threadpool(validation.extra_problems, request, error.body)
        errors = with_suggestions(validation.merged(schema, extra) if extra else schema) or []
        return problem_response(
            422,
            f"{len(errors)} field(s) invalid; see errors",
            kind="validation",
            errors=errors,
        )

    @app.exception_handler(DataError)
    async def _unstorable(request: Request, error: DataError) -> JSONResponse:
        # The driver refused a value the client sent (PostgreSQL: a NUL character, text longer
        # than its column); the transaction was rolled back, so nothing was half written.
        return problem_response(
            422,
            "a value cannot be stored or searched for: a NUL character, or text longer than "
            "its field allows; check the strings sent",
            kind="validation",
        )

    @app.exception_handler(RecursionError)
    async def _too_deep(request: Request, error: RecursionError) -> JSONResponse:
        # A body nested thousands deep parses (or is walked) past Python's recursion limit.
        return too_deep()

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        # Only the server's own faults land here; the client learns nothing of the internals.
        return problem_response(500, "an unexpected error; it has been logged", kind="internal")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if isinstance(error.__cause__, RecursionError):  # FastAPI's 400 for an unparsable body
            return too_deep()
        return problem_response(error.status_code, str(error.detail))


def too_deep() -> JSONResponse:
    """422 for a body nested too deeply to read (JSON arrays or objects thousands deep)."""
    return problem_response(
        422,
        "the body is nested too deeply to read; send flat records",
        kind="validation",
        errors=[{"field": "body", "message": "nested too deeply"}],
    )
