"""Conditional requests (RFC 9110 §13): ``ETag``, ``If-Match`` and ``If-None-Match``.

A patient (``GET``/``PATCH /v1/patients/{id}``) and a department's current capacity
declaration (``GET /v1/capacity/current/{department_id}``, ``POST /v1/capacity``) carry a strong
``ETag``: a hash of the stored record, or of the declaration versions current for the
department. A write sent with ``If-Match`` is made only if the resource still has one of the
listed tags (``*``: any); otherwise it is 412 problem+json and nothing changes. The comparison
is made inside the write's transaction, against the stored version, so of two systems that read
the same version and write, the second learns it. A write without ``If-Match`` is made as
before. A read sent with ``If-None-Match`` naming the current tag is 304 without a body.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from fastapi import Header, Request, Response

from api.problems import ApiProblem

#: ``if_match: IfMatch`` in a write route: the client's If-Match header (None when absent).
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description="Make the write only if the resource's current ETag is one of these "
        "(`*`: any); otherwise 412 and nothing changes. Optional.",
    ),
]

#: ``if_none_match: IfNoneMatch`` in a read route (documents the header; :func:`not_modified`
#: reads it).
IfNoneMatch = Annotated[
    str | None,
    Header(
        alias="If-None-Match",
        description="Answer 304 without a body if the resource's ETag is one of these. Optional.",
    ),
]

#: The OpenAPI description of a response's ETag header.
ETAG_HEADER: dict[str, Any] = {
    "ETag": {
        "description": "The resource's strong entity tag: send it as If-Match with a write, "
        "or as If-None-Match with a read",
        "schema": {"type": "string"},
    }
}


def etag_of(prefix: str, value: Any) -> str:
    """A strong entity tag for ``value`` (any JSON value): ``"<prefix>-<sha256 prefix>"``."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return f'"{prefix}-{hashlib.sha256(text.encode()).hexdigest()[:32]}"'


def _tags(header: str) -> list[str]:
    """The entity tags a header lists; a tag sent without its quotes is read as quoted."""
    tags = []
    for tag in (part.strip() for part in header.split(",")):
        if not tag:
            continue
        weak = tag.startswith("W/")
        bare = tag.removeprefix("W/")
        if bare != "*" and not bare.startswith('"'):
            bare = f'"{bare}"'
        tags.append(("W/" if weak else "") + bare)
    return tags


def matches(header: str, etag: str, *, weak: bool) -> bool:
    """Whether ``header`` (a list of entity tags, or ``*``) names ``etag``.

    Strong comparison (If-Match) never matches a weak tag; weak comparison (If-None-Match)
    ignores the ``W/`` prefix.
    """
    for tag in _tags(header):
        if tag == "*":
            return True
        if weak:
            if tag.removeprefix("W/") == etag:
                return True
        elif tag == etag:
            return True
    return False


class PreconditionFailed(ApiProblem):
    """412: the resource changed since the client read it (its If-Match names another tag)."""

    def __init__(self, what: str) -> None:
        super().__init__(
            412,
            f"{what} changed since you read it (If-Match names another version); read it "
            "again, re-apply your change and send it with the new ETag",
            kind="precondition-failed",
            errors=[{"field": "If-Match", "message": "not the current ETag"}],
        )


def check_if_match(if_match: str | None, current: str, what: str) -> None:
    """:class:`PreconditionFailed` unless the write is unconditional or ``current`` matches."""
    if if_match is not None and not matches(if_match, current, weak=False):
        raise PreconditionFailed(what)


def not_modified(request: Request, etag: str) -> Response | None:
    """The 304 for a read whose If-None-Match names ``etag`` (None otherwise)."""
    header = request.headers.get("if-none-match")
    if header is not None and matches(header, etag, weak=True):
        return Response(status_code=304, headers={"ETag": etag})
    return None


#: ``responses=`` entries of a conditional read: 200 with its ETag, 304.
CONDITIONAL_READ: dict[int | str, dict[str, Any]] = {
    200: {"description": "The resource, with its ETag", "headers": ETAG_HEADER},
    304: {"description": "Not modified: If-None-Match names the current ETag"},
}
