"""The MIME parser on real-looking messages: every entity's header and body, byte exact."""

from __future__ import annotations

import time

import pytest

from buzon.mime import Address, BodyPart, ParsedMessage, parse, parser
from buzon.mime.parser import MAX_DEPTH, MAX_PARTS, parse_strict
from tests.mime.mime_helpers import Row, all_parts, rows

SIMPLE = (
    b"Return-Path: <alice@example.org>\r\n"
    b"From: Alice <alice@example.org>\r\n"
    b"To: bob@example.com\r\n"
    b"Subject: Lunch\r\n"
    b"Date: Tue, 2 Jan 2024 10:00:00 +0100\r\n"
    b"Message-ID: <1@example.org>\r\n"
    b"\r\n"
    b"Noon?\r\n"
    b"-- \r\n"
    b"Alice\r\n"
)

ALTERNATIVE = (
    b"From: news@example.net\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/alternative; boundary="=_alt"\r\n'
    b"\r\n"
    b"This is a multi-part message in MIME format.\r\n"
    b"\r\n"
    b"--=_alt\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: quoted-printable\r\n"
    b"\r\n"
    b"caf=C3=A9\r\n"
    b"\r\n"
    b"--=_alt\r\n"
    b"Content-Type: text/html; charset=utf-8\r\n"
    b"\r\n"
    b"<p>caf\xc3\xa9</p>\r\n"
    b"--=_alt--\r\n"
    b"epilogue\r\n"
)

MIXED = (
    b"From: a@example.org\r\n"
    b"Content-Type: multipart/mixed; boundary=outer\r\n"
    b"\r\n"
    b"--outer\r\n"
    b"Content-Type: text/plain\r\n"
    b"\r\n"
    b"See attached.\r\n"
    b"--outer\r\n"
    b'Content-Type: application/pdf; name="report.pdf"\r\n'
    b'Content-Disposition: attachment; filename="report.pdf"; size=3\r\n'
    b"Content-Transfer-Encoding: base64\r\n"
    b"Content-ID: <pdf@example.org>\r\n"
    b"Content-Description: The report\r\n"
    b"\r\n"
    b"QUJD\r\n"
    b"--outer--\r\n"
)

NESTED = (
    b"Subject: Fwd: hello\r\n"
    b"Content-Type: multipart/mixed; boundary=o\r\n"
    b"\r\n"
    b"--o\r\n"
    b"\r\n"
    b"see below\r\n"
    b"--o\r\n"
    b"Content-Type: message/rfc822\r\n"
    b"\r\n"
    b"Subject: hello\r\n"
    b"From: Carol <carol@example.com>\r\n"
    b"Content-Type: multipart/alternative; boundary=i\r\n"
    b"\r\n"
    b"--i\r\n"
    b"\r\n"
    b"plain\r\n"
    b"--i\r\n"
    b"Content-Type: text/html\r\n"
    b"\r\n"
    b"<b>html</b>\r\n"
    b"--i--\r\n"
    b"\r\n"
    b"--o--\r\n"
)

DIGEST = (
    b"Content-Type: multipart/digest; boundary=d\r\n"
    b"\r\n"
    b"--d\r\n"
    b"\r\n"
    b"Subject: one\r\n"
    b"\r\n"
    b"first\r\n"
    b"--d\r\n"
    b"Content-Type: text/plain\r\n"
    b"\r\n"
    b"not a message\r\n"
    b"--d--\r\n"
)

