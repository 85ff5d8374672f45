"""The mbox reader and the flag headers against simple oracles, over generated input.

The reader must give what splitting the whole file at every "From " that starts a line
gives, whatever the chunk size and wherever a resumed read starts; `flags_from_headers`
must give what the dict of every header field (its first implementation) gives.
"""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from buzon.cli import mbox

Read = list[tuple[bytes, str, dt.datetime | None, int]]

# --- the reader -------------------------------------------------------------------------

_MESSAGE_START = re.compile(rb"(?:\A|(?<=\n))From ")
_UNQUOTE = re.compile(rb"^>(>*From )", re.MULTILINE)


def reference(data: bytes, start: int = 0) -> Read:
    """Split the whole input at once: each "From " at a line start (or at `start`) opens a
    message; its first line is the From_ line, one final "\\n" is the separator."""
    rest = data[start:]
    starts = [m.start() for m in _MESSAGE_START.finditer(rest)]
    out: Read = []
    for i, begin in enumerate(starts):
        stop = starts[i + 1] if i + 1 < len(starts) else len(rest)
        line, _, content = rest[begin:stop].partition(b"\n")
        if content.endswith(b"\n"):
            content = content[:-1]
        fields = line[5:].decode("utf-8", "replace").split(None, 1)
        sender = fields[0] if fields else "MAILER-DAEMON"
        date = mbox.parse_asctime(fields[1]) if len(fields) > 1 else None
        out.append((_UNQUOTE.sub(rb"\1", content), sender, date, start + stop))
    return out


def read(data: bytes, start: int = 0, chunk: int | None = None) -> Read:
    old = mbox.CHUNK
    mbox.CHUNK = chunk or old
    try:
        stream = io.BytesIO(data)
        return [
            (m.content, m.sender, m.internal_date, m.end) for m in mbox.read_mbox(stream, start)
        ]
    finally:
        mbox.CHUNK = old


# Pieces that make the reader's cases likely: From_ lines, "From " cut anywhere, quoted
# lines, line ends of every kind, a missing final newline.
PIECES = [
    b"From ",
    b"From alice@example.org Sat Nov  7 16:23:09 2026\n",
    b"From bob Sat Nov  7 16:23:09 +0100 2026\n",
    b"From \n",
    b"\n",
    b"\n\n",
    b"\r\n",
    b">",
    b">From ",
    b">>From x\n",
    b"\nFrom ",
    b"F",
    b"Fr",
    b"rom ",
    b"m ",
    b"Subject: s\n",
    b"body text ",
    b"\xff",
]
MBOXISH = st.lists(st.sampled_from(PIECES) | st.binary(max_size=6), max_size=40).map(b"".join)


@given(MBOXISH, st.integers(min_value=1, max_value=48))
@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_reader_equals_splitting_the_whole_file(data: bytes, chunk: int) -> None:
    assert read(data, chunk=chunk) == reference(data)
    assert read(data) == reference(data)


@given(MBOXISH, st.integers(min_value=1, max_value=48), st.data())
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_resuming_at_any_message_end(data: bytes, chunk: int, draw: st.DataObject) -> None:
    messages = read(data)
    ends = [0] + [end for *_, end in messages]
    start = draw.draw(st.sampled_from(ends))
    assert read(data, start, chunk) == [m for m in messages if m[3] > start]


@pytest.mark.parametrize("chunk", [1, 2, 3, 4, 5, 6, 7, 64])
def test_reader_cases_at_small_chunk_sizes(chunk: int) -> None:
    pieces = [
        b"preamble From not a message\n",
        b"From a@x Sat Nov  7 16:23:09 2026\nS: 1\n\n>From q\n>>From qq\nx >From no\n\n",
        b"From \n",  # nothing after "From ": MAILER-DAEMON, no date
        b"From b@x Sat Nov  7 16:23:09 2026\n",  # no content at all
        b"From c@x Sat Nov  7 16:23:09 -0500 2026\nlast, no final newline",
    ]
    data = b"".join(pieces)
    ends = [len(b"".join(pieces[: i + 1])) for i in range(1, len(pieces))]
    when = dt.datetime(2026, 11, 7, 16, 23, 9, tzinfo=dt.UTC)
    assert read(data, chunk=chunk) == [
        (b"S: 1\n\nFrom q\n>From qq\nx >From no\n", "a@x", when, ends[0]),
        (b"", "MAILER-DAEMON", None, ends[1]),
        (b"", "b@x", when, ends[2]),
        (b"last, no final newline", "c@x", when + dt.timedelta(hours=5), ends[3]),
    ]
    assert read(data, chunk=chunk) == reference(data)


