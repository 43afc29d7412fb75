"""A token asked to live for ever, or named with a NUL character, is 422 on both stores.

Found by calling the API as an outside tester: ``{"expires_in": "99999999999w"}`` overflowed
Python's timedelta inside the request (500), and a NUL in the name was stored on SQLite.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.api.test_api import client, make_token, running_api
from workflow.access import Role
from workflow.tokens import MAX_LIFETIME, parse_duration


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"expires_in": "99999999999w"}, "expires_in"),
        ({"expires_in": "999999w"}, "expires_in"),
        ({"expires_in": "36526d"}, "expires_in"),
        ({"expires_in": "\u0663d"}, "expires_in"),  # an Arabic-Indic three: not a number here
        ({"name": "a\x00b"}, "name"),
    ],
    ids=["huge-weeks", "million-weeks", "century-and-a-day", "arabic-digit", "nul-name"],
)
def test_unstorable_token_requests_are_422(
    database_url: str, shared_dir: Path, body: dict[str, Any], field: str
) -> None:
    with running_api(database_url, shared_dir) as api:
        admin = client(str(api.nord.base_url), make_token(database_url, Role.ADMIN, "root"))
        before = admin.get("/v1/tokens").json()
        response = admin.post("/v1/tokens", json={"role": "admin", "name": "ops"} | body)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in response.json()["errors"]] == [field]
        assert admin.get("/v1/tokens").json() == before
        lived = admin.post("/v1/tokens", json={"role": "admin", "name": "ops", "expires_in": "2w"})
        assert lived.status_code == 201, lived.text


def test_the_longest_lifetime_is_a_century() -> None:
    assert parse_duration("36525d") == MAX_LIFETIME
    with pytest.raises(ValueError, match="at most"):
        parse_duration("5218w")