CASES: dict[str, tuple[bytes, list[Row]]] = {
    "simple": (
        SIMPLE,
        [("", "text/plain", SIMPLE[:173], b"Noon?\r\n-- \r\nAlice\r\n")],
    ),
    "alternative": (
        ALTERNATIVE,
        [
            ("", "multipart/alternative", ALTERNATIVE[:100], ALTERNATIVE[100:]),
            (
                "1",
                "text/plain",
                b"Content-Type: text/plain; charset=utf-8\r\n"
                b"Content-Transfer-Encoding: quoted-printable\r\n\r\n",
                b"caf=C3=A9\r\n",
            ),
            (
                "2",
                "text/html",
                b"Content-Type: text/html; charset=utf-8\r\n\r\n",
                b"<p>caf\xc3\xa9</p>",
            ),
        ],
    ),
    "mixed": (
        MIXED,
        [
            ("", "multipart/mixed", MIXED[:70], MIXED[70:]),
            ("1", "text/plain", b"Content-Type: text/plain\r\n\r\n", b"See attached."),
            ("2", "application/pdf", MIXED[131:346], b"QUJD"),
        ],
    ),
    "nested": (
        NESTED,
        [
            ("", "multipart/mixed", NESTED[:66], NESTED[66:]),
            ("1", "text/plain", b"\r\n", b"see below"),
            ("2", "message/rfc822", b"Content-Type: message/rfc822\r\n\r\n", NESTED[121:287]),
            ("2.M", "multipart/alternative", NESTED[121:221], NESTED[221:287]),
            ("2.M.1", "text/plain", b"\r\n", b"plain"),
            ("2.M.2", "text/html", b"Content-Type: text/html\r\n\r\n", b"<b>html</b>"),
        ],
    ),
    "digest": (
        DIGEST,
        [
            ("", "multipart/digest", DIGEST[:46], DIGEST[46:]),
            ("1", "message/rfc822", b"\r\n", b"Subject: one\r\n\r\nfirst"),
            ("1.M", "text/plain", b"Subject: one\r\n\r\n", b"first"),
            ("2", "text/plain", b"Content-Type: text/plain\r\n\r\n", b"not a message"),
        ],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_entities_byte_exact(name: str) -> None:
    raw, expected = CASES[name]
    assert rows(raw, parse(raw)) == expected


def test_hand_checked_offsets() -> None:
    m = parse(MIXED)
    assert (m.root.header_start, m.root.body_start, m.root.body_end) == (0, 70, 363)
    text, pdf = m.root.parts
    assert (text.header_start, text.body_start, text.body_end) == (79, 107, 120)
    assert (pdf.header_start, pdf.body_start, pdf.body_end) == (131, 346, 350)
    assert MIXED[120:131] == b"\r\n--outer\r\n"  # the CRLF belongs to the delimiter


def test_simple_fields() -> None:
    m = parse(SIMPLE)
    root = m.root
    assert (root.type, root.subtype, root.params) == ("text", "plain", (("charset", "us-ascii"),))
    assert (root.encoding, root.size, root.lines) == ("7BIT", 19, 3)
    assert m.envelope.subject == b"Lunch"
    assert m.envelope.date == b"Tue, 2 Jan 2024 10:00:00 +0100"
    assert m.envelope.message_id == b"<1@example.org>"
    assert m.envelope.from_ == (Address(b"Alice", None, b"alice", b"example.org"),)
    assert m.envelope.to == (Address(None, None, b"bob", b"example.com"),)
    assert m.envelope.sender == m.envelope.reply_to == ()  # defaults are the IMAP layer's


def test_mixed_attachment_fields() -> None:
    pdf = parse(MIXED).root.parts[1]
    assert pdf.params == (("name", "report.pdf"),)
    assert pdf.encoding == "BASE64"
    assert pdf.lines is None
    assert pdf.id == b"<pdf@example.org>"
    assert pdf.description == b"The report"
    assert pdf.disposition == ("attachment", (("filename", "report.pdf"), ("size", "3")))
    assert parse(MIXED).root.params == (("boundary", "outer"),)


def test_nested_message_envelope_and_lines() -> None:
    forwarded = parse(NESTED).root.parts[1]
    assert forwarded.message is not None
    assert forwarded.message.envelope.subject == b"hello"
    assert forwarded.message.envelope.from_ == (Address(b"Carol", None, b"carol", b"example.com"),)
    assert forwarded.lines == 12  # the 12 CRLF-ended lines of NESTED[121:287]
    assert forwarded.size == 287 - 121


def test_alternative_lines_follow_dovecot() -> None:
    # LF count: "caf=C3=A9\r\n" has one line; "<p>café</p>" (no line end) has none.
    plain, html = parse(ALTERNATIVE).root.parts
    assert (plain.lines, html.lines) == (1, 0)
    assert plain.params == (("charset", "utf-8"),)
    assert plain.encoding == "QUOTED-PRINTABLE"


def _only(raw: bytes) -> list[Row]:
    return rows(raw, parse_strict(raw))


BROKEN: dict[str, tuple[bytes, list[Row]]] = {
    "missing close delimiter": (
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\none\r\n--b\r\n\r\ntwo\r\n",
        [
            (
                "",
                "multipart/mixed",
                b"Content-Type: multipart/mixed; boundary=b\r\n\r\n",
                b"--b\r\n\r\none\r\n--b\r\n\r\ntwo\r\n",
            ),
            ("1", "text/plain", b"\r\n", b"one"),
            ("2", "text/plain", b"\r\n", b"two\r\n"),
        ],
    ),
    "transport padding": (
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b \t\r\n\r\none\r\n--b--  \r\n",
        [
            (
                "",
                "multipart/mixed",
                b"Content-Type: multipart/mixed; boundary=b\r\n\r\n",
                b"--b \t\r\n\r\none\r\n--b--  \r\n",
            ),
            ("1", "text/plain", b"\r\n", b"one"),
        ],
    ),
    "same boundary prefix": (
        b'Content-Type: multipart/mixed; boundary="abc"\r\n\r\n--abc\r\n'
        b'Content-Type: multipart/alternative; boundary="abc-def"\r\n\r\n'
        b"--abc-def\r\n\r\nin1\r\n--abc-def--\r\n\r\n--abc\r\n\r\nouter2\r\n--abc--\r\n",
        [
            (
                "",
                "multipart/mixed",
                b'Content-Type: multipart/mixed; boundary="abc"\r\n\r\n',
                b'--abc\r\nContent-Type: multipart/alternative; boundary="abc-def"\r\n\r\n'
                b"--abc-def\r\n\r\nin1\r\n--abc-def--\r\n\r\n--abc\r\n\r\nouter2\r\n--abc--\r\n",
            ),
            (
                "1",
                "multipart/alternative",
                b'Content-Type: multipart/alternative; boundary="abc-def"\r\n\r\n',
                b"--abc-def\r\n\r\nin1\r\n--abc-def--\r\n",
            ),
            ("1.1", "text/plain", b"\r\n", b"in1"),
            ("2", "text/plain", b"\r\n", b"outer2"),
        ],
    ),
    "inner multipart cut by the outer boundary": (
        b"Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\n"
        b"Content-Type: multipart/alternative; boundary=i\r\n\r\n--i\r\n\r\nin1\r\n"
        b"--o\r\n\r\nouter2\r\n--o--\r\n",
        [
            (
                "",
                "multipart/mixed",
                b"Content-Type: multipart/mixed; boundary=o\r\n\r\n",
                b"--o\r\nContent-Type: multipart/alternative; boundary=i\r\n\r\n--i\r\n\r\nin1\r\n"
                b"--o\r\n\r\nouter2\r\n--o--\r\n",
            ),
            (
                "1",
                "multipart/alternative",
                b"Content-Type: multipart/alternative; boundary=i\r\n\r\n",
                b"--i\r\n\r\nin1",
            ),
            ("1.1", "text/plain", b"\r\n", b"in1"),
            ("2", "text/plain", b"\r\n", b"outer2"),
        ],
    ),
    "no delimiter: one synthesized empty part": (
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\njust text\r\n",
        [
            (
                "",
                "multipart/mixed",
                b"Content-Type: multipart/mixed; boundary=b\r\n\r\n",
                b"just text\r\n",
            ),
            ("1", "text/plain", b"", b""),
        ],
    ),
    "missing blank line after the header": (
        b"Subject: x\r\nContent-Type: text/plain\r\nHello there\r\nsecond\r\n",
        [
            (
                "",
                "text/plain",
                b"Subject: x\r\nContent-Type: text/plain\r\n",
                b"Hello there\r\nsecond\r\n",
            )
        ],
    ),
    "header without body": (
        b"Subject: x\r\nTo: y@z",
        [("", "text/plain", b"Subject: x\r\nTo: y@z", b"")],
    ),
    "body only": (b"\r\nbody", [("", "text/plain", b"\r\n", b"body")]),
    "empty": (b"", [("", "text/plain", b"", b"")]),
    "bare LF line ends": (
        b"Subject: lf\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\none\n--b\n"
        b"Content-Type: text/html\n\ntwo\n--b--\n",
        [
            (
                "",
                "multipart/mixed",
                b"Subject: lf\nContent-Type: multipart/mixed; boundary=b\n\n",
                b"--b\n\none\n--b\nContent-Type: text/html\n\ntwo\n--b--\n",
            ),
            ("1", "text/plain", b"\n", b"one"),
            ("2", "text/html", b"Content-Type: text/html\n\n", b"two"),
        ],
    ),
    "part without header": (
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nHello\r\n--b--",
        [
            (
                "",
                "multipart/mixed",
                b"Content-Type: multipart/mixed; boundary=b\r\n\r\n",
                b"--b\r\nHello\r\n--b--",
            ),
            ("1", "text/plain", b"", b"Hello"),
        ],
    ),
    "back-to-back delimiters": (
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n--b\r\n\r\nx\r\n--b--",
        [
            (
                "",
                "multipart/mixed",
                b"Content-Type: multipart/mixed; boundary=b\r\n\r\n",
                b"--b\r\n--b\r\n\r\nx\r\n--b--",
            ),
            ("1", "text/plain", b"", b""),
            ("2", "text/plain", b"\r\n", b"x"),
        ],
    ),
    "mbox From_ line at the top": (
        b"From alice@example.org Tue Jan  2 10:00:00 2024\r\nSubject: s\r\n\r\nb",
        [
            (
                "",
                "text/plain",
                b"From alice@example.org Tue Jan  2 10:00:00 2024\r\nSubject: s\r\n\r\n",
                b"b",
            )
        ],
    ),
    "8-bit and NUL bytes in the header": (
        b"Subject: caf\xc3\xa9 \x00 x\r\nX-\xe9t\xe9: y\r\n\r\nb",
        [("", "text/plain", b"Subject: caf\xc3\xa9 \x00 x\r\nX-\xe9t\xe9: y\r\n\r\n", b"b")],
    ),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_broken_messages(name: str) -> None:
    raw, expected = BROKEN[name]
    assert _only(raw) == expected


def test_duplicated_content_type_first_wins() -> None:
    m = parse_strict(b"Content-Type: text/html\r\nContent-Type: image/png\r\n\r\nx")
    assert (m.root.type, m.root.subtype) == ("text", "html")


def test_invalid_content_type_is_text_plain() -> None:
    # RFC 2045 §5.2: a syntactically invalid Content-Type is taken as text/plain.
    m = parse_strict(b"Content-Type: garbage; charset=utf-8\r\n\r\nx")
    assert (m.root.type, m.root.subtype, m.root.params) == (
        "text",
        "plain",
        (("charset", "utf-8"),),
    )


def test_unknown_encoding_is_kept() -> None:
    m = parse_strict(b"Content-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 x\r\n")
    assert m.root.encoding == "X-UUENCODE"


def test_base64_message_rfc822_still_has_a_message() -> None:
    raw = (
        b"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"U3ViamVjdDogeAoKYgo=\r\n"
    )
    m = parse_strict(raw)
    assert m.root.message is not None
    assert m.root.message.envelope.subject is None
    assert m.root.message.root.body_start == m.root.body_start  # no header at all


def _nest(depth: int) -> bytes:
    head = b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i)
        for i in range(depth)
    )
    tail = b"".join(b"\r\n--b%d--" % i for i in reversed(range(depth)))
    return head + b"\r\nleaf" + tail


def test_absurd_nesting_is_bounded() -> None:
    raw = _nest(MAX_DEPTH + 30)
    m = parse_strict(raw)
    depth, part = 0, m.root
    while part.parts:
        part, depth = part.parts[0], depth + 1
    assert depth == MAX_DEPTH + 1
    assert (part.header_start, part.body_end) == (part.body_start, part.body_start)


def test_nested_messages_are_bounded() -> None:
    raw = b"Content-Type: message/rfc822\r\n\r\n" * 200 + b"Subject: deep\r\n\r\nx"
    m = parse_strict(raw)
    depth, msg = 0, m
    while msg.root.message is not None:
        msg, depth = msg.root.message, depth + 1
    assert depth == MAX_DEPTH + 1  # the last one is the synthesized empty message
    assert msg.root.size == 0


def test_part_count_is_bounded() -> None:
    raw = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n" + b"--b\r\n\r\nx\r\n" * (
        MAX_PARTS + 500
    )
    m = parse_strict(raw)
    assert len(m.root.parts) == MAX_PARTS  # the root is part number one of the budget
    assert m.root.parts[-1].body_end == len(raw)  # the rest folded into the last part


def test_huge_header_and_body_are_fast() -> None:
    header = b"Received: from a by b; Tue, 2 Jan 2024 10:00:00 +0100\r\n" * 50_000
    body = (b"A" * 76 + b"\r\n") * 400_000
    raw = header + b"Content-Type: text/plain\r\n\r\n" + body
    start = time.perf_counter()
    m = parse_strict(raw)
    assert time.perf_counter() - start < 2.0
    assert m.root.body_start == len(header) + 28
    assert m.root.lines == 400_000


def test_offsets_nest() -> None:
    for raw, _ in [*CASES.values(), *BROKEN.values()]:
        m = parse_strict(raw)
        for part in all_parts(m):
            assert 0 <= part.header_start <= part.body_start <= part.body_end <= len(raw)
            assert part.size == part.body_end - part.body_start
            for child in part.parts:
                assert part.body_start <= child.header_start
                assert child.body_end <= part.body_end


def test_parse_never_raises_even_if_the_internals_do(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(raw: bytes) -> ParsedMessage:
        raise RecursionError

    monkeypatch.setattr(parser, "parse_strict", boom)
    m = parser.parse(b"a\r\nb")
    assert m.root == BodyPart(0, 0, 4, size=4, lines=1)
