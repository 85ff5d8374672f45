"""Runs every transcript in tests/server/transcripts/ against a fresh server."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.server.harness import ServerThread, server_settings
from tests.server.transcript import parse_transcript, run_transcript

TRANSCRIPTS = sorted((Path(__file__).parent / "transcripts").glob("*.txt"))


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=[p.stem for p in TRANSCRIPTS])
def test_transcript(path: Path, tmp_path: Path) -> None:
    transcript = parse_transcript(path)
    with ServerThread(server_settings(tmp_path / "data")) as server:
        run_transcript(transcript, server, path)


def test_there_are_transcripts() -> None:
    assert len(TRANSCRIPTS) >= 10
