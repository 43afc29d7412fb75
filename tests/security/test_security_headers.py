"""Issue 11, point 8: every response, API and page alike, carries the security headers."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.api.test_api import client
from tests.web_support import WEEK, Site, running_site, sign_in, start_run

EXPECTED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


@pytest.fixture
def site(database_url: str) -> Iterator[Site]:
    """The generated week (small scale) stored and served on a free loopback port."""
    with running_site(database_url) as running:
        yield running


def _assert_secured(response: httpx.Response) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (str(response.url), name)
    policy = response.headers.get("content-security-policy", "")
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives.get("frame-ancestors") == "'none'", str(response.url)
    assert directives.get("default-src") == "'self'", str(response.url)
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy, str(response.url)


def test_pages_api_and_docs_carry_the_security_headers(site: Site) -> None:
    """Login form, review pages, pack, JSON (200 and 401), errors and /docs: all secured."""
    anonymous = httpx.Client(base_url=site.base, timeout=60)
    chair = sign_in(site.base, site.tokens.chair)
    start_run(chair)
    where = {"collaboration": "lung", "week": WEEK}
    responses = [
        anonymous.get("/web/login"),
        anonymous.get("/web/review"),
        chair.get("/web/review", params=where),
        chair.get("/web/capacity", params=where),
        chair.get("/web/pack", params=where),
        chair.get("/web/pack.xlsx", params=where),
        chair.get("/web/static/web.css"),
        client(site.base, site.tokens.admin).get("/v1/tokens"),
        anonymous.get("/v1/tokens"),
        anonymous.get("/v1/no-such-route"),
        anonymous.get("/openapi.json"),
        anonymous.get("/docs"),
        anonymous.get("/healthz"),
    ]
    assert [r.status_code for r in responses] == [
        200,
        303,
        200,
        200,
        200,
        200,
        200,
        200,
        401,
        404,
        200,
        200,
        200,
    ]
    for response in responses:
        _assert_secured(response)
    pack_policy = responses[4].headers["content-security-policy"]
    assert "style-src 'self' 'sha256-" in pack_policy, "the pack's inline style, by hash only"
