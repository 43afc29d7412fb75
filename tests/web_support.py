"""Helpers for the browser tests: a seeded store, the app on a loopback port, headless Chromium.

Chromium is Debian's (``/usr/bin/chromium``, installed by scripts/test.sh); no browser is ever
downloaded. Screenshots go to ``$KAPACITET_ARTIFACTS`` or ``tests/artifacts``.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from capacity.generate import generate_week
from capacity.storage import create_database_engine, load_dataset, schema, upgrade_database
from tests.http_server import serve
from workflow.access import Role
from workflow.tokens import create_token

WEEK = "2026-W48"
TODAY = "2026-11-23"
#: Patients and slots of the generated national week, scaled down (about 50 lung patients).
SCALE = 0.05
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]


@dataclass(frozen=True)
class Tokens:
    """Bearer tokens of the roles the tests sign in as."""

    chair: str
    region: str
    admin: str
    specialist: str


def seed_store(database_url: str, scale: float = SCALE) -> Tokens:
    """The generated reference week at ``scale`` in the store, and tokens of several roles."""
    load_dataset(database_url, generate_week(week=WEEK, seed=2026, scale=scale))
    engine = create_database_engine(database_url)
    upgrade_database(engine)
    with engine.begin() as connection:
        chair, _ = create_token(
            connection, Role.COLLABORATION_CHAIR, "Lungeformand", collaboration="lung"
        )
        region, _ = create_token(connection, Role.REGION, "Region Syd", region="Syddanmark")
        admin, _ = create_token(connection, Role.ADMIN, "ops")
        specialist, _ = create_token(connection, Role.SPECIALIST_UNIT, "Specialenheden")
    engine.dispose()
    return Tokens(chair=chair, region=region, admin=admin, specialist=specialist)


def browser_like(base: str) -> httpx.Client:
    """An HTTP client that sends ``Origin`` as a browser does with the page's form posts."""
    return httpx.Client(base_url=base, timeout=60, follow_redirects=True, headers={"Origin": base})


@dataclass(frozen=True)
class Site:
    """The app serving a seeded store, and the tokens to sign in with."""

    base: str
    tokens: Tokens
    database_url: str


@contextmanager
def running_site(database_url: str) -> Iterator[Site]:
    """The generated week (small scale) stored and served on a free loopback port."""
    tokens = seed_store(database_url)
    with serve(database_url) as base:
        yield Site(base=base, tokens=tokens, database_url=database_url)


def sign_in(base: str, token: str) -> httpx.Client:
    """An HTTP client signed in to the review page through its login form (cookies kept)."""
    client = browser_like(base)
    login = client.get("/web/login")
    response = client.post("/web/login", data={"token": token, "csrf": form_csrf(login.text)})
    assert response.status_code == 200, response.text
    return client


def form_csrf(page_html: str) -> str:
    """The CSRF token the page's forms carry (the session's secret once signed in)."""
    found = re.search(r'name="csrf" value="([^"]+)"', page_html)
    assert found is not None, "the page has no form with a CSRF token"
    return found[1]


def session_csrf(client: httpx.Client) -> str:
    """The CSRF token of ``client``'s session, read from the review page's forms."""
    return form_csrf(client.get("/web/review").text)


def start_run(client: httpx.Client, collaboration: str = "lung") -> httpx.Response:
    """Start a solve run from the page's form; the answer is the review page of the run."""
    data = {"csrf": session_csrf(client), "week": WEEK, "today": TODAY}
    response = client.post("/web/runs", data=data | {"collaboration": collaboration})
    assert response.status_code == 200, response.text
    return response


def proposal_ids(page_html: str) -> list[str]:
    """The patients of the proposal rows on a review page, in page order."""
    return re.findall(r'<tr id="p-([^"]+)"', page_html)


def chromium_path() -> str:
    """Debian's Chromium, or skip the test saying how to install it (never downloaded)."""
    override = os.environ.get("KAPACITET_CHROMIUM")
    for candidate in (override, "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    pytest.skip("headless Chromium not found at /usr/bin/chromium: apt-get install chromium")


@contextmanager
def browser_page(**context: Any) -> Iterator[Any]:
    """A Playwright page in Debian's headless Chromium (skips when either is missing)."""
    executable = chromium_path()
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(**context).new_page()
            page.set_default_timeout(15_000)
            yield page
        finally:
            browser.close()


def watch_csp(page: Any) -> list[str]:
    """A list that collects the page's content-security-policy violations from now on."""
    refused: list[str] = []

    def collect(message: Any) -> None:
        if "Content Security Policy" in message.text:
            refused.append(message.text)

    page.on("console", collect)
    return refused


def artifacts_dir() -> Path:
    """Where screenshots are kept: ``$KAPACITET_ARTIFACTS``, else ``tests/artifacts``."""
    folder = Path(os.environ.get("KAPACITET_ARTIFACTS") or Path(__file__).with_name("artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def department_token(
    database_url: str, department_id: str, name: str = "Modtagende afdeling"
) -> str:
    """A bearer token of the department role for ``department_id`` (a receiving department)."""
    engine = create_database_engine(database_url)
    with engine.begin() as connection:
        token, _ = create_token(connection, Role.DEPARTMENT, name, department_id=department_id)
    engine.dispose()
    return token


def away_rows(page_html: str) -> list[tuple[str, str, str, str]]:
    """``(patient, home department, receiving department, home region)`` of the review page's
    proposals that move a patient away from the home department."""
    rows = re.findall(
        r'<tr id="p-([^"]+)" class="[^"]*" data-patient="[^"]*" data-home="([^"]*)" '
        r'data-to="([^"]*)" data-region="([^"]*)"',
        page_html,
    )
    return [(pid, home, to, region) for pid, home, to, region in rows if to and to != home]


def department_with_services(database_url: str) -> str:
    """A department of the store with at least two services (the first by id)."""
    engine = create_database_engine(database_url)
    with engine.connect() as conn:
        s = schema.services.c
        found = conn.execute(
            sa.select(s.department_id)
            .group_by(s.department_id)
            .having(sa.func.count() > 1)
            .order_by(s.department_id)
            .limit(1)
        ).scalar_one()
    engine.dispose()
    return str(found)


def declared_slots(database_url: str, department: str) -> dict[tuple[str, str, str], int]:
    """The department's current free slots per (collaboration, procedure, ISO day)."""
    engine = create_database_engine(database_url)
    with engine.connect() as conn:
        d, c = schema.capacity_declarations.c, schema.capacity.c
        rows = conn.execute(
            sa.select(c.collaboration, c.procedure, c.date, c.free_slots)
            .join(schema.capacity_declarations, d.declaration_id == c.declaration_id)
            .where(d.department_id == department, d.superseded.is_(False))
        ).all()
    engine.dispose()
    out: dict[tuple[str, str, str], int] = {}
    for r in rows:
        key = (r.collaboration, r.procedure, r.date.isoformat())
        out[key] = out.get(key, 0) + r.free_slots
    return out
