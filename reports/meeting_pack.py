"""The meeting pack's former address: it lives in :mod:`reports.meeting.pack` (the files) and
:mod:`reports.meeting.workbook` (the Excel workbook); these names stay importable from here."""

from reports.meeting.pack import COMMAND_LINE, PackFiles, meeting_from_store, pack_stem, write_pack
from reports.meeting.text import SHEET_TEXT
from reports.meeting.workbook import (
    LEVEL_FILL,
    meeting_workbook,
    proposal_cells,
    proposal_header,
    write_workbook,
)

__all__ = [
    "COMMAND_LINE",
    "LEVEL_FILL",
    "SHEET_TEXT",
    "PackFiles",
    "meeting_from_store",
    "meeting_workbook",
    "pack_stem",
    "proposal_cells",
    "proposal_header",
    "write_pack",
    "write_workbook",
]
