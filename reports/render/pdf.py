"""HTML to PDF through Debian's headless Chromium (``apt-get install chromium``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

#: Where to look for a Chromium binary, in order; ``$KAPACITET_CHROMIUM`` comes first.
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")

#: Flags for a quiet, offline, headless Chromium run as root in a container.
HEADLESS_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
)


class ChromiumMissing(RuntimeError):
    """No Chromium binary was found, so no PDF can be printed."""


def find_chromium() -> str:
    """The path of a Chromium binary, or :class:`ChromiumMissing` saying how to install one."""
    override = os.environ.get("KAPACITET_CHROMIUM")
    if override:
        return override
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise ChromiumMissing(
        "printing a PDF needs Chromium; install it with `apt-get install chromium` "
        "or point $KAPACITET_CHROMIUM at a Chromium binary"
    )


def html_to_pdf(html: str | Path, pdf: Path, timeout: float = 120.0) -> Path:
    """Print ``html`` (markup, or the path of an .html file) to ``pdf`` with headless Chromium.

    The PDF is written next to its final name and moved into place, so a failed print leaves
    nothing half written.
    """
    pdf = Path(pdf)
    pdf.parent.mkdir(parents=True, exist_ok=True)
    binary = find_chromium()
    with tempfile.TemporaryDirectory(prefix="kapacitet-pdf-") as scratch:
        work = Path(scratch)
        if isinstance(html, Path):
            source = html.resolve()
        else:
            source = work / "page.html"
            source.write_text(html, encoding="utf-8")
        target = work / "out.pdf"
        command = [
            binary,
            *HEADLESS_FLAGS,
            f"--user-data-dir={work / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={target}",
            source.as_uri(),
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0 or not target.exists() or target.stat().st_size == 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
            raise RuntimeError(f"Chromium could not print {source.name}: " + " | ".join(tail))
        shutil.move(str(target), pdf)
    return pdf
