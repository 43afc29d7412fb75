"""The documentation is complete in a checkout: every relative link resolves inside it."""

from __future__ import annotations

import filecmp
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def _documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


@pytest.mark.parametrize("document", _documents(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_stay_in_the_repository(document: Path) -> None:
    text = document.read_text(encoding="utf-8")
    for target in LINK.findall(text):
        if "://" in target or target.startswith("mailto:"):
            continue
        resolved = (document.parent / target).resolve()
        assert resolved.is_relative_to(ROOT), f"{target} points outside the repository"
        assert resolved.exists(), f"{target} does not exist"
    assert "../shared" not in text, "docs must not cite files outside the repository"


def test_the_contract_copy_matches_the_original(shared_dir: Path) -> None:
    original = shared_dir / "contract"
    if not original.exists():
        pytest.skip("the shared contract is not beside this checkout")
    copy = ROOT / "docs" / "contract"
    assert filecmp.cmp(original / "exchange-formats.md", copy / "exchange-formats.md", False)
    for path in (original / "example").iterdir():
        assert filecmp.cmp(path, copy / "example" / path.name, shallow=False), path.name
