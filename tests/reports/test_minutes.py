"""`kapacitet report minutes` and /web/minutes: exactly the meeting's decisions, grouped by
decision, with who decided and when (Danish time), scoped like the meeting."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import sqlalchemy as sa
from typer.testing import CliRunner

from capacity.storage import create_database_engine
from kapacitet import cli
from reports.meeting.formats import moment
from reports.meeting.minutes import DANISH_TIME, minutes_from_store
from reports.render.spreadsheet import looks_like_formula
from tests.http_server import serve
from tests.web_support import (
    WEEK,
    chromium_path,
    proposal_ids,
    seed_store,
    session_csrf,
    sign_in,
    start_run,
)
from workflow import tables as store

#: The reasons the test's decisions give (one of them a formula, kept as text in the CSV).
REJECT_REASON = "patienten ønsker ikke at rejse"
HOLD_REASON = "afventer patientens svar"


def _minutes(database_url: str, out: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli.app,
        [
            "report",
            "minutes",
            "--collaboration",
            "lung",
            "--week",
            WEEK,
            "--db",
            database_url,
            "--out",
            str(out),
            *extra,
        ],
    )
    return result.exit_code, result.output


def _stored_decisions(database_url: str) -> list[dict[str, object]]:
    """Every decision row with its token's name and the patient's home region."""
    engine = create_database_engine(database_url)
    d, t, p = store.decisions.c, store.api_tokens.c, store.run_proposals.c
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(d.decision_id, d.patient_id, d.decision, d.reason, d.decided_at, d.run_id)
            .add_columns(t.name, p.home_region)
            .outerjoin(store.api_tokens, t.token_id == d.token_id)
            .join(store.run_proposals, (p.run_id == d.run_id) & (p.patient_id == d.patient_id))
            .order_by(d.decision_id)
        )
        found = [dict(row._mapping) for row in rows]
    engine.dispose()
    return found


def _decide(client: object, run_id: str, patient: str, decision: str, reason: str = "") -> None:
    from httpx import Client

    assert isinstance(client, Client)
    response = client.post(
        f"/web/runs/{run_id}/proposals/{patient}/decision",
        data={"decision": decision, "reason": reason, "csrf": session_csrf(client)},
    )
    assert response.status_code == 200 and "error=" not in str(response.url), response.url


def test_minutes_list_exactly_the_decisions_with_who_and_when(tmp_path: Path) -> None:
    """The chair accepts, rejects and holds, the region holds one of its own; the minutes (CLI
    HTML, PDF, CSV and the page) list exactly those four, grouped by decision, with the
    token's name and the moment in Danish time, under the key figures; the region's page
    lists its own patients' decisions only."""
    chromium_path()
    database_url = f"sqlite:///{tmp_path / 'minutes.sqlite'}"
    tokens = seed_store(database_url)
    with serve(database_url) as base:
        chair = sign_in(base, tokens.chair)
        page = start_run(chair).text
        run_id = re.search(r'<option value="(\d+)" selected', page)
        assert run_id is not None
        agenda = proposal_ids(page)
        new = [p for p in agenda if 'class="new' in page.split(f'<tr id="p-{p}"')[1][:40]]
        assert len(new) >= 3
        region = sign_in(base, tokens.region)
        own = proposal_ids(region.get("/web/review").text)
        theirs = next(p for p in own if p not in new[:3])
        _decide(chair, run_id[1], new[0], "accept")
        _decide(chair, run_id[1], new[1], "reject", REJECT_REASON)
        _decide(chair, run_id[1], new[2], "hold", HOLD_REASON)
        _decide(region, run_id[1], theirs, "hold", '=HYPERLINK("http://x")')
        params = {"collaboration": "lung", "week": WEEK}
        review = chair.get("/web/review", params=params).text
        assert 'href="/web/minutes?' in review and 'href="/web/minutes.csv?' in review
        web_page = chair.get("/web/minutes", params=params)
        assert web_page.status_code == 200
        web_csv = chair.get("/web/minutes.csv", params=params)
        assert web_csv.headers["content-type"].startswith("text/csv")
        regional = region.get("/web/minutes", params=params).text
    stored = _stored_decisions(database_url)
    assert [(r["patient_id"], r["decision"]) for r in stored] == [
        (new[0], "accept"),
        (new[1], "reject"),
        (new[2], "hold"),
        (theirs, "hold"),
    ]
    out = tmp_path / "minutes"
    code, output = _minutes(database_url, out)
    assert code == 0, output
    assert f"(run {run_id[1]}; 1 accepted, 1 rejected, 2 on hold)" in output
    stem = out / f"minutes-lung-{WEEK}"
    html = stem.with_suffix(".html").read_text(encoding="utf-8")
    assert stem.with_suffix(".pdf").read_bytes()[:5] == b"%PDF-"
    # key figures first, then the decisions grouped accept, reject, hold
    assert html.index('data-figure="breaches"') < html.index('id="decisions-h"')
    groups = [html.index(f'id="group-{kind}"') for kind in ("accept", "reject", "hold")]
    assert groups == sorted(groups)
    listed = re.findall(
        r'data-decision-id="(\d+)" data-patient="([^"]+)" data-decision="(\w+)"', html
    )
    assert [(p, d) for _, p, d in listed] == [
        (new[0], "accept"),
        (new[1], "reject"),
        (new[2], "hold"),
        (theirs, "hold"),
    ]
    for row in stored:
        entry = html.split(f'data-decision-id="{row["decision_id"]}"')[1].split("</tr>")[0]
        decided_at = row["decided_at"]
        assert isinstance(decided_at, dt.datetime)
        assert str(row["name"]) in entry and moment(decided_at, "da") in entry
        if row["reason"]:
            assert str(row["reason"]).replace('"', "&#34;") in entry
    assert web_page.text.split('id="decisions-h"')[1] == html.split('id="decisions-h"')[1]
    # the CSV: the same four, the moment in Danish time with its offset, the reason exact
    archived = list(csv.DictReader(io.StringIO(stem.with_suffix(".csv").read_text("utf-8"))))
    assert archived == list(csv.DictReader(io.StringIO(web_csv.text)))
    assert [(r["patient_id"], r["decision"], r["decided_by"]) for r in archived] == [
        (new[0], "accept", "Lungeformand"),
        (new[1], "reject", "Lungeformand"),
        (new[2], "hold", "Lungeformand"),
        (theirs, "hold", "Region Syd"),
    ]
    for row, line in zip(stored, archived, strict=True):
        decided_at = row["decided_at"]
        assert isinstance(decided_at, dt.datetime)
        utc = decided_at if decided_at.tzinfo else decided_at.replace(tzinfo=dt.UTC)
        utc = utc.replace(microsecond=0)
        assert dt.datetime.fromisoformat(line["decided_at"]) == utc
        assert line["decided_at"] == utc.astimezone(DANISH_TIME).isoformat(timespec="seconds")
        reason = str(row["reason"] or "")
        # a formula-like reason stays text in a spreadsheet: a leading apostrophe, as the
        # workbook's quote prefix
        assert line["reason"] == (f"'{reason}" if looks_like_formula(reason) else reason)
        assert line["run_id"] == run_id[1]
    # the region: its own patients' decisions only
    own_rows = [r for r in stored if r["home_region"] == "Syddanmark"]
    shown = re.findall(r'data-decision-id="\d+" data-patient="([^"]+)"', regional)
    assert shown == [r["patient_id"] for r in own_rows] and theirs in shown


