"""Runs every transcript in tests/pop3/transcripts/ against a fresh server."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pop3.harness import pop3_running
from tests.pop3.transcript import parse_transcript, run_transcript

TRANSCRIPTS = sorted((Path(__file__).parent / "transcripts").glob("*.txt"))


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=[p.stem for p in TRANSCRIPTS])
def test_transcript(path: Path, tmp_path: Path) -> None:
    transcript = parse_transcript(path)
    with pop3_running(tmp_path / "data") as running:
        run_transcript(transcript, running, path)


def test_there_are_transcripts() -> None:
    assert len(TRANSCRIPTS) >= 8
