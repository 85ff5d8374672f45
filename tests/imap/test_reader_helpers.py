"""Helpers shared by the reader tests: feed input whole, byte by byte, with trailing data."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from buzon.imap.commands import Noop
from buzon.imap.reader import (
    CommandReader,
    Eof,
    Event,
    NeedContinuation,
    NeedData,
    ReaderLimits,
)

TRAILER = b"z9 NOOP\r\n"


def drain(reader: CommandReader, events: list[Event], *, accept: bool = True) -> bool:
    """Pull events until NeedData or Eof; answer continuations. True at Eof."""
    for _ in range(100_000):
        ev = reader.next_event()
        if isinstance(ev, NeedData):
            return False
        events.append(ev)
        if isinstance(ev, Eof):
            return True
        if isinstance(ev, NeedContinuation):
            if accept:
                reader.accept_literal()
            else:
                reader.reject_literal()
    raise AssertionError("reader did not settle")


def run(
    chunks: Iterable[bytes],
    *,
    utf8: bool = False,
    limits: ReaderLimits | None = None,
    accept: bool = True,
) -> list[Event]:
    """Feed the chunks then EOF; return every event (NeedData excluded)."""
    reader = CommandReader(limits)
    reader.utf8 = utf8
    events: list[Event] = []
    for chunk in chunks:
        if not chunk:
            continue  # b"" would mean EOF
        reader.receive_data(chunk)
        drain(reader, events, accept=accept)
    reader.receive_data(b"")
    assert drain(reader, events, accept=accept)
    return events


def bytewise(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


def splits(data: bytes) -> dict[str, list[bytes]]:
    return {"whole": [data], "bytewise": bytewise(data)}


def assert_reads(
    data: bytes,
    expected: Sequence[Event],
    *,
    utf8: bool = False,
    limits: ReaderLimits | None = None,
    keep_continuations: bool = False,
) -> None:
    """`data` gives `expected` whole, byte by byte, and followed by a second command."""

    def clean(events: list[Event]) -> list[Event]:
        return [
            e
            for e in events
            if not isinstance(e, Eof)
            and (keep_continuations or not isinstance(e, NeedContinuation))
        ]

    for name, chunks in splits(data).items():
        got = clean(run(chunks, utf8=utf8, limits=limits))
        assert got == list(expected), name
    for name, chunks in splits(data + TRAILER).items():
        got = clean(run(chunks, utf8=utf8, limits=limits))
        assert got == [*expected, Noop("z9")], name + "+trailer"
