"""Issue 15.2: the department's Excel template: written with its services and days, locked
headers and data validation; a filled one read with sheet!cell errors and stored as a partial
declaration, from the CLI and over the API."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from capacity.errors import Invalid
from capacity.generate import generate_week
from capacity.storage import create_database_engine, load_dataset, schema, upgrade_database
from interop.capacity_workbook import META_SHEET, parse_weeks, read_template, template_bytes
from tests.http_server import serve
from tests.web_support import declared_slots, department_with_services
from workflow.access import Role
from workflow.tokens import create_token

KAPACITET = Path(sys.executable).with_name("kapacitet")
WEEKS = "2026-W48..2026-W49"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def store(database_url: str) -> str:
    load_dataset(database_url, generate_week(week="2026-W48", seed=2026, scale=0.05))
    engine = create_database_engine(database_url)
    upgrade_database(engine)
    engine.dispose()
    return database_url


def _template(database_url: str, department: str) -> bytes:
    engine = create_database_engine(database_url)
    with engine.connect() as conn:
        data = template_bytes(conn, department, parse_weeks(WEEKS))
    engine.dispose()
    return data


def test_the_template_has_the_departments_services_days_and_protection(store: str) -> None:
    department = department_with_services(store)
    book = load_workbook(io.BytesIO(_template(store, department)))
    assert book.sheetnames == ["2026-W48", "2026-W49", META_SHEET]
    assert book[META_SHEET].sheet_state == "hidden"
    sheet = book["2026-W48"]
    assert sheet.protection.sheet, "headers locked"
    assert sheet["A4"].value.date().isoformat() == "2026-11-23" and sheet["B4"].value == "mandag"
    assert sheet["A10"].value.date().isoformat() == "2026-11-29"
    meta = {row[0]: row[1] for row in book[META_SHEET].iter_rows(values_only=True)}
    assert meta["department_id"] == department
    services = [r[1] for r in book[META_SHEET].iter_rows(values_only=True) if r[0] == "service"]
    assert len(services) >= 2 and sheet.cell(3, 3 + len(services) - 1).value
    assert not sheet["C4"].protection.locked and sheet["A4"].protection.locked
    rules = sheet.data_validations.dataValidation
    assert rules and rules[0].type == "whole" and rules[0].formula2 == "999"
    # pre-filled with the current declaration
    current = declared_slots(store, department)
    collaboration, procedure = services[0].split("/")
    assert sheet["C4"].value == current.get((collaboration, procedure, "2026-11-23"))


def test_a_filled_template_is_read_with_sheet_and_cell_errors(store: str) -> None:
    department = department_with_services(store)
    book = load_workbook(io.BytesIO(_template(store, department)))
    sheet = book["2026-W49"]
    sheet["C5"] = "mange"
    sheet["D6"] = -1
    sheet["C7"] = 2.5
    sheet["A8"] = "i går"
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(Invalid) as refused:
        read_template(buffer.getvalue(), "filled.xlsx")
    fields = [e["field"] for e in refused.value.errors or []]
    assert fields == ["2026-W49!C5", "2026-W49!D6", "2026-W49!C7", "2026-W49!A8"]
    with pytest.raises(Invalid) as not_a_workbook:
        read_template(b"PK\x03\x04 no zip", "broken.xlsx")
    assert "not an Excel workbook" in str(not_a_workbook.value)


def test_cli_imports_only_the_filled_cells_and_nothing_on_error(store: str, tmp_path: Path) -> None:
    department = department_with_services(store)
    path = tmp_path / "template.xlsx"
    command = [str(KAPACITET), "capacity", "template", "--department", department]
    written = subprocess.run(
        [*command, "--weeks", WEEKS, "--out", str(path), "--db", store],
        capture_output=True,
        text=True,
    )
    assert written.returncode == 0, written.stderr
    before = declared_slots(store, department)
    book = load_workbook(path)
    services = [r[1] for r in book[META_SHEET].iter_rows(values_only=True) if r[0] == "service"]
    sheet = book["2026-W49"]
    for row in sheet.iter_rows(min_row=4, max_row=10, min_col=3, max_col=2 + len(services)):
        for cell in row:
            cell.value = None  # empty: unchanged
    sheet["C4"] = 17  # Monday 30 Nov, first service
    bad = tmp_path / "bad.xlsx"
    sheet["D5"] = "x"
    book.save(bad)
    refused = subprocess.run(
        [str(KAPACITET), "capacity", "import", str(bad), "--db", store],
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 1 and "bad.xlsx: 2026-W49!D5: free slots" in refused.stderr
    assert declared_slots(store, department) == before, "nothing stored"
    sheet["D5"] = None
    good = tmp_path / "good.xlsx"
    book.save(good)
    stored = subprocess.run(
        [str(KAPACITET), "capacity", "import", str(good), "--db", store],
        capture_output=True,
        text=True,
    )
    assert stored.returncode == 0, stored.stderr
    after = declared_slots(store, department)
    collaboration, procedure = services[0].split("/")
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert changed == {(collaboration, procedure, "2026-11-30")}
    assert after[(collaboration, procedure, "2026-11-30")] == 17


def test_the_api_serves_the_template_and_stores_an_upload(store: str) -> None:
    department = department_with_services(store)
    engine = create_database_engine(store)
    with engine.begin() as conn:
        mine, _ = create_token(conn, Role.DEPARTMENT, "sekretær", department_id=department)
        other = next(
            d
            for d in conn.execute(sa.select(schema.departments.c.department_id)).scalars()
            if d != department
        )
        theirs, _ = create_token(conn, Role.DEPARTMENT, "anden", department_id=other)
        region, _ = create_token(conn, Role.REGION, "region", region="Syddanmark")
    engine.dispose()
    with serve(store) as base:

        def get(token: str, **params: str) -> httpx.Response:
            return httpx.get(
                f"{base}/v1/capacity/template.xlsx",
                params=params,
                headers={"Authorization": f"Bearer {token}"},
                timeout=60,
            )

        def post(token: str, data: bytes, kind: str = XLSX) -> httpx.Response:
            return httpx.post(
                f"{base}/v1/capacity/workbook",
                content=data,
                headers={"Authorization": f"Bearer {token}", "Content-Type": kind},
                timeout=60,
            )

        answer = get(mine, weeks=WEEKS)
        assert answer.status_code == 200 and answer.headers["content-type"] == XLSX
        assert get(region, weeks=WEEKS).status_code == 403
        bad_weeks = get(mine, weeks="W49")
        assert bad_weeks.status_code == 422
        assert bad_weeks.headers["content-type"] == "application/problem+json"
        book = load_workbook(io.BytesIO(answer.content))
        book["2026-W48"]["C4"] = 9
        buffer = io.BytesIO()
        book.save(buffer)
        assert post(theirs, buffer.getvalue()).status_code == 403, "another department's"
        stored = post(mine, buffer.getvalue())
        assert stored.status_code == 200, stored.text
        assert stored.json()["new"] >= 1
        book["2026-W48"]["C5"] = "seks"
        buffer = io.BytesIO()
        book.save(buffer)
        refused = post(mine, buffer.getvalue())
        assert refused.status_code == 422
        assert [e["field"] for e in refused.json()["errors"]] == ["2026-W48!C5"]
        assert post(mine, b"{}", "application/json").status_code == 422
        assert post(mine, b"not a workbook").status_code == 422
