"""ENVELOPE, BODY and BODYSTRUCTURE rendering: byte-exact tables and a fuzz invariant."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from buzon.imap.fetchrender import render_body, render_envelope
from buzon.mime import Address, BodyPart, Envelope, ParsedMessage, parse


def crlf(*lines: str | bytes) -> bytes:
    return b"\r\n".join(x.encode() if isinstance(x, str) else x for x in lines)


def bs(raw: bytes, *, extended: bool = True, utf8: bool = False) -> bytes:
    return render_body(parse(raw).root, extended=extended, utf8=utf8)


def env(raw: bytes, *, utf8: bool = False) -> bytes:
    return render_envelope(parse(raw).envelope, utf8=utf8)


# --- the examples of RFC 3501 §7.4.2 and §8 -----------------------------------------------


def _lines(count: int, size: int, char: str = "x") -> str:
    """``count`` CRLF-terminated lines totalling ``size`` octets."""
    content = size - 2 * count
    width, extra = divmod(content, count)
    lines = [char * width for _ in range(count - 1)] + [char * (width + extra)]
    return "".join(line + "\r\n" for line in lines)


def test_rfc3501_simple_text_example() -> None:
    body = _lines(48, 2279)
    raw = b"Content-Type: text/plain; charset=US-ASCII\r\n\r\n" + body.encode()
    expected = b'("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 2279 48)'
    assert bs(raw, extended=False) == expected
    assert bs(raw) == expected[:-1] + b" NIL NIL NIL NIL)"


def test_rfc3501_two_part_example() -> None:
    part1 = _lines(23, 1152)
    part2 = _lines(73, 4554, "A")
    raw = crlf(
        "MIME-Version: 1.0",
        'Content-Type: MULTIPART/MIXED; BOUNDARY="b1"',
        "",
        "--b1",
        "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII",
        "",
        part1,  # ends with CRLF; the CRLF joining it to the delimiter is the delimiter's
        "--b1",
        "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII; NAME=cc.diff",
        "Content-ID: <960723163407.20117h@cac.washington.edu>",
        "Content-Description: Compiler diff",
        "Content-Transfer-Encoding: BASE64",
        "",
        part2,
        "--b1--",
        "",
    )
    expected = (
        b'(("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 1152 23)'
        b'("TEXT" "PLAIN" ("CHARSET" "US-ASCII" "NAME" "cc.diff") '
        b'"<960723163407.20117h@cac.washington.edu>" "Compiler diff" '
        b'"BASE64" 4554 73) "MIXED")'
    )
    assert bs(raw, extended=False) == expected
    assert bs(raw) == (
        b'(("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 1152 23 NIL NIL NIL NIL)'
        b'("TEXT" "PLAIN" ("CHARSET" "US-ASCII" "NAME" "cc.diff") '
        b'"<960723163407.20117h@cac.washington.edu>" "Compiler diff" '
        b'"BASE64" 4554 73 NIL NIL NIL NIL) "MIXED" ("BOUNDARY" "b1") NIL NIL NIL)'
    )


RFC3501_HEADER = crlf(
    "Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)",
    "From: Terry Gray <gray@cac.washington.edu>",
    "Subject: IMAP4rev1 WG mtg summary and minutes",
    "To: imap@cac.washington.edu",
    "cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>",
    "Message-Id: <B27397-0100000@cac.washington.edu>",
    "MIME-Version: 1.0",
    "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII",
    "",
    "",
)


def test_rfc3501_section8_example() -> None:
    assert len(RFC3501_HEADER) == 342  # BODY[HEADER] {342} in the RFC
    raw = RFC3501_HEADER + _lines(92, 3028).encode()
    assert env(raw) == (
        b'("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" '
        b'"IMAP4rev1 WG mtg summary and minutes" '
        b'(("Terry Gray" NIL "gray" "cac.washington.edu")) '
        b'(("Terry Gray" NIL "gray" "cac.washington.edu")) '
        b'(("Terry Gray" NIL "gray" "cac.washington.edu")) '
        b'((NIL NIL "imap" "cac.washington.edu")) '
        b'((NIL NIL "minutes" "CNRI.Reston.VA.US")'
        b'("John Klensin" NIL "KLENSIN" "MIT.EDU")) NIL NIL '
        b'"<B27397-0100000@cac.washington.edu>")'
    )
    assert bs(raw, extended=False) == (
        b'("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3028 92)'
    )


# --- nested structures ----------------------------------------------------------------------

NESTED = crlf(
    "From: a@b",
    "Subject: outer",
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="outer"',
    "",
    "preamble",
    "--outer",
    "Content-Type: text/plain; charset=us-ascii",
    "",
    "part one",
    "--outer",
    "Content-Type: message/rfc822",
    "",
    "From: inner@x",
    "Subject: inner",
    'Content-Type: multipart/alternative; boundary="inner"',
    "",
    "--inner",
    "Content-Type: text/plain",
    "",
    "inner plain",
    "--inner",
    "Content-Type: text/html",
    "",
    "<p>inner html</p>",
    "--inner--",
    "--outer",
    "Content-Type: application/pdf; name*=utf-8''%E2%82%AC.pdf",
    "Content-Transfer-Encoding: base64",
    "Content-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf",
    "",
    "SGVsbG8=",
    "--outer--",
    "epilogue",
    "",
)

# Sizes by hand: the embedded message is a header of 15+16+55+2 = 88 octets and a body of
# 9+26+2+13+9+25+2+19+9 = 114 octets ("--inner--" without the CRLF that belongs to the outer
# delimiter): 202 octets, with 4 + 8 = 12 LFs.
INNER_ENVELOPE = (
    b'(NIL "inner" ((NIL NIL "inner" "x")) ((NIL NIL "inner" "x")) '
    b'((NIL NIL "inner" "x")) NIL NIL NIL NIL NIL)'
)


def test_nested_bodystructure() -> None:
    assert bs(NESTED) == (
        b'(("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 8 0 NIL NIL NIL NIL)'
        b'("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 202 '
        + INNER_ENVELOPE
        + b' (("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 11 0 NIL NIL NIL NIL)'
        b'("TEXT" "HTML" ("CHARSET" "us-ascii") NIL NIL "7BIT" 17 0 NIL NIL NIL NIL)'
        b' "ALTERNATIVE" ("BOUNDARY" "inner") NIL NIL NIL) 12 NIL NIL NIL NIL)'
        b'("APPLICATION" "PDF" ("NAME*" "utf-8\'\'%E2%82%AC.pdf") NIL NIL "BASE64" 8 NIL'
        b' ("ATTACHMENT" ("FILENAME*" "utf-8\'\'r%C3%A9sum%C3%A9.pdf")) NIL NIL)'
        b' "MIXED" ("BOUNDARY" "outer") NIL NIL NIL)'
    )


def test_nested_body_has_no_extension_data() -> None:
    assert bs(NESTED, extended=False) == (
        b'(("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 8 0)'
        b'("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 202 '
        + INNER_ENVELOPE
        + b' (("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 11 0)'
        b'("TEXT" "HTML" ("CHARSET" "us-ascii") NIL NIL "7BIT" 17 0) "ALTERNATIVE") 12)'
        b'("APPLICATION" "PDF" ("NAME*" "utf-8\'\'%E2%82%AC.pdf") NIL NIL "BASE64" 8)'
        b' "MIXED")'
    )


def test_utf8_mode_sends_decoded_parameters() -> None:
    out = bs(NESTED, utf8=True)
    assert '("NAME" "€.pdf")'.encode() in out
    assert '("ATTACHMENT" ("FILENAME" "résumé.pdf"))'.encode() in out
    assert b"*" not in out


ALTERNATIVE_IN_MIXED = crlf(
    'Content-Type: multipart/mixed; boundary="m"',
    "",
    "--m",
    'Content-Type: multipart/alternative; boundary="a"',
    "",
    "--a",
    'Content-Type: text/plain; charset="UTF-8"',
    "Content-Transfer-Encoding: quoted-printable",
    "",
    "caf=C3=A9",
    "--a",
    "Content-Type: text/html; charset=UTF-8",
    "Content-Language: en, fr",
    "Content-Location: http://example.com/x.html",
    "",
    "<b>caf\xe9</b>",
    "--a--",
    "",
    "--m",
    "Content-Type: application/octet-stream;",
    " name*0*=utf-8''%E2%82%AC; name*1=\".txt\"",
    "Content-Disposition: attachment;",
    " filename*0*=utf-8''%E2%82%AC; filename*1=\".txt\"",
    "Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==",
    "Content-Language: de",
    "",
    "",
    "--m--",
    "",
)


def test_alternative_inside_mixed_with_2231_continuations() -> None:
    # The html part: "<b>café</b>" is 11 octets in UTF-8 (the str is encoded by crlf).
    # The alternative ends with "--a--" then an empty line: "--a--\r\n" is 7 octets.
    assert bs(ALTERNATIVE_IN_MIXED) == (
        b'((("TEXT" "PLAIN" ("CHARSET" "UTF-8") NIL NIL "QUOTED-PRINTABLE" 9 0 NIL NIL NIL NIL)'
        b'("TEXT" "HTML" ("CHARSET" "UTF-8") NIL NIL "7BIT" 12 0 NIL NIL ("en" "fr")'
        b' "http://example.com/x.html")'
        b' "ALTERNATIVE" ("BOUNDARY" "a") NIL NIL NIL)'
        b'("APPLICATION" "OCTET-STREAM" ("NAME*" "utf-8\'\'%E2%82%AC.txt") NIL NIL "7BIT" 0'
        b' "Q2hlY2sgSW50ZWdyaXR5IQ==" ("ATTACHMENT" ("FILENAME*" "utf-8\'\'%E2%82%AC.txt"))'
        b' "de" NIL)'
        b' "MIXED" ("BOUNDARY" "m") NIL NIL NIL)'
    )


def test_empty_bodies() -> None:
    assert bs(b"") == b'("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 0 0 NIL NIL NIL NIL)'
    assert bs(b"Subject: x\r\n\r\n", extended=False) == (
        b'("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 0 0)'
    )
    # A multipart without any body part shows one empty text/plain part, like Dovecot.
    raw = crlf('Content-Type: multipart/mixed; boundary="x"', "", "no parts here", "")
    assert bs(raw, extended=False) == (
        b'(("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 0 0) "MIXED")'
    )


def test_message_without_blank_line() -> None:
    assert bs(b"Subject: x\r\nContent-Type: text/html", extended=False) == (
        b'("TEXT" "HTML" ("CHARSET" "us-ascii") NIL NIL "7BIT" 0 0)'
    )


def test_message_rfc822_without_embedded_message_is_basic() -> None:
    part = BodyPart(0, 0, 8, type="message", subtype="rfc822", params=(), encoding="BASE64", size=8)
    assert render_body(part, extended=True) == (
        b'("MESSAGE" "RFC822" NIL NIL NIL "BASE64" 8 NIL NIL NIL NIL)'
    )
    assert render_body(part, extended=False) == b'("MESSAGE" "RFC822" NIL NIL NIL "BASE64" 8)'


def test_message_global_has_envelope_and_body() -> None:
    raw = crlf("Content-Type: message/global", "", "Subject: s", "", "hi")
    assert bs(raw, extended=False) == (
        b'("MESSAGE" "GLOBAL" NIL NIL NIL "7BIT" 16 (NIL "s" NIL NIL NIL NIL NIL NIL NIL NIL)'
        b' ("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 2 0) 2)'
    )


def test_hand_built_multipart_without_parts_stays_well_formed() -> None:
    part = BodyPart(0, 0, 0, type="multipart", subtype="mixed", params=())
    assert render_body(part, extended=True) == (
        b'(("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 0 0 NIL NIL NIL NIL)'
        b' "MIXED" NIL NIL NIL NIL)'
    )


def test_strings_that_need_a_literal() -> None:
    part = BodyPart(
        0,
        0,
        0,
        params=(("charset", "us-ascii"),),
        description=b"line\r\nbreak",
        disposition=("inline", ()),
    )
    assert render_body(part, extended=True) == (
        b'("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL {11}\r\nline\r\nbreak "7BIT" 0 0'
        b' NIL ("INLINE" NIL) NIL NIL)'
    )


# --- ENVELOPE ---------------------------------------------------------------------------------


def test_envelope_groups_defaults_and_empty_fields() -> None:
    raw = crlf(
        "Date: Mon, 1 Jan 2024 00:00:00 +0000",
        "From: A <a@b>",
        "Sender:",
        "To: Undisclosed recipients:;",
        'Cc: Team: x@y, "Z" <z@y>;, w@v',
        "Subject:",
        "In-Reply-To: <p@q>",
        "Message-ID: <m@q>",
        "Reply-To: r@s",
        "",
        "",
    )
    assert env(raw) == (
        b'("Mon, 1 Jan 2024 00:00:00 +0000" "" (("A" NIL "a" "b")) (("A" NIL "a" "b"))'
        b' ((NIL NIL "r" "s")) ((NIL NIL "Undisclosed recipients" NIL)(NIL NIL NIL NIL))'
        b' ((NIL NIL "Team" NIL)(NIL NIL "x" "y")("Z" NIL "z" "y")(NIL NIL NIL NIL)'
        b'(NIL NIL "w" "v")) NIL "<p@q>" "<m@q>")'
    )


def test_envelope_all_missing() -> None:
    assert env(b"X-Other: 1\r\n\r\nbody") == b"(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"
    assert render_envelope(Envelope()) == b"(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"


def test_envelope_sender_kept_when_present() -> None:
    raw = crlf("From: a@b", "Sender: s@b", "", "")
    assert env(raw) == (
        b'(NIL NIL ((NIL NIL "a" "b")) ((NIL NIL "s" "b")) ((NIL NIL "a" "b")) NIL NIL NIL NIL NIL)'
    )


def test_envelope_8bit_subject_is_a_literal_unless_utf8() -> None:
    raw = crlf("Subject: caf\xe9", "", "")  # "café" in UTF-8 once encoded by crlf()
    assert env(raw) == b"(NIL {5}\r\ncaf\xc3\xa9 NIL NIL NIL NIL NIL NIL NIL NIL)"
    assert env(raw, utf8=True) == b'(NIL "caf\xc3\xa9" NIL NIL NIL NIL NIL NIL NIL NIL)'
    latin1 = b"Subject: caf\xe9\r\n\r\n"  # not UTF-8: a literal even in UTF-8 mode
    assert env(latin1, utf8=True) == b"(NIL {4}\r\ncaf\xe9 NIL NIL NIL NIL NIL NIL NIL NIL)"


def test_envelope_quotes_and_backslashes_in_names() -> None:
    raw = b'From: "Joe \\"Q\\" Pub\\\\lic" <joe@x.org>\r\n\r\n'
    assert env(raw) == (
        b'(NIL NIL (("Joe \\"Q\\" Pub\\\\lic" NIL "joe" "x.org"))'
        b' (("Joe \\"Q\\" Pub\\\\lic" NIL "joe" "x.org"))'
        b' (("Joe \\"Q\\" Pub\\\\lic" NIL "joe" "x.org")) NIL NIL NIL NIL NIL)'
    )


def test_envelope_source_route() -> None:
    e = Envelope(to=(Address(None, b"@relay.example", b"u", b"h.example"),))
    assert render_envelope(e) == (
        b'(NIL NIL NIL NIL NIL ((NIL "@relay.example" "u" "h.example")) NIL NIL NIL NIL)'
    )


# --- fuzz: any message renders, and the result is one well-formed list --------------------------


class Malformed(Exception):
    pass


def parse_list(data: bytes) -> list[object]:
    """A tiny IMAP data reader: NIL, numbers, atoms, quoted strings, literals, lists."""
    pos = 0

    def value() -> object:
        nonlocal pos
        if pos >= len(data):
            raise Malformed("unexpected end")
        c = data[pos : pos + 1]
        if c == b"(":
            pos += 1
            items: list[object] = []
            while True:
                if pos >= len(data):
                    raise Malformed("unbalanced (")
                if data[pos : pos + 1] == b")":
                    pos += 1
                    return items
                if items:
                    if data[pos : pos + 1] == b" ":
                        pos += 1
                    elif data[pos : pos + 1] != b"(" or data[pos - 1 : pos] != b")":
                        raise Malformed(f"no space at {pos}")
                items.append(value())
        if c == b'"':
            pos += 1
            out = bytearray()
            while pos < len(data) and data[pos : pos + 1] != b'"':
                if data[pos : pos + 1] in (b"\r", b"\n"):
                    raise Malformed("line end in quoted string")
                if data[pos : pos + 1] == b"\\":
                    pos += 1
                out += data[pos : pos + 1]
                pos += 1
            if pos >= len(data):
                raise Malformed("unterminated quoted string")
            pos += 1
            return bytes(out)
        if c == b"{":
            end = data.index(b"}\r\n", pos)
            n = int(data[pos + 1 : end])
            pos = end + 3 + n
            if pos > len(data):
                raise Malformed("short literal")
            return data[end + 3 : pos]
        start = pos
        while pos < len(data) and data[pos : pos + 1] not in b' ()"{':
            pos += 1
        if pos == start:
            raise Malformed(f"unexpected {c!r} at {pos}")
        return data[start:pos]

    result = value()
    if pos != len(data) or not isinstance(result, list):
        raise Malformed("trailing data or not a list")
    return result


def test_parse_list_rejects_unbalanced() -> None:
    for bad in (b"((NIL)", b"(NIL))", b'("a)', b"(NIL", b"{3}\r\nab"):
        with pytest.raises((Malformed, ValueError)):
            parse_list(bad)
    assert parse_list(b'(("a" NIL)({2}\r\n)() 7 "M")') == [[b"a", b"NIL"], [b")("], b"7", b"M"]


def leaves(node: list[object]) -> int:
    """Count single parts in a BODY/BODYSTRUCTURE list (type and subtype are strings)."""
    if not isinstance(node[0], list):
        return 1
    total = 0
    for child in node:  # the bodies come first; the subtype string ends them
        if not isinstance(child, list):
            break
        total += leaves(child)
    return total


def count_leaves(part: BodyPart) -> int:
    if part.is_multipart:
        return sum(count_leaves(p) for p in part.parts) or 1
    return 1


FRAGMENTS = [
    b"Content-Type: multipart/mixed; boundary=b\r\n",
    b'Content-Type: multipart/alternative; boundary="b"\r\n',
    b"Content-Type: message/rfc822\r\n",
    b"Content-Type: text/plain; charset=utf-8; name*=utf-8''%C3%A9\r\n",
    b"Content-Transfer-Encoding: base64\r\n",
    b'Content-Disposition: attachment; filename="a\\"b"\r\n',
    b"Content-Language: en, fr\r\n",
    b'From: "A (\\") B" <a@b>, g: c@d;\r\n',
    b"Subject: \xff\x00(\r\n",
    b"To: \r\n",
    b"\r\n",
    b"--b\r\n",
    b"--b--\r\n",
    b'body ( " {3}\r\n',
    b"=?utf-8?q?x?=\r\n",
]


@st.composite
def messages(draw: st.DrawFn) -> bytes:
    pieces = draw(st.lists(st.sampled_from(FRAGMENTS), max_size=30))
    raw = b"".join(pieces)
    if draw(st.booleans()):
        data = bytearray(raw)
        for _ in range(draw(st.integers(0, 5))):
            if not data:
                break
            i = draw(st.integers(0, len(data) - 1))
            data[i] = draw(st.integers(0, 255))
        raw = bytes(data)
    return raw


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.one_of(messages(), st.binary(max_size=300)), utf8=st.booleans())
def test_any_message_renders_balanced(raw: bytes, utf8: bool) -> None:
    msg: ParsedMessage = parse(raw)
    for extended in (False, True):
        out = render_body(msg.root, extended=extended, utf8=utf8)
        tree = parse_list(out)
        assert leaves(tree) == count_leaves(msg.root)
    envelope = parse_list(render_envelope(msg.envelope, utf8=utf8))
    assert len(envelope) == 10