def test_an_accepted_alternative_is_marked_and_decisions_of_other_runs_are_left_out(
    tmp_path: Path,
) -> None:
    """An accept of another department and day than proposed is listed as an alternative
    chosen; decisions on another week's run are not the meeting's."""
    database_url = f"sqlite:///{tmp_path / 'minutes.sqlite'}"
    seed_store(database_url)
    out = tmp_path / "pack"
    result = CliRunner().invoke(
        cli.app,
        [
            "report",
            "meeting",
            "--collaboration",
            "lung",
            "--week",
            WEEK,
            "--db",
            database_url,
            "--out",
            str(out),
            "--no-pdf",
        ],
    )
    assert result.exit_code == 0, result.output
    engine = create_database_engine(database_url)
    with engine.begin() as conn:
        proposals = [
            row
            for row in conn.execute(
                sa.select(store.run_proposals.c.patient_id, store.run_proposals.c.proposal)
            )
            if row.proposal["action"] == "new"
        ]
        chosen = proposals[0]
        inserted = conn.execute(
            store.solve_runs.insert().values(
                status="done", today=dt.date(2026, 11, 30), week="2026-W49", collaboration="lung"
            )
        ).inserted_primary_key
        assert inserted is not None
        other_week = inserted[0]
        at = dt.datetime(2026, 11, 23, 13, 5, tzinfo=dt.UTC)
        conn.execute(
            store.decisions.insert(),
            [
                {
                    "run_id": 1,
                    "patient_id": chosen.patient_id,
                    "department_id": "ZZZ-ALT",
                    "date": dt.date(2026, 11, 27),
                    "decision": "accept",
                    "reason": "nærmere hjemmet",
                    "decided_at": at,
                    "token_id": 999,
                },
                {
                    "run_id": other_week,
                    "patient_id": proposals[1].patient_id,
                    "department_id": None,
                    "date": None,
                    "decision": "hold",
                    "reason": None,
                    "decided_at": at,
                    "token_id": 999,
                },
            ],
        )
    engine.dispose()
    minutes = minutes_from_store(database_url, "lung", WEEK)
    assert [(e.patient_id, e.decision, e.alternative) for e in minutes.entries] == [
        (chosen.patient_id, "accept", True)
    ]
    entry = minutes.entries[0]
    assert (entry.decided_department_id, entry.decided_date) == ("ZZZ-ALT", "2026-11-27")
    assert entry.decided_by == "token 999"
    code, output = _minutes(database_url, tmp_path / "minutes", "--no-pdf")
    assert code == 0, output
    html = (tmp_path / "minutes" / f"minutes-lung-{WEEK}.html").read_text(encoding="utf-8")
    assert "alternativ valgt" in html and "ZZZ-ALT" in html and "23. nov. kl. 14.05" in html


