"""Issue 11, point 8: the API docs load Swagger UI from the package, never from a CDN."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from tests.http_server import serve
from tests.web_support import artifacts_dir, browser_page, watch_csp


@pytest.fixture
def base(database_url: str) -> Iterator[str]:
    """The app on an empty store, served on a free loopback port."""
    with serve(database_url) as served:
        yield served


def test_docs_reference_no_external_host(base: str) -> None:
    """Every script, stylesheet and link of /docs is a path on this server, and is served."""
    page = httpx.get(f"{base}/docs", timeout=60)
    assert page.status_code == 200
    targets = re.findall(r'(?:src|href)="([^"]*)"', page.text)
    assert len(targets) >= 2
    assert all(t.startswith("/") and not t.startswith("//") for t in targets), targets
    assert "http://" not in page.text and "https://" not in page.text
    assert "<script>" not in page.text, "no inline script: the page runs under script-src 'self'"
    for target in targets:
        asset = httpx.get(f"{base}{target}", timeout=60)
        assert asset.status_code == 200, target
        assert asset.headers["content-type"].split(";")[0] in ("text/javascript", "text/css")
    assert httpx.get(f"{base}/docs/assets/LICENSE", timeout=60).status_code == 404
    assert httpx.get(f"{base}/redoc", timeout=60).status_code == 404


def test_docs_render_offline_under_the_content_security_policy(base: str) -> None:
    """In Chromium, /docs shows the API's operations with every request kept on this server
    and no content-security-policy violation."""
    host = urlsplit(base).netloc
    requested: list[str] = []
    with browser_page() as page:
        refused = watch_csp(page)
        page.on("request", lambda request: requested.append(request.url))
        page.route(
            re.compile(r"^https?://(?!" + re.escape(host) + r"/)"),
            lambda route: route.abort(),
        )
        page.goto(f"{base}/docs")
        page.wait_for_selector(".opblock-summary-path")
        assert "kapacitet" in page.locator(".info .title").inner_text()
        assert page.locator(".opblock").count() > 10
        page.screenshot(path=str(artifacts_dir() / "docs.png"))
    outside = [url for url in requested if urlsplit(url).netloc not in (host, "")]
    assert outside == [] and refused == []
