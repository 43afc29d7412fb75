"""The solve command's extra outputs: JSON, HTML review page, shadow prices, baseline."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from kapacitet.cli import app

EXAMPLE = Path(__file__).resolve().parents[2].parent / "shared" / "contract" / "example-tight"


def test_solve_writes_json_html_and_shadow_prices(tmp_path: Path) -> None:
    """--json, --html and --shadow-prices write the explanation, the page and the prices."""
    args = [
        "solve",
        str(EXAMPLE),
        "--today",
        "2026-11-23",
        "--out",
        str(tmp_path / "p.csv"),
        "--json",
        str(tmp_path / "s.json"),
        "--html",
        str(tmp_path / "s.html"),
        "--shadow-prices",
        str(tmp_path / "shadow.csv"),
        "--compare-baseline",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    payload = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert payload["tiers"]["breaches"] == 9 and payload["proof"]["certificate"] == "verified"
    away = [p for p in payload["proposals"] if p["category"] not in ("home_department", "")]
    assert away and all(p["why_not"] for p in away)
    page = (tmp_path / "s.html").read_text(encoding="utf-8")
    assert "Why not" in page and "pt43x00000" in page
    with (tmp_path / "shadow.csv").open(encoding="utf-8") as handle:
        first = next(csv.DictReader(handle))
    assert int(first["breaches_saved"]) >= 1
    assert "current practice" in result.output


def test_bad_today_is_a_usage_error() -> None:
    """An unparsable --today exits 2 with a message naming the option."""
    result = CliRunner().invoke(app, ["solve", str(EXAMPLE), "--today", "23/11/2026"])
    assert result.exit_code == 2
    assert "--today" in result.output
