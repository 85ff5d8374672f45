"""The shortcuts of the delivery parse give exactly what the general code gives.

Each fast path is checked against a small reference: the general address reader, the
field-by-field header loop it replaced, the unfolding it skips, the full split it avoids.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from buzon.mime.address import _parse_simple, _parse_tokens, parse_addresses
from buzon.mime.decode import _decode_header, decode_header
from buzon.mime.headers import _CONTINUATION, _VALID_LINE_START, iter_fields, unfold
from buzon.mime.preview import collapsed_prefix

# --- addresses ---------------------------------------------------------------------------

SIMPLE = [
    b"a@b",
    b"alice.smith@mail.example.org",
    b"<a@b>",
    b"Bob <bob@example.com>",
    b"Bob  Smith\t<bob@example.com>",
    b"=?utf-8?B?Sm9zw6kgTsO6w7Fleg==?= <jose@example.com>",
    b'"Smith, Bob" <bob@example.com>',
    b'"  " <a@b>',
    b'""<a@b>',
    b"\xc3\xa9t\xc3\xa9 <e@x.y>",
    b"a@b, Bob <c@d> ,  e.f@g.h",
]


@pytest.mark.parametrize("value", SIMPLE)
def test_common_shapes_take_the_shortcut(value: bytes) -> None:
    assert _parse_simple(value) is not None
    assert _parse_simple(value) == _parse_tokens(value)


NOT_SIMPLE = [
    b"a@b (Bob)",  # comment
    b"Bob <a@b> junk",
    b"John Q. Public <j@x>",  # "." in the phrase
    b"group: a@b;",
    b"<@route:a@b>",
    b'"a\\"b" <a@b>',  # quoted-pair
    b"a @b",
    b"a@b,,c@d",
    b"a@[1.2.3.4]",
    b"",
]


@pytest.mark.parametrize("value", NOT_SIMPLE)
def test_other_shapes_take_the_general_reader(value: bytes) -> None:
    assert _parse_simple(value) is None


_ATOMS = [b"a", b"Bob", b"x.y", b"=?utf-8?q?a_b?=", b"\xc3\xa9", b"o'neil", b"a+b", b"1"]
_SEPARATORS = [b"", b" ", b"\t", b"  ", b",", b", ", b" ,", b"\r\n "]
_SOUP = [
    *_ATOMS,
    *_SEPARATORS,
    b"<",
    b">",
    b"@",
    b".",
    b'"',
    b'"q r"',
    b'" x "',
    b"(c)",
    b"(",
    b")",
    b"\\",
    b"[1.2.3.4]",
    b"[",
    b"]",
    b":",
    b";",
    b"\x0c",
    b"\x00",
    b"\x7f",
]


@st.composite
def address_lists(draw: st.DrawFn) -> bytes:
    """Mostly well-formed lists (the shortcut), with some junk spliced in."""
    out: list[bytes] = []
    for index in range(draw(st.integers(1, 4))):
        if index:
            out.append(draw(st.sampled_from(_SEPARATORS)))
        local = draw(st.sampled_from(_ATOMS))
        spec = local + b"@" + draw(st.sampled_from([b"b", b"b.c", b"ex-ample.org"]))
        shape = draw(st.sampled_from(["bare", "angle", "words", "quoted"]))
        if shape == "bare":
            out.append(spec)
        elif shape == "angle":
            out.append(b"<" + spec + b">")
        else:
            words = draw(st.lists(st.sampled_from(_ATOMS), min_size=1, max_size=3))
            phrase = b" ".join(words)
            if shape == "quoted":
                phrase = b'"' + phrase + b'"'
            out.append(phrase + draw(st.sampled_from([b"", b" ", b"\t"])) + b"<" + spec + b">")
    for _ in range(draw(st.integers(0, 2))):
        pos = draw(st.integers(0, len(out)))
        out.insert(pos, draw(st.sampled_from(_SOUP)))
    return b"".join(out)


@settings(max_examples=1000)
@given(st.one_of(address_lists(), st.lists(st.sampled_from(_SOUP), max_size=12).map(b"".join)))
def test_the_shortcut_equals_the_general_reader(value: bytes) -> None:
    simple = _parse_simple(value)
    if simple is not None:
        assert simple == _parse_tokens(value)
    assert parse_addresses(value) == (simple if simple is not None else _parse_tokens(value))


def test_long_values_are_parsed_without_the_memo() -> None:
    value = b", ".join(b"u%d@example.com" % i for i in range(500))  # > 4096 bytes
    assert len(value) > 4096
    assert parse_addresses(value) == _parse_tokens(value)
    assert len(parse_addresses(value)) == 500


# --- header fields -------------------------------------------------------------------------


def _iter_fields_reference(header: bytes) -> list[tuple[bytes | None, bytes]]:
    """The field-by-field loop `iter_fields` replaced."""
    out: list[tuple[bytes | None, bytes]] = []
    pos, n = 0, len(header)
    while pos < n:
        if header.startswith(b"\r\n", pos) or header.startswith(b"\n", pos):
            break
        m = _CONTINUATION.match(header, pos)
        stop = m.end() if m is not None else n
        if stop < n and header[stop : stop + 1] == b"\n":
            stop += 1
        field = header[pos:stop]
        colon = field.find(b":")
        name: bytes | None = None
        if colon > 0 and _VALID_LINE_START.match(field) is not None and field[0:1] not in b" \t":
            name = field[:colon].rstrip(b" \t").lower()
        out.append((name, field))
        pos = stop
    return out


_HEADER_PIECES = [
    b"From: a@b\r\n",
    b"Subject:x\n",
    b"X-Y \t: z\r\n",
    b" folded\r\n",
    b"\tfolded\n",
    b"\r\n",
    b"\n",
    b"\r",
    b":",
    b" ",
    b"no colon",
    b"\xff\xfe: v\r\n",
    b"N" * 256 + b": v\r\n",
    b"N" * 257 + b": v\r\n",
    b"a b: c\r\n",
    b"body after the header\r\n",
]


@settings(max_examples=500)
@given(st.lists(st.one_of(st.sampled_from(_HEADER_PIECES), st.binary(max_size=6)), max_size=12))
def test_iter_fields_equals_the_line_loop(pieces: list[bytes]) -> None:
    header = b"".join(pieces)
    assert iter_fields(header) == _iter_fields_reference(header)


_FOLD = re.compile(rb"\r?\n(?=[ \t])")
_WSP_BYTES = st.lists(st.sampled_from([b"a", b"=?utf-8?q?=C3=A9?=", b" ", b"\t", b"\r", b"\n"]))


@settings(max_examples=500)
@given(_WSP_BYTES.map(b"".join))
def test_unfold_and_decode_header_shortcuts(value: bytes) -> None:
    assert unfold(value) == _FOLD.sub(b"", value).strip(b" \t\r\n")
    # Unfolding first changes nothing: every CR and LF is removed anyway.
    assert decode_header(value) == _decode_header(_FOLD.sub(b"", value))
    assert decode_header(value) == _decode_header(value)  # the memo gives what it computes


def test_decode_header_of_long_and_mutable_values() -> None:
    long = b"=?utf-8?q?caf=C3=A9?= " * 100
    assert decode_header(long) == "café" * 100  # white space between words is dropped
    assert decode_header(bytearray(b"=?utf-8?q?caf=C3=A9?=")) == "café"  # type: ignore[arg-type]


# --- previews --------------------------------------------------------------------------------


@settings(max_examples=1000)
@given(
    st.text(alphabet=st.sampled_from(list("ab \t\r\n\u3000\xa0Éß")), max_size=3000),
    st.integers(-5, 300),
)
def test_collapsed_prefix_equals_the_whole_split(text: str, limit: int) -> None:
    assert collapsed_prefix(text, limit) == " ".join(text.split())[:limit]


def test_collapsed_prefix_of_a_long_text_with_long_blank_runs() -> None:
    text = ("word " + " " * 5000) * 100
    assert collapsed_prefix(text, 256) == " ".join(text.split())[:256]
