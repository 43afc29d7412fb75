"""Report files written together: rendered in a scratch folder, moved into place when complete."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Staged:
    """A scratch folder to write into, and (after the ``with`` block) where the files went."""

    work: Path
    written: list[Path] = field(default_factory=list)


@contextmanager
def staged_output(out: str | Path, stem: str) -> Iterator[Staged]:
    """Write a report's files into ``staged.work``; on success they move into ``out`` together.

    The scratch folder lies inside ``out`` (same file system, so moves are renames) and is
    removed whatever happens, so a failure half way, e.g. no Chromium for the PDF, leaves
    neither partial files nor a mix of old and new ones.
    """
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{stem}-", dir=folder) as scratch:
        staged = Staged(Path(scratch))
        yield staged
        for file in sorted(staged.work.iterdir()):
            target = folder / file.name
            shutil.move(str(file), target)
            staged.written.append(target)


def write_page(folder: Path, stem: str, html: str, pdf: bool) -> Path:
    """Write ``html`` as ``<stem>.html`` into ``folder`` and, with ``pdf``, print it to
    ``<stem>.pdf`` beside it (headless Chromium); the HTML file's path."""
    page = folder / f"{stem}.html"
    page.write_text(html, encoding="utf-8")
    if pdf:
        from reports.render.pdf import html_to_pdf

        html_to_pdf(page, folder / f"{stem}.pdf")
    return page
