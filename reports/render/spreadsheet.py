"""Excel workbooks whose text cells stay text: no cell a user or region wrote becomes a formula.

openpyxl stores a string starting with ``=`` as a formula, so a reject reason
``=HYPERLINK("http://x","y")`` would open as a live link; Excel also reads ``+``, ``-``, ``@``
and a leading tab or carriage return as the start of a formula when such a cell is edited.
Every workbook the reports write goes through :func:`append_row` (openpyxl sheets built cell by
cell) or :func:`write_frames` (pandas tables). A risky text cell keeps its exact value, is stored
as a string (``data_type "s"``, never ``<f>`` in the sheet's XML) and gets Excel's quote-prefix
style, so editing it does not turn it into a formula either. Numbers, negative ones included,
stay numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl.cell.cell import Cell
from openpyxl.worksheet.worksheet import Worksheet

#: First characters that make a spreadsheet read text as a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value: Any) -> bool:
    """Whether ``value`` is text a spreadsheet would take for a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def keep_text(cell: Cell) -> Cell:
    """``cell`` with risky text stored as a quote-prefixed string (other values unchanged)."""
    if looks_like_formula(cell.value):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def append_row(sheet: Worksheet, values: Iterable[Any]) -> None:
    """Append ``values`` as the sheet's next row; text never becomes a formula."""
    sheet.append(list(values))
    for cell in sheet[sheet.max_row]:
        keep_text(cell)


def write_frames(path: Path, frames: Mapping[str, pd.DataFrame]) -> Path:
    """Write each frame (without its index) as the sheet of its name; text stays text.

    Only the cells found risky are touched: text columns are matched column by column, so a
    national year's weekly table is not walked cell by cell.
    """
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in frames.items():
            frame.to_excel(writer, sheet_name=name, index=False)
            sheet = writer.sheets[name]
            for column in range(1, frame.shape[1] + 1):
                keep_text(sheet.cell(row=1, column=column))
                values = frame.iloc[:, column - 1]
                if values.dtype.kind not in "OSU" and not isinstance(values.dtype, pd.StringDtype):
                    continue
                risky = values.map(looks_like_formula).to_numpy(dtype=bool)
                for row in risky.nonzero()[0]:
                    keep_text(sheet.cell(row=int(row) + 2, column=column))
    return path
