"""Fuzz invariant of the POP3 reader: nothing escapes, and chunking never matters."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from buzon.pop3.protocol import CommandReader, Eof, Event, NeedData

_WORDS = [b"USER ", b"PASS ", b"AUTH ", b"LIST ", b"TOP ", b"RETR ", b"STLS", b"QUIT", b"\r\n"]
_BYTES = st.lists(
    st.one_of(st.sampled_from(_WORDS), st.binary(max_size=30), st.just(b"\n")), max_size=40
).map(b"".join)


def _drain(reader: CommandReader) -> list[Event]:
    events: list[Event] = []
    while not isinstance(event := reader.next_event(), NeedData | Eof):
        events.append(event)
    return events


def _run(chunks: list[bytes], max_line: int, line_mode_every: int) -> list[Event]:
    reader = CommandReader(max_line)
    events: list[Event] = []
    for chunk in chunks:
        reader.receive_data(chunk)
        while True:
            reader.line_mode = line_mode_every > 0 and len(events) % line_mode_every == 0
            event = reader.next_event()
            if isinstance(event, NeedData | Eof):
                break
            events.append(event)
    reader.receive_data(b"")
    reader.line_mode = False
    assert reader.next_event() == Eof()
    return events


@settings(max_examples=300, deadline=None)
@given(
    data=_BYTES,
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=10),
    max_line=st.integers(min_value=3, max_value=64),
    line_mode_every=st.integers(min_value=0, max_value=3),
)
def test_any_bytes_any_chunking(
    data: bytes, cuts: list[int], max_line: int, line_mode_every: int
) -> None:
    whole = _run([data], max_line, line_mode_every)
    points = sorted({min(c, len(data)) for c in cuts})
    chunks = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    assert _run([c for c in chunks if c], max_line, line_mode_every) == whole
    # No event per byte more than one per line end, plus one for an over-long tail.
    assert len(whole) <= data.count(b"\n") + 1
