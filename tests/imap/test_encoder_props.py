"""Encoder properties: strings decode back, sequence sets expand back, streaming is exact."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from buzon.imap import mutf7
from buzon.imap.encoder import (
    compact,
    encode,
    encode_astring,
    encode_chunks,
    encode_mailbox,
    encode_nstring,
    encode_string,
)
from buzon.imap.responses import (
    AclData,
    Code,
    CodeText,
    Continuation,
    ESearchAll,
    ESearchData,
    FetchData,
    FetchFlags,
    FetchItem,
    FetchPreview,
    FetchSection,
    FetchUid,
    IdData,
    InProgress,
    ListData,
    MetadataData,
    NamespaceData,
    OldName,
    QuotaRootData,
    Response,
    StatusData,
    Tagged,
    UntaggedStatus,
)
from buzon.imap.words import Flag, MailboxAttr, ResponseCode, Status, StatusItem

_ATOM = re.compile(rb'[^\x00-\x20\x7f-\xff(){%*"\\]+')


def read_value(wire: bytes) -> tuple[bytes | None, bytes]:
    """A tiny reference reader for one atom, quoted string, literal, literal8 or NIL.

    Returns the value (``None`` for NIL) and the bytes after it. It is strict where the encoder
    must be: no CR, LF or NUL inside quotes, only \\\\ and \\" escaped, exact literal lengths.
    """
    if wire.startswith(b'"'):
        out = bytearray()
        i = 1
        while True:
            c = wire[i]
            if c == 0x22:
                return bytes(out), wire[i + 1 :]
            if c == 0x5C:
                i += 1
                c = wire[i]
                assert c in b'"\\', "only quoted-specials are escaped"
            assert c not in b"\r\n\x00", "CR, LF or NUL inside a quoted string"
            out.append(c)
            i += 1
    m = re.match(rb"~?\{(\d+)\}\r\n", wire)
    if m:
        size = int(m.group(1))
        start = m.end()
        assert len(wire) >= start + size, "literal shorter than announced"
        return wire[start : start + size], wire[start + size :]
    atom = _ATOM.match(wire)
    assert atom, f"no value at {wire[:20]!r}"
    if atom.group().upper() == b"NIL":
        return None, wire[atom.end() :]
    return atom.group(), wire[atom.end() :]


def read_whole(wire: bytes) -> bytes | None:
    value, rest = read_value(wire)
    assert rest == b""
    return value


# --- strings ---------------------------------------------------------------------------------


@settings(max_examples=400)
@given(st.text(), st.booleans())
def test_str_round_trips(value: str, utf8: bool) -> None:
    wire = encode_string(value, utf8=utf8)
    assert read_whole(wire) == value.encode().replace(b"\x00", b"\x80")
    assert not wire.startswith(b"~")  # literal8 only where binary is allowed
    if wire.startswith(b'"') and not utf8:
        assert wire.isascii()
    if "\x00" not in value:
        assert read_whole(wire) == value.encode()


@settings(max_examples=300)
@given(st.binary(), st.booleans())
def test_binary_round_trips_exactly(value: bytes, utf8: bool) -> None:
    wire = encode_string(value, utf8=utf8, binary=True)
    assert read_whole(wire) == value
    assert wire.startswith(b"~") == (b"\x00" in value)


@settings(max_examples=300)
@given(st.binary(), st.booleans())
def test_bytes_never_carry_nul_outside_literal8(value: bytes, utf8: bool) -> None:
    wire = encode_string(value, utf8=utf8)
    assert read_whole(wire) == value.replace(b"\x00", b"\x80")


@settings(max_examples=300)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00")), st.booleans())
def test_astring_round_trips(value: str, utf8: bool) -> None:
    wire = encode_astring(value, utf8=utf8)
    assert read_whole(wire) == value.encode()


@settings(max_examples=200)
@given(
    st.one_of(
        st.none(),
        st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00")),
    )
)
def test_nstring_round_trips(value: str | None) -> None:
    decoded = read_whole(encode_nstring(value))
    assert decoded == (None if value is None else value.encode())


@settings(max_examples=300)
@given(
    st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00\r\n")),
    st.booleans(),
)
def test_mailbox_round_trips(name: str, utf8: bool) -> None:
    wire = encode_mailbox(name, utf8=utf8)
    decoded = read_whole(wire)
    assert decoded is not None
    expected = "INBOX" if name.upper() == "INBOX" else name
    if utf8:
        assert decoded.decode() == expected
    else:
        assert wire.isascii()
        assert mutf7.decode(decoded.decode("ascii")) == expected


# --- resp-text -------------------------------------------------------------------------------


@settings(max_examples=300)
@given(st.text(), st.booleans(), st.sampled_from([Status.OK, Status.NO, Status.BAD]))
def test_text_stays_on_one_line(text: str, utf8: bool, status: Status) -> None:
    for prefix, response in (
        (f"a1 {status} ", Tagged("a1", status, text)),
        (f"* {status} ", UntaggedStatus(status, text)),
    ):
        wire = encode(response, utf8=utf8)
        assert len(wire) > len(prefix) + 2  # text is never empty (RFC 3501 §9)
        assert wire.startswith(prefix.encode())
        assert wire.endswith(b"\r\n")
        body = wire[:-2]
        assert b"\r" not in body
        assert b"\n" not in body
        assert b"\x00" not in body
        assert body.isascii() or utf8


# --- sequence sets ---------------------------------------------------------------------------


def expand(wire: str) -> list[int]:
    out: list[int] = []
    for part in wire.split(","):
        low, _, high = part.partition(":")
        first = int(low)
        last = int(high) if high else first
        assert first <= last
        out.extend(range(first, last + 1))
    return out


numbers = st.lists(st.integers(min_value=1, max_value=2**32 - 1), min_size=1, max_size=200)
dense = st.lists(st.integers(min_value=1, max_value=60), min_size=1, max_size=80)


@settings(max_examples=300)
@given(st.one_of(numbers, dense))
def test_compact_round_trips(values: list[int]) -> None:
    wire = compact(values)
    assert expand(wire) == sorted(set(values))
    assert re.fullmatch(r"\d+(:\d+)?(,\d+(:\d+)?)*", wire)
    # maximal ranges: two neighbouring parts never touch
    parts = [expand(p) for p in wire.split(",")]
    for left, right in itertools.pairwise(parts):
        assert right[0] > left[-1] + 1


@settings(max_examples=300)
@given(st.one_of(numbers, dense))
def test_compact_keep_order_round_trips(values: list[int]) -> None:
    assert expand(compact(values, keep_order=True)) == values


# --- streaming -------------------------------------------------------------------------------

sections = st.builds(
    FetchSection,
    name=st.sampled_from(["BODY[]", "BODY[1]", "BINARY[2]", "RFC822.HEADER"]),
    data=st.one_of(st.none(), st.binary(max_size=3000)),
    binary=st.booleans(),
)
fetch_items = st.one_of(
    sections,
    st.builds(FetchUid, st.integers(min_value=1, max_value=2**32 - 1)),
    st.just(FetchFlags((Flag.SEEN, "$Junk"))),
)


@settings(max_examples=200)
@given(
    st.lists(fetch_items, max_size=6),
    st.integers(min_value=1, max_value=2000),
    st.booleans(),
)
def test_streaming_equals_one_shot(items: list[FetchItem], chunk_size: int, utf8: bool) -> None:
    response = FetchData(7, tuple(items))
    chunks = list(encode_chunks(response, utf8=utf8, chunk_size=chunk_size))
    assert b"".join(chunks) == encode(response, utf8=utf8)
    assert all(0 < len(c) < 2 * chunk_size for c in chunks)


def test_big_literal_is_streamed_without_copy() -> None:
    body = bytes(range(1, 256)) * 20_000  # about 5 MB, no NUL
    response = FetchData(1, (FetchUid(5), FetchSection("BODY[]", body), FetchUid(5)))
    chunks = list(encode_chunks(response, chunk_size=65536))
    views = [c for c in chunks if isinstance(c, memoryview)]
    assert sum(len(v) for v in views) == len(body)
    assert all(v.obj is body for v in views)
    assert b"".join(chunks) == encode(response)
    assert chunks[0] == b"* 1 FETCH (UID 5 BODY[] {" + str(len(body)).encode() + b"}\r\n"


def test_chunk_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="chunk_size"):
        list(encode_chunks(FetchData(1, ()), chunk_size=0))


# --- framing: whatever the values, the output is one response a client can frame -------------


def frame(wire: bytes) -> list[bytes]:
    """Split a response into its lines outside literals, following ``{n}``/``~{n}``."""
    lines: list[bytes] = []
    i = 0
    while True:
        j = wire.index(b"\r\n", i)
        line = wire[i:j]
        assert b"\r" not in line
        assert b"\n" not in line
        assert b"\x00" not in line
        lines.append(line)
        m = re.search(rb"~?\{(\d+)\}\Z", line)
        if not m:
            assert j + 2 == len(wire), "CRLF before the end of the response"
            return lines
        i = j + 2 + int(m.group(1))
        assert i <= len(wire)


any_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40)
mailbox_names = any_text.filter(lambda s: s.upper() != "INBOX")
positive = st.integers(min_value=1, max_value=2**32 - 1)
status_codes = st.one_of(
    st.none(),
    st.just(Code(ResponseCode.ALERT)),
    st.builds(CodeText, st.just(ResponseCode.REFERRAL), any_text),
    st.builds(InProgress, st.one_of(st.none(), any_text), st.none(), positive),
)
any_responses = st.one_of(
    st.builds(
        Tagged,
        st.from_regex(r"[A-Za-z0-9.]{1,8}", fullmatch=True),
        st.sampled_from([Status.OK, Status.NO, Status.BAD]),
        any_text,
        status_codes,
    ),
    st.builds(UntaggedStatus, st.sampled_from(list(Status)), any_text, status_codes),
    st.builds(Continuation, any_text),
    st.builds(
        ListData,
        st.just((MailboxAttr.HAS_NO_CHILDREN,)),
        st.sampled_from(["/", ".", "\\", '"', None]),
        mailbox_names,
        st.lists(st.builds(OldName, mailbox_names), max_size=1).map(tuple),
    ),
    st.builds(StatusData, mailbox_names, st.just(((StatusItem.MESSAGES, 3),))),
    st.builds(
        IdData,
        st.lists(st.tuples(any_text, st.one_of(st.none(), any_text)), max_size=3).map(tuple),
    ),
    st.builds(
        MetadataData,
        mailbox_names,
        st.lists(st.tuples(any_text, st.one_of(st.none(), st.binary(max_size=40))), max_size=3).map(
            tuple
        ),
    ),
    st.builds(
        ESearchData,
        st.one_of(st.none(), any_text),
        st.booleans(),
        st.tuples(st.builds(ESearchAll, st.lists(positive, max_size=5))),
    ),
    st.builds(
        AclData, mailbox_names, st.lists(st.tuples(any_text, any_text), max_size=3).map(tuple)
    ),
    st.builds(QuotaRootData, mailbox_names, st.lists(any_text, max_size=3).map(tuple)),
    st.builds(
        NamespaceData,
        st.lists(st.tuples(any_text, st.sampled_from(["/", None])), max_size=2).map(tuple),
        st.none(),
        st.none(),
    ),
    st.builds(
        FetchData,
        positive,
        st.tuples(
            st.builds(FetchSection, st.just("BINARY[1]"), st.binary(max_size=40), st.booleans()),
            st.builds(FetchPreview, st.one_of(st.none(), any_text)),
        ),
    ),
)


@settings(max_examples=400)
@given(any_responses, st.booleans())
def test_any_response_frames_as_one_response(response: Response, utf8: bool) -> None:
    wire = encode(response, utf8=utf8)
    lines = frame(wire)
    if not utf8:
        assert all(line.isascii() for line in lines)
    assert b"".join(encode_chunks(response, utf8=utf8, chunk_size=16)) == wire
