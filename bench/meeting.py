"""Benchmark the meeting's pages: the agenda of the national lung week, against the whole list.

Run on demand (never part of the test run)::

    .venv/bin/python bench/meeting.py                 # the national week (about 975 lung patients)
    .venv/bin/python bench/meeting.py --scale 0.2 --repeat 3   # a quick look

The generated national week (``capacity.generate.generate_week`` at ``--scale``) is stored in a
temporary SQLite file and the lung collaboration is solved once, as a chair would from the page.
Then, in one process and one run, the review page is requested ``--repeat`` times through the
app (Starlette's test client: the whole request path, no network) in three views:

- the agenda (the default view: what needs the meeting);
- one page of the full list (``view=all``, 100 rows);
- the competitor: every proposal on one page, which is what the review page showed before
  issue 14 (``view=all`` with the page size raised to the number of proposals).

It prints the median and spread of the server time of each, the rows each page ships and the
ratio competitor / agenda, then the time to build the meeting pack (HTML and, with
``--pdf``, the PDF through headless Chromium).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script
    sys.path.insert(0, str(ROOT))

WEEK: Final = "2026-W48"
TODAY: Final = "2026-11-23"


def _store(folder: Path, scale: float) -> tuple[str, str]:
    """The generated week stored and the lung collaboration solved: (database URL, token)."""
    from capacity.generate import generate_week
    from capacity.storage import create_database_engine, load_dataset, upgrade_database
    from workflow import runs
    from workflow.access import Principal, Role
    from workflow.runs import SolveRequest
    from workflow.tokens import create_token

    url = f"sqlite:///{(folder / 'bench.sqlite').as_posix()}"
    load_dataset(url, generate_week(week=WEEK, seed=2026, scale=scale))
    engine = create_database_engine(url)
    upgrade_database(engine)
    with engine.begin() as conn:
        token, token_id = create_token(
            conn, Role.COLLABORATION_CHAIR, "Lungeformand", collaboration="lung"
        )
    who = Principal(
        token_id=token_id, name="Lungeformand", role=Role.COLLABORATION_CHAIR, collaboration="lung"
    )
    body = SolveRequest.model_validate({"today": TODAY, "week": WEEK, "collaboration": "lung"})
    runs.start_run(engine, who, body, "/bench")
    engine.dispose()
    return url, token


def _signed_in(url: str, token: str) -> Any:
    from fastapi.testclient import TestClient

    from api.app import create_app

    client = TestClient(create_app(url), base_url="http://testserver")
    client.__enter__()
    client.headers["Origin"] = "http://testserver"
    login = client.get("/web/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', login.text)
    assert csrf is not None
    client.post("/web/login", data={"token": token, "csrf": csrf[1]})
    return client


def _timed(client: Any, path: str, repeat: int) -> tuple[list[float], int]:
    times, rows = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        answer = client.get(path)
        times.append(time.perf_counter() - start)
        assert answer.status_code == 200, answer.text[:300]
        rows = len(re.findall(r'<tr id="p-', answer.text))
    return times, rows


def _line(name: str, times: list[float], rows: int) -> str:
    median = statistics.median(times)
    return (
        f"{name:<34} {median * 1000:8.0f} ms  [{min(times) * 1000:.0f}-{max(times) * 1000:.0f}]"
        f"  {rows:5d} rows"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--pdf", action="store_true", help="also print the pack to PDF")
    args = parser.parse_args(argv)

    from reports.meeting import views

    with tempfile.TemporaryDirectory() as tmp:
        url, token = _store(Path(tmp), args.scale)
        client = _signed_in(url, token)
        page = f"/web/review?collaboration=lung&week={WEEK}"
        _timed(client, page, 1)  # warm: templates compiled, caches filled
        agenda, agenda_rows = _timed(client, page, args.repeat)
        one_page, page_rows = _timed(client, page + "&view=all", args.repeat)
        saved = views.PAGE_SIZE
        views.PAGE_SIZE = 100_000
        try:
            whole, whole_rows = _timed(client, page + "&view=all", args.repeat)
        finally:
            views.PAGE_SIZE = saved
        print(f"national week at scale {args.scale}: lung, {args.repeat} requests each")
        print(_line("agenda (default view)", agenda, agenda_rows))
        print(_line("full list, one page", one_page, page_rows))
        print(_line("competitor: every proposal", whole, whole_rows))
        ratio = statistics.median(whole) / statistics.median(agenda)
        print(f"ratio competitor / agenda: {ratio:.1f}x")
        pack, _ = _timed(client, f"/web/pack?collaboration=lung&week={WEEK}", args.repeat)
        print(_line("meeting pack page (HTML)", pack, 0))
        if args.pdf:
            _pdf(url)
        client.__exit__(None, None, None)
    return 0


def _pdf(url: str) -> None:
    """The pack as ``kapacitet report meeting`` writes it (HTML, PDF, workbook), timed."""
    import subprocess

    kapacitet = Path(sys.executable).with_name("kapacitet")
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        command = [str(kapacitet), "report", "meeting", "--db", url, "--collaboration", "lung"]
        subprocess.run([*command, "--week", WEEK, "--out", out], check=True, capture_output=True)
        elapsed = time.perf_counter() - start
        print(f"{'meeting pack (kapacitet report meeting)':<34} {elapsed:8.1f} s")


if __name__ == "__main__":
    raise SystemExit(main())
