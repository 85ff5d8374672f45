"""The mbox reader and writer: mboxrd quoting, From_ lines, flag headers, bounded memory."""

from __future__ import annotations

import datetime as dt
import io
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from buzon.cli import mbox

WHEN = dt.datetime(2026, 11, 7, 16, 23, 9, tzinfo=dt.UTC)


def roundtrip(contents: list[bytes]) -> list[bytes]:
    out = io.BytesIO()
    for content in contents:
        mbox.write_message(out, content, WHEN)
    return [m.content for m in mbox.read_mbox(io.BytesIO(out.getvalue()))]


def test_from_quoting_and_missing_final_newline() -> None:
    contents = [
        b"From: a@example.org\n\nFrom here\n>From there\n>>From far\nFromage\n",
        b"Subject: no final newline\n\nlast line",
        b"",
        b"Subject: blank lines at the end\n\nx\n\n\n",
    ]
    out = io.BytesIO()
    for content in contents:
        mbox.write_message(out, content, WHEN)
    data = out.getvalue()
    assert b"\n>From here\n>>From there\n>>>From far\nFromage\n" in data
    assert data.startswith(b"From a@example.org Sat Nov  7 16:23:09 2026\n")
    assert roundtrip(contents) == contents


def test_reader_offsets_skip_preamble_and_resume() -> None:
    data = (
        b"junk before\n"
        b"From x@y Mon Jan  1 10:00:00 2024\nA: 1\n\none\n\n"
        b"From z@w Tue Jan  2 10:00:00 2024 +0100\nA: 2\n\ntwo\n"
    )
    messages = list(mbox.read_mbox(io.BytesIO(data)))
    assert [m.content for m in messages] == [b"A: 1\n\none\n", b"A: 2\n\ntwo"]
    assert [m.sender for m in messages] == ["x@y", "z@w"]
    assert messages[0].internal_date == dt.datetime(2024, 1, 1, 10, tzinfo=dt.UTC)
    assert messages[1].internal_date == dt.datetime(
        2024, 1, 2, 10, tzinfo=dt.timezone(dt.timedelta(hours=1))
    )
    assert messages[1].end == len(data)
    resumed = list(mbox.read_mbox(io.BytesIO(data), messages[0].end))
    assert [m.content for m in resumed] == [b"A: 2\n\ntwo"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sat Nov  7 16:23:09 2026", dt.datetime(2026, 11, 7, 16, 23, 9, tzinfo=dt.UTC)),
        ("Sat Nov 07 16:23:09 2026", dt.datetime(2026, 11, 7, 16, 23, 9, tzinfo=dt.UTC)),
        ("Sat Nov 7 16:23:09 -0500 2026", dt.datetime(2026, 11, 7, 21, 23, 9, tzinfo=dt.UTC)),
        ("yesterday", None),
        ("Sat Foo 7 16:23:09 2026", None),
        ("Sat Nov 7 25:99:09 2026", None),
    ],
)
def test_parse_asctime(text: str, expected: dt.datetime | None) -> None:
    assert mbox.parse_asctime(text) == expected


def test_from_line_sender() -> None:
    assert mbox.from_line(b"Return-Path: <r@x>\nFrom: A <a@x>\n\n", WHEN).startswith(b"From r@x ")
    assert mbox.from_line(b"From: A <a@x>\n\n", WHEN).startswith(b"From a@x ")
    assert mbox.from_line(b"Return-Path: <>\n\n", WHEN).startswith(b"From MAILER-DAEMON ")


def test_flag_headers_read_and_rewritten_only_when_needed() -> None:
    content = b"Subject: s\nStatus: RO\nX-Status: AF\nX-Keywords: $Work Later\n\nbody\n"
    flags = frozenset({"\\Seen", "\\Answered", "\\Flagged", "$Work", "Later"})
    assert mbox.flags_from_headers(content) == flags
    assert mbox.with_flag_headers(content, flags | {"\\Recent"}) is content
    changed = mbox.with_flag_headers(content, frozenset({"\\Deleted", "$Work"}))
    assert changed == b"Subject: s\nStatus: O\nX-Status: D\nX-Keywords: $Work\n\nbody\n"
    plain = b"Subject: s\n\nbody\n"
    assert mbox.with_flag_headers(plain, frozenset()) is plain
    assert mbox.with_flag_headers(plain, frozenset({"\\Seen"})) == (
        b"Subject: s\nStatus: R\n\nbody\n"
    )
    assert mbox.flags_from_headers(b"Subject: no blank line") == frozenset()


@given(st.lists(st.binary(max_size=200), max_size=8))
@settings(max_examples=200, deadline=None)
def test_write_then_read_is_identity(contents: list[bytes]) -> None:
    assert roundtrip(contents) == contents


@given(st.binary(max_size=2000), st.integers(min_value=1, max_value=64))
@settings(max_examples=200, deadline=None)
def test_reader_takes_any_bytes_at_any_chunk_size(data: bytes, chunk: int) -> None:
    """Fuzz invariant: no exception, and the chunk size never changes the result."""
    whole = [(m.content, m.end) for m in mbox.read_mbox(io.BytesIO(data))]
    old = mbox.CHUNK
    mbox.CHUNK = chunk
    try:
        pieces = [(m.content, m.end) for m in mbox.read_mbox(io.BytesIO(data))]
    finally:
        mbox.CHUNK = old
    assert pieces == whole
    for content, _ in whole:
        mbox.flags_from_headers(content)
        mbox.with_flag_headers(content, frozenset({"\\Seen", "kw"}))


def test_reader_memory_is_bounded_by_the_largest_message(tmp_path: Path) -> None:
    path = tmp_path / "big.mbox"
    body = b"Subject: big\n\n" + (b"x" * 99 + b"\n") * 1000  # 100 kB
    with path.open("wb") as out:
        for _ in range(500):  # 50 MB
            mbox.write_message(out, body, WHEN)
    assert path.stat().st_size > 50_000_000
    tracemalloc.start()
    try:
        count = 0
        with path.open("rb") as f:
            for message in mbox.read_mbox(f):
                count += len(message.content) == len(body)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 500
    assert peak < 5_000_000, peak
