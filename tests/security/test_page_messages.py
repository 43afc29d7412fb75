"""Issue 11, point 8: the review page words its notices and errors itself, never the query's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.web_support import WEEK, Site, running_site, sign_in, start_run


@pytest.fixture
def site(database_url: str) -> Iterator[Site]:
    """The generated week (small scale) stored and served on a free loopback port."""
    with running_site(database_url) as running:
        yield running


def test_query_string_text_never_reaches_the_page(site: Site) -> None:
    """``?error=<script>…`` and free text in ``notice``/``patient`` are not shown; a known code
    shows the server's own words."""
    chair = sign_in(site.base, site.tokens.chair)
    page = start_run(chair).text
    assert 'role="status"' in page, "a run's notice is shown after starting it"
    planted = {
        "error": "<script>alert(1)</script>",
        "notice": "Ring 70 20 30 40 og oplys dit CPR-nummer",
        "patient": "Ring 70 20 30 40",
    }
    for name, text in planted.items():
        params = {"collaboration": "lung", "week": WEEK, name: text}
        shown = chair.get("/web/review", params=params).text
        assert text not in shown and "&lt;script&gt;" not in shown
        assert "70 20 30 40" not in shown
    words = chair.get(
        "/web/review",
        params={"collaboration": "lung", "week": WEEK, "notice": "accept", "patient": "pt-x"},
    ).text
    assert "pt-x" not in words and "Beslutningen er gemt." in words
    known = chair.get(
        "/web/review", params={"collaboration": "lung", "week": WEEK, "error": "bad_form"}
    )
    assert 'role="alert">Formularen er udløbet. Prøv igen.<' in known.text
    login = chair.get("/web/login", params={"error": "<b>planted</b>", "next": "/web/x"}).text
    assert "planted" not in login
