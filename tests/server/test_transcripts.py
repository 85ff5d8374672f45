"""Runs every transcript in tests/server/transcripts/ against a fresh server."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.server.harness import ServerThread, server_settings
from tests.server.transcript import parse_transcript, run_transcript

TRANSCRIPTS = sorted((Path(__file__).parent / "transcripts").glob("*.txt"))
# One case per transcript and mode (`modes: rev1 rev2`, see transcript.py).
CASES = [(p, mode) for p in TRANSCRIPTS for mode in parse_transcript(p).modes]


def _case_id(path: Path, mode: str) -> str:
    return path.stem if mode == "rev1" else f"{path.stem}-{mode}"


@pytest.mark.parametrize(("path", "mode"), CASES, ids=[_case_id(p, m) for p, m in CASES])
def test_transcript(path: Path, mode: str, tmp_path: Path) -> None:
    transcript = parse_transcript(path)
    with ServerThread(server_settings(tmp_path / "data")) as server:
        run_transcript(transcript, server, path, mode)


def test_there_are_transcripts() -> None:
    assert len(TRANSCRIPTS) >= 10
