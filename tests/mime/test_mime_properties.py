"""Properties: parse never raises (fuzz), offsets nest, serialization and codecs round-trip."""

from __future__ import annotations

import base64
import binascii

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import buzon.mime
from buzon.mime import (
    ParsedMessage,
    decode_header,
    decode_transfer,
    load_envelope,
    normalize_crlf,
    parse,
)
from buzon.mime.parser import parse_strict
from tests.mime.mime_helpers import all_parts
from tests.mime.test_mime_parser import ALTERNATIVE, DIGEST, MIXED, NESTED, SIMPLE

SEEDS = [SIMPLE, ALTERNATIVE, MIXED, NESTED, DIGEST]
# Bytes that matter to the parser, so random messages hit the interesting paths.
INTERESTING = [
    b"\r\n",
    b"\n",
    b"\r",
    b"--",
    b"--b",
    b"--b--",
    b":",
    b" ",
    b"\t",
    b";",
    b"=",
    b'"',
    b"(",
    b"<",
    b">",
    b"@",
    b",",
    b"\x00",
    b"\xff",
    b"=?utf-8?q?",
    b"?=",
    b"*0*=",
    b"'",
    b"Content-Type: multipart/mixed; boundary=b\r\n",
    b"Content-Type: message/rfc822\r\n",
    b"Content-Type: multipart/digest; boundary=b\r\n",
    b"Content-Transfer-Encoding: base64\r\n",
    b"To: a:b@c;,<@d:e@f>\r\n",
    b"\r\n\r\n",
]
chunks = st.one_of(st.sampled_from(INTERESTING), st.binary(max_size=12))
messages = st.lists(chunks, max_size=60).map(b"".join)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    raw = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        pos = draw(st.integers(0, len(raw)))
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(chunks)
        if op == "insert":
            raw[pos:pos] = piece
        elif op == "delete":
            del raw[pos : pos + draw(st.integers(1, 40))]
        else:
            raw[pos : pos + len(piece)] = piece
    return bytes(raw)


def _check(raw: bytes) -> None:
    msg = parse_strict(raw)  # no safety net: any exception fails the test
    for part in all_parts(msg):
        assert 0 <= part.header_start <= part.body_start <= part.body_end <= len(raw)
        assert part.size == part.body_end - part.body_start
        assert (part.message is not None) == (
            part.type == "message" and part.subtype in {"rfc822", "global"}
        )
        assert part.type != "multipart" or part.parts
        for child in part.parts:
            assert part.body_start <= child.header_start
            assert child.body_end <= part.body_end
        if part.message is not None:
            inner = part.message.root
            assert (inner.header_start, inner.body_end) == (part.body_start, part.body_end)
    assert ParsedMessage.loads(msg.dumps()) == msg


SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.binary(max_size=400))
def test_parse_arbitrary_bytes(raw: bytes) -> None:
    _check(raw)


@SETTINGS
@given(messages)
def test_parse_message_like_bytes(raw: bytes) -> None:
    _check(raw)


@SETTINGS
@given(mutated())
def test_parse_mutated_messages(raw: bytes) -> None:
    _check(raw)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.booleans())
def test_base64_round_trip(data: bytes, wrapped: bool) -> None:
    encoded = base64.encodebytes(data) if wrapped else base64.b64encode(data)
    assert decode_transfer(encoded.replace(b"\n", b"\r\n"), "base64") == data
    assert decode_transfer(encoded.rstrip(b"=\r\n"), "base64") == data  # padding dropped


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_quoted_printable_round_trip(data: bytes) -> None:
    encoded = binascii.b2a_qp(data, istext=False)
    assert decode_transfer(encoded, "quoted-printable") == data


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([b"a", b"\r", b"\n", b"\r\n", b"xyz", b"\x00"]), max_size=40))
def test_normalize_crlf_properties(pieces: list[bytes]) -> None:
    out = normalize_crlf(b"".join(pieces))
    assert normalize_crlf(out) == out
    assert out.count(b"\n") == out.count(b"\r\n") == out.count(b"\r")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_decode_header_never_raises(raw: bytes) -> None:
    assert isinstance(decode_header(raw), str)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30), st.sampled_from(["utf-8", "iso-8859-15", "koi8-r", "utf-16"]))
def test_decode_header_round_trips_encoded_words(text: str, charset: str) -> None:
    try:
        data = text.encode(charset)
    except UnicodeEncodeError:
        return
    word = b"=?" + charset.encode() + b"?B?" + base64.b64encode(data) + b"?="
    assert decode_header(word) == text  # only the raw value is stripped, not decoded text


def test_public_names() -> None:
    assert sorted(buzon.mime.__all__) == [
        "Address",
        "BodyPart",
        "Envelope",
        "ParsedMessage",
        "addresses_text",
        "ascii_params",
        "body_range",
        "body_text",
        "count_lines",
        "decode_header",
        "decode_transfer",
        "header_range",
        "load_envelope",
        "mime_header_range",
        "normalize_crlf",
        "parse",
        "part_at",
        "select_header_fields",
        "text_range",
    ]


def test_loads_rejects_garbage() -> None:
    for data in [b"", b"[]", b"[2, [], []]", b'{"a": 1}', b"[1, [0], []]", b"\xff"]:
        with pytest.raises(ValueError, match="ParsedMessage"):
            ParsedMessage.loads(data)


@settings(max_examples=200)
@given(st.binary(max_size=2000))
def test_load_envelope_equals_the_full_load(raw: bytes) -> None:
    parsed = parse(raw)
    assert load_envelope(parsed.dumps()) == parsed.envelope
