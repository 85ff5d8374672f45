"""Runs every LMTP transcript in tests/lmtp/transcripts/ against a fresh server."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.lmtp.transcript import parse, run

TRANSCRIPTS = sorted((Path(__file__).parent / "transcripts").glob("*.txt"))


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=[p.stem for p in TRANSCRIPTS])
def test_transcript(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run(parse(path), tmp_path, monkeypatch, path)


def test_there_are_transcripts() -> None:
    assert len(TRANSCRIPTS) >= 4
