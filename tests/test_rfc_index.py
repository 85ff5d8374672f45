"""Every RFC the code cites is listed in docs/rfc-index.md with a status."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CITATION = re.compile(r"RFC[ -](\d{3,4})")
ROW = re.compile(r"^\|\s*\[?RFC (\d{3,4})\]?.*\|\s*(done|partial|planned)\s*\|", re.MULTILINE)


def _cited() -> dict[str, set[str]]:
    cited: dict[str, set[str]] = {}
    for path in (ROOT / "src").rglob("*.py"):
        for number in CITATION.findall(path.read_text(encoding="utf-8")):
            cited.setdefault(str(int(number)), set()).add(str(path.relative_to(ROOT)))
    return cited


def _indexed() -> dict[str, str]:
    text = (ROOT / "docs" / "rfc-index.md").read_text(encoding="utf-8")
    return {str(int(number)): status for number, status in ROW.findall(text)}


def test_every_cited_rfc_is_indexed() -> None:
    indexed = _indexed()
    missing = {n: sorted(files)[:3] for n, files in _cited().items() if n not in indexed}
    assert not missing, f"cited in code but missing from docs/rfc-index.md: {missing}"


def test_the_index_is_read() -> None:
    indexed = _indexed()
    assert indexed.get("3501") in {"done", "partial"}
    assert set(indexed.values()) <= {"done", "partial", "planned"}
