"""Issue 11, point 8: text a user typed never becomes a formula in the meeting workbook."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from reports.meeting.pack import meeting_from_store
from reports.meeting.workbook import write_workbook
from tests.web_support import WEEK, Site, form_csrf, proposal_ids, running_site, sign_in, start_run

REASON = '=HYPERLINK("http://x","y")'


@pytest.fixture
def site(database_url: str) -> Iterator[Site]:
    """The generated week (small scale) stored and served on a free loopback port."""
    with running_site(database_url) as running:
        yield running


def _formula_free(workbook: bytes) -> list[tuple[str, str]]:
    """Every (sheet, cell) holding the planted reason; asserts none is stored as a formula."""
    found = []
    book = openpyxl.load_workbook(io.BytesIO(workbook))
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if cell.value == REASON:
                    assert cell.data_type == "s" and cell.quotePrefix
                    found.append((sheet.title, cell.coordinate))
    with zipfile.ZipFile(io.BytesIO(workbook)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                xml = archive.read(name).decode()
                assert "<f>" not in xml and "<f " not in xml, name
    return found


def test_a_formula_typed_as_a_reject_reason_stays_text(site: Site, tmp_path: Path) -> None:
    """A reject reason ``=HYPERLINK(...)`` is a text cell in the downloaded and written workbook."""
    chair = sign_in(site.base, site.tokens.chair)
    page = start_run(chair).text
    run_id = re.search(r'<option value="(\d+)" selected', page)
    assert run_id is not None
    patient = next(
        pid for pid in proposal_ids(page) if 'class="new' in page.split(f'<tr id="p-{pid}"')[1][:40]
    )
    decided = chair.post(
        f"/web/runs/{run_id[1]}/proposals/{patient}/decision",
        data={"decision": "reject", "reason": REASON, "csrf": form_csrf(page)},
    )
    assert decided.status_code == 200 and 'class="tag reject' in decided.text
    download = chair.get("/web/pack.xlsx", params={"collaboration": "lung", "week": WEEK})
    assert download.status_code == 200
    assert len(_formula_free(download.content)) >= 2, "the proposals sheet and its department's"
    meeting = meeting_from_store(site.database_url, "lung", WEEK, run_id=int(run_id[1]))
    written = write_workbook(meeting, tmp_path / "pack.xlsx")
    assert len(_formula_free(written.read_bytes())) >= 2