# --- flags in headers -----------------------------------------------------------------------


def fields_oracle(content: bytes) -> dict[bytes, bytes]:
    """The first implementation: every header field in a dict, values unfolded."""
    end = 0 if content.startswith(b"\n") else content.find(b"\n\n") + 1 or len(content)
    fields: list[bytes] = []
    for line in content[:end].splitlines(keepends=True):
        if fields and line[:1] in (b" ", b"\t"):
            fields[-1] += line
        else:
            fields.append(line)
    out: dict[bytes, bytes] = {}
    for field in fields:
        name, colon, value = field.partition(b":")
        if colon:
            out.setdefault(name.strip().lower(), b" ".join(value.split()))
    return out


def flags_oracle(content: bytes) -> frozenset[str]:
    fields = fields_oracle(content)
    flags: set[str] = set()
    if b"R" in fields.get(b"status", b""):
        flags.add("\\Seen")
    letters = {"A": "\\Answered", "F": "\\Flagged", "T": "\\Draft", "D": "\\Deleted"}
    for letter in fields.get(b"x-status", b"").decode("ascii", "replace"):
        if letter in letters:
            flags.add(letters[letter])
    keywords = fields.get(b"x-keywords", b"").decode("utf-8", "replace")
    flags.update(k for k in keywords.replace(",", " ").split() if not k.startswith("\\"))
    return frozenset(flags)


HEADER_PIECES = [
    b"Status",
    b"STATUS",
    b"x-status",
    b"X-Status",
    b"X-Keywords",
    b"x-KEYWORDS",
    b"x-",
    b"Subject",
    b":",
    b" :",
    b" ",
    b"\t",
    b"\x0b",
    b"\n",
    b"\n\n",
    b"\r\n",
    b"\r",
    b"RO",
    b"AFTD",
    b"$Work",
    b",",
    b"\\Seen",
    b"\xc3",
    b"\xa9",
]
HEADERISH = st.lists(st.sampled_from(HEADER_PIECES) | st.binary(max_size=4), max_size=40).map(
    b"".join
)


@given(HEADERISH)
@settings(max_examples=1000, deadline=None)
def test_flags_from_headers_equals_the_dict_of_all_fields(content: bytes) -> None:
    assert mbox.flags_from_headers(content) == flags_oracle(content)


@given(HEADERISH)
@settings(max_examples=300, deadline=None)
def test_export_sees_the_same_fields(content: bytes) -> None:
    """`with_flag_headers` and `from_line` read only some fields: the same ones as before."""
    fields = fields_oracle(content)
    flags = frozenset({"\\Seen", "kw"})
    if flags_oracle(content) == flags:
        assert mbox.with_flag_headers(content, flags) is content
    else:
        status = b"R" + (b"O" if b"O" in fields.get(b"status", b"") else b"")
        assert b"\nStatus: " + status + b"\n" in b"\n" + mbox.with_flag_headers(content, flags)
    sender = mbox.from_line(content, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    if b"return-path" not in fields and b"from" not in fields:
        assert sender.startswith(b"From MAILER-DAEMON ")


def test_flag_header_names_are_found_in_any_case_and_only_at_a_field_start() -> None:
    assert mbox.flags_from_headers(b"sTaTuS: R\nX-KEYWORDS: a,b\n\n") == {"\\Seen", "a", "b"}
    assert mbox.flags_from_headers(b"X-Keywords: $Work\n\n") == {"$Work"}
    assert mbox.flags_from_headers(b"Subject: Status: R\n\nStatus: R\n") == frozenset()
    assert mbox.flags_from_headers(b"Subject: x\n Status: R\n\n") == frozenset()  # folded
    assert mbox.flags_from_headers(b"X-Status\n : F\n\n") == {"\\Flagged"}
    assert mbox.flags_from_headers(b"Status: O\nStatus: R\n\n") == frozenset()  # the first


class CountingStream(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.reads = 0

    def read(self, size: int | None = -1, /) -> bytes:
        self.reads += 1
        return super().read(size)


def test_a_long_message_is_read_in_growing_pieces() -> None:
    """Keeping an unfinished message while reading on copies it: the pieces grow, so a
    message of n chunks costs O(log n) reads, not n (and not n² bytes copied)."""
    body = b"x" * 4_000_000
    stream = CountingStream(b"From a@x Sat Nov  7 16:23:09 2026\n" + body + b"\n")
    old = mbox.CHUNK
    mbox.CHUNK = 1024
    try:
        messages = list(mbox.read_mbox(stream))
    finally:
        mbox.CHUNK = old
    assert [m.content for m in messages] == [body]
    assert stream.reads < 20, stream.reads