def test_a_bad_week_or_run_exits_2_naming_it(tmp_path: Path) -> None:
    """A week that does not exist or has no finished run, and an unknown run or one of another
    week, exit 2 with a message naming the option; nothing is written."""
    database_url = f"sqlite:///{tmp_path / 'minutes.sqlite'}"
    seed_store(database_url)
    code, output = _minutes(database_url, tmp_path / "refused", "--no-pdf")
    assert code == 2 and f"--week: no finished solve run of lung in {WEEK}" in output
    result = CliRunner().invoke(
        cli.app,
        [
            "report",
            "meeting",
            "--collaboration",
            "lung",
            "--week",
            WEEK,
            "--db",
            database_url,
            "--out",
            str(tmp_path / "pack"),
            "--no-pdf",
        ],
    )
    assert result.exit_code == 0, result.output
    base = ["report", "minutes", "--collaboration", "lung", "--db", database_url, "--no-pdf"]
    cases = {
        ("--week", "2026-W54"): "--week: expected an existing ISO week",
        ("--week", "2026-48"): "--week: expected an existing ISO week",
        ("--week", WEEK, "--run", "7"): "--run: there is no solve run 7",
        ("--week", "2026-W47", "--run", "1"): f"--run: solve run 1 is of week {WEEK}, not 2026-W47",
        ("--week", WEEK, "--collaboration", "lunge"): "did you mean 'lung'",
        ("--week", WEEK, "--lang", "fr"): "--lang: expected da or en",
    }
    for extra, message in cases.items():
        result = CliRunner().invoke(cli.app, [*base, *extra, "--out", str(tmp_path / "refused")])
        assert result.exit_code == 2 and message in result.output, (extra, result.output)
        assert "Traceback" not in result.output
    refused = tmp_path / "refused"
    assert not refused.exists() or not list(refused.iterdir())
