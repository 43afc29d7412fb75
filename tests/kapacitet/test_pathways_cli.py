"""`kapacitet pathways import|show` on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from capacity.storage import pathways as stored
from kapacitet.cli import app
from tests.capacity.pathway_data import write_events


def test_import_is_idempotent_and_a_bad_file_stores_nothing(
    database_url: str, tmp_path: Path
) -> None:
    write_events(tmp_path / "events.csv", 400, seed=2)
    runner = CliRunner()
    first = runner.invoke(
        app, ["pathways", "import", str(tmp_path / "events.csv"), "--db", database_url]
    )
    assert first.exit_code == 0, first.output
    stored_once = len(stored.read_events(database_url))
    again = runner.invoke(
        app, ["pathways", "import", str(tmp_path / "events.csv"), "--db", database_url]
    )
    assert again.exit_code == 0 and f"0 new, {stored_once} already stored" in again.output
    bad = tmp_path / "bad.csv"
    text = (tmp_path / "events.csv").read_text().replace("started", "begun", 1)
    bad.write_text(text.replace("q0000000", "q9999999"))
    refused = runner.invoke(app, ["pathways", "import", str(bad), "--db", database_url])
    assert refused.exit_code == 1 and "bad.csv:" in refused.output and ":event:" in refused.output
    assert len(stored.read_events(database_url)) == stored_once


def test_lpr3_markers_import_and_show_a_timeline(database_url: str, tmp_path: Path) -> None:
    markers = tmp_path / "lpr3.csv"
    markers.write_text(
        "patient_id,collaboration,home_region,code,date,procedure,department_id\n"
        "m1,breast,Sjælland,AFV01A1A,2026-08-03,,\n"
        "m1,breast,Sjælland,AFV01B,2026-08-20,,SUH-BRK\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    result = runner.invoke(app, ["pathways", "import", str(markers), "--db", database_url])
    assert result.exit_code == 0 and "(lpr3)" in result.output and "not_complied 1" in result.output
    shown = runner.invoke(app, ["pathways", "show", "m1", "--db", database_url])
    assert "started at SUH-BRK" in shown.output
    assert "pathway pre_examination (investigation): deadline 2026-08-17, not_complied" in (
        shown.output
    )


def test_monitoring_from_the_store_counts_what_the_events_imply(
    database_url: str, tmp_path: Path
) -> None:
    import pandas as pd

    from capacity.pathways import derive_pathways, read_events

    write_events(tmp_path / "events.csv", 3000, seed=4)
    runner = CliRunner()
    imported = runner.invoke(
        app, ["pathways", "import", str(tmp_path / "events.csv"), "--db", database_url]
    )
    assert imported.exit_code == 0, imported.output
    out = tmp_path / "out"
    args = ["report", "monitoring", "--quarter", "2026-Q3", "--db", database_url, "--no-pdf"]
    result = runner.invoke(app, [*args, "--out", str(out), "--lang", "en"])
    assert result.exit_code == 0, result.output
    pathways = derive_pathways(read_events(tmp_path / "events.csv"))
    start = pd.to_datetime(pathways["start_date"])
    in_q3 = pathways[(start >= "2026-07-01") & (start <= "2026-09-30")]
    national = pd.read_csv(out / "monitoring-2026-Q3.csv", dtype=str).iloc[0]
    for category in ("within", "health", "patient_wish", "capacity", "not_complied"):
        assert int(national[category]) == int((in_q3["category"] == category).sum()), category
    assert int(national["pathways"]) == len(in_q3)
    html = (out / "monitoring-2026-Q3.html").read_text(encoding="utf-8")
    assert "recorded pathway events" in html and "Denmark by pathway type" in html
    assert "2026-Q2" not in html  # the events start in June: Q2 is not covered, not shown
    # Q4 beside Q3, which the events cover from its first week: Q3's national count again
    fourth = runner.invoke(app, [*args[:3], "2026-Q4", *args[4:], "--out", str(tmp_path / "q4")])
    assert fourth.exit_code == 0, fourth.output
    quarters = pd.read_excel(tmp_path / "q4" / "monitoring-2026-Q4.xlsx", sheet_name="kvartaler")
    previous = quarters[quarters.iloc[:, 0] == "2026-Q3"].iloc[0]
    assert int(previous.iloc[1]) == len(in_q3)


def test_show_on_a_fresh_database_says_no_events(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["pathways", "show", "p1", "--db", f"sqlite:///{tmp_path / 'new.sqlite'}"]
    )
    assert result.exit_code == 1 and "no events recorded for p1" in result.output
