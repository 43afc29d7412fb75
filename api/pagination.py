"""One way to page through every collection: ``limit`` and an opaque ``cursor``.

A collection still answers a plain JSON array (clients that read arrays keep working), now at
most ``limit`` items (1–1000, default :data:`DEFAULT_LIMIT`) in the collection's fixed order.
When more items follow, the response says where the next page is, twice:

- ``Link: </v1/patients?limit=2&cursor=WyJwdDQyeDAwMDAyIl0>; rel="next"`` (RFC 8288; the
  reference is relative to the request, so it stays right behind a reverse proxy), and
- ``X-Next-Cursor: WyJwdDQyeDAwMDAyIl0``: send it back as ``?cursor=`` with the same filters.

The last page carries neither header. A cursor is the base64url of the last item's sort key
(JSON); clients treat it as opaque. One this collection did not give out is 422 problem+json
naming ``cursor``. Pages are keyset pages: an item added or removed between two requests
neither repeats nor shifts the items after the cursor.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query, Request, Response

from api.problems import ApiProblem

#: Items per page when a request names no ``limit``.
DEFAULT_LIMIT = 1000
#: The most items one page holds.
MAX_LIMIT = 1000
#: The longest cursor accepted (every cursor this API gives out is far shorter).
MAX_CURSOR = 1000

Item = TypeVar("Item")
#: A sort key as a cursor holds it: a short tuple of strings and integers.
Key = tuple[str | int, ...]

BAD_CURSOR = "not a cursor this list gave out; start again without it"


@dataclass(frozen=True)
class Page:
    """The page a request asks for: at most ``limit`` items after the ``cursor``'s key."""

    limit: int
    cursor: str | None = None

    def after(self, *kinds: type) -> Key | None:
        """The sort key the cursor names, checked to hold one value of each of ``kinds``
        (``str`` or ``int``); ``None`` without a cursor, 422 naming ``cursor`` for a bad one."""
        if self.cursor is None:
            return None
        return decode(self.cursor, kinds)

    def after_int(self) -> int | None:
        """The integer key a one-integer cursor holds (None without a cursor)."""
        key = self.after(int)
        return None if key is None else int(key[0])

    def after_str(self) -> str | None:
        """The text key a one-string cursor holds (None without a cursor)."""
        key = self.after(str)
        return None if key is None else str(key[0])


def encode(key: Sequence[str | int]) -> str:
    """The cursor for ``key``: base64url of its JSON, without padding."""
    text = json.dumps(list(key), ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(cursor: str, kinds: Sequence[type]) -> Key:
    """The key a cursor holds; :class:`ApiProblem` 422 at ``cursor`` unless it is ``kinds``."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw.decode())
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise bad_cursor() from None
    if not isinstance(key, list) or len(key) != len(kinds):
        raise bad_cursor()
    for value, kind in zip(key, kinds, strict=True):
        if type(value) is not kind:  # bool is not an int here
            raise bad_cursor()
        if isinstance(value, int) and not -(2**31) <= value <= 2**31 - 1:
            raise bad_cursor()
        if isinstance(value, str) and ("\x00" in value or len(value) > 200):
            raise bad_cursor()
    return tuple(key)


def bad_cursor() -> ApiProblem:
    """The 422 for a cursor this API did not give out (or one of another list)."""
    return ApiProblem(
        422,
        "the cursor is not valid for this list",
        kind="validation",
        errors=[{"field": "cursor", "message": BAD_CURSOR}],
    )


def page_of(maximum: int = MAX_LIMIT, default: int = DEFAULT_LIMIT) -> Callable[..., Page]:
    """The dependency reading ``limit`` (1..``maximum``, default ``default``) and ``cursor``."""

    def dependency(
        limit: int = Query(
            default,
            ge=1,
            le=maximum,
            description=f"Items per page, 1-{maximum} (default {default}). When more follow, "
            'the response carries `Link: <...>; rel="next"` and `X-Next-Cursor`.',
        ),
        cursor: str | None = Query(
            None,
            min_length=1,
            max_length=MAX_CURSOR,
            description="Where the page starts: the `X-Next-Cursor` of the previous page "
            "(opaque; send the same filters). Left out: the first page.",
        ),
    ) -> Page:
        return Page(limit, cursor)

    return dependency


#: A route's page parameters: ``page: Paged`` (limit 1-1000, default 1000, and cursor).
Paged = Annotated[Page, Depends(page_of())]

#: The OpenAPI description of a page's 200 response headers (``responses=paged(...)``).
PAGE_HEADERS: dict[str, Any] = {
    "Link": {
        "description": 'The next page, `<relative URL>; rel="next"` (RFC 8288); absent on '
        "the last page",
        "schema": {"type": "string"},
    },
    "X-Next-Cursor": {
        "description": "The cursor of the next page (send it as `?cursor=`); absent on the "
        "last page",
        "schema": {"type": "string"},
    },
}


def paged(
    description: str = "One page of the collection, as a JSON array",
) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a paged route: its 200 with the page headers."""
    return {200: {"description": description, "headers": PAGE_HEADERS}}


def finish(
    request: Request,
    response: Response,
    page: Page,
    fetched: Sequence[Item],
    key: Callable[[Item], Sequence[str | int]],
) -> list[Item]:
    """The page of ``fetched`` (up to ``limit`` + 1 items after the cursor, in order): its
    first ``limit`` items, with the next-page headers set when there were more."""
    items = list(fetched[: page.limit])
    if len(fetched) > page.limit and items:
        cursor = encode(key(items[-1]))
        url = request.url.include_query_params(cursor=cursor, limit=page.limit)
        response.headers["Link"] = f'<{url.path}?{url.query}>; rel="next"'
        response.headers["X-Next-Cursor"] = cursor
    return items


def in_memory(
    request: Request,
    response: Response,
    page: Page,
    items: Sequence[Item],
    key: Callable[[Item], Key],
    kinds: Sequence[type],
) -> list[Item]:
    """The page of a list computed whole, in ``key`` order (Python's, whatever order the
    database's collation gave the list): the items whose key follows the cursor's, cut by
    :func:`finish`."""
    after = page.after(*kinds)
    ordered = sorted(items, key=key)
    rest = [item for item in ordered if after is None or key(item) > after]
    return finish(request, response, page, rest[: page.limit + 1], key)
