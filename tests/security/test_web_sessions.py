"""Issue 11, point 8: the review page's sessions are the server's, and its forms are this site's."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa

from capacity.storage import create_database_engine, schema
from tests.api.test_api import client
from tests.web_support import (
    WEEK,
    Site,
    browser_like,
    form_csrf,
    proposal_ids,
    running_site,
    session_csrf,
    sign_in,
    start_run,
)
from workflow import tables as store


@pytest.fixture
def site(database_url: str) -> Iterator[Site]:
    """The generated week (small scale) stored and served on a free loopback port."""
    with running_site(database_url) as running:
        yield running


def _decisions(database_url: str) -> int:
    engine = create_database_engine(database_url)
    with engine.connect() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(store.decisions)).scalar_one()
    engine.dispose()
    return int(count)


def _replay(site: Site, session_cookie: str) -> httpx.Response:
    """The review page fetched with nothing but ``session_cookie`` (no redirects followed)."""
    return httpx.get(
        f"{site.base}/web/review",
        params={"collaboration": "lung", "week": WEEK},
        headers={"Cookie": f"kapacitet_session={session_cookie}"},
    )


def _decision_url(page: str) -> str:
    run_id = re.search(r'<option value="(\d+)" selected', page)
    assert run_id is not None
    return f"/web/runs/{run_id[1]}/proposals/{proposal_ids(page)[0]}/decision"


def test_logout_replay_of_the_old_cookie_goes_to_the_login_form(site: Site) -> None:
    """After logout the old session cookie, sent again, gets the login form, not the page."""
    chair = sign_in(site.base, site.tokens.chair)
    old = chair.cookies["kapacitet_session"]
    assert site.tokens.chair not in old
    assert _replay(site, old).status_code == 200, "the cookie signs in before logout"
    chair.post("/web/logout", data={"csrf": session_csrf(chair)})
    replay = _replay(site, old)
    assert replay.status_code == 303 and replay.headers["location"].startswith("/web/login")
    engine = create_database_engine(site.database_url)
    with engine.connect() as conn:
        revoked = conn.execute(sa.select(schema.web_sessions.c.revoked_at)).scalars().all()
    engine.dispose()
    assert len(revoked) == 1 and revoked[0] is not None


def test_revoking_the_token_ends_its_sessions(site: Site) -> None:
    """A session opened with a token ends as soon as an admin revokes that token."""
    chair = sign_in(site.base, site.tokens.chair)
    cookie = chair.cookies["kapacitet_session"]
    admin = client(site.base, site.tokens.admin)
    token_id = next(
        t["token_id"] for t in admin.get("/v1/tokens").json() if t["name"] == "Lungeformand"
    )
    assert admin.delete(f"/v1/tokens/{token_id}").status_code == 200
    replay = _replay(site, cookie)
    assert replay.status_code == 303 and replay.headers["location"].startswith("/web/login")
    assert "/web/login" in str(chair.get("/web/review").url)


def test_a_csrf_token_from_another_session_is_refused(site: Site) -> None:
    """A decision posted with another session's CSRF token is 403 and decides nothing."""
    first = sign_in(site.base, site.tokens.chair)
    page = start_run(first).text
    second = sign_in(site.base, site.tokens.chair)
    assert session_csrf(second) != form_csrf(page)
    answer = second.post(_decision_url(page), data={"decision": "hold", "csrf": form_csrf(page)})
    assert answer.status_code == 403
    run = second.post("/web/runs", data={"csrf": form_csrf(page), "week": WEEK, "today": WEEK})
    assert run.status_code == 403
    assert _decisions(site.database_url) == 0


def test_a_post_from_a_foreign_origin_is_refused(site: Site) -> None:
    """A form post whose Origin (or, without one, Referer) is another site's, or that names
    neither, is 403 even with the right session and CSRF token; nothing is decided."""
    chair = sign_in(site.base, site.tokens.chair)
    page = start_run(chair).text
    data = {"decision": "hold", "csrf": form_csrf(page)}
    url = _decision_url(page)
    foreign = chair.post(url, data=data, headers={"Origin": "http://evil.example"})
    assert foreign.status_code == 403
    by_referer = httpx.Client(base_url=site.base, timeout=60, cookies=chair.cookies)
    referer = by_referer.post(url, data=data, headers={"Referer": "http://evil.example/x"})
    assert referer.status_code == 403
    assert by_referer.post(url, data=data).status_code == 403, "neither header: refused"
    opaque = chair.post(url, data=data, headers={"Origin": "null"})
    assert opaque.status_code == 403
    login = browser_like(site.base)
    form = form_csrf(login.get("/web/login").text)
    hijack = login.post(
        "/web/login",
        data={"token": site.tokens.chair, "csrf": form},
        headers={"Origin": "http://evil.example"},
    )
    assert hijack.status_code == 403 and "kapacitet_session" not in login.cookies
    assert _decisions(site.database_url) == 0
    same_site = chair.post(url, data=data)
    assert same_site.status_code == 200 and _decisions(site.database_url) == 1


def test_an_expired_session_goes_to_the_login_form(site: Site) -> None:
    """A session past its expiry no longer signs in, though its cookie is still sent."""
    chair = sign_in(site.base, site.tokens.chair)
    cookie = chair.cookies["kapacitet_session"]
    engine = create_database_engine(site.database_url)
    with engine.begin() as conn:
        conn.execute(
            schema.web_sessions.update().values(expires_at=store.now() - dt.timedelta(minutes=1))
        )
    engine.dispose()
    replay = _replay(site, cookie)
    assert replay.status_code == 303 and replay.headers["location"].startswith("/web/login")
