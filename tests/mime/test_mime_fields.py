"""Structured fields: Content-Type parameters (RFC 2045, 2231), addresses (RFC 5322)."""

from __future__ import annotations

import pytest

from buzon.mime import Address, ascii_params, parse
from buzon.mime.address import GROUP_END, parse_addresses
from buzon.mime.params import parse_content_type, parse_disposition, parse_language

TEXT = ("text", "plain")

CONTENT_TYPES: list[tuple[bytes, tuple[str, str, tuple[tuple[str, str], ...]]]] = [
    (b"text/plain", ("text", "plain", (("charset", "us-ascii"),))),
    (b'TEXT/HTML; CHARSET="UTF-8"', ("text", "html", (("charset", "UTF-8"),))),
    (
        b"text/plain; format=flowed",
        ("text", "plain", (("format", "flowed"), ("charset", "us-ascii"))),
    ),
    (b"image/png; name=a b.png", ("image", "png", (("name", "a b.png"),))),
    (
        b'application/x; name="a\\"b"; ;; junk; x=',
        ("application", "x", (("name", 'a"b'), ("x", ""))),
    ),
    (
        b'multipart/mixed (comment); boundary="=_x" (c)',
        ("multipart", "mixed", (("boundary", "=_x"),)),
    ),
    (b"text", ("text", "plain", (("charset", "us-ascii"),))),
    (b"", ("text", "plain", (("charset", "us-ascii"),))),
    (b"/", ("text", "plain", (("charset", "us-ascii"),))),
    (
        b"application/pdf; name*0*=utf-8''%C3%A9t; name*1=\"e.pdf\"",
        ("application", "pdf", (("name", "éte.pdf"),)),
    ),
    (
        b"application/pdf; name=\"fallback.pdf\"; name*=iso-8859-1'fr'%E9t%E9.pdf",
        ("application", "pdf", (("name", "été.pdf"),)),
    ),
    (
        b'application/pdf; name*1="b"; name*0="a"; name*2*=%63',
        ("application", "pdf", (("name", "abc"),)),
    ),
    (b"application/pdf; name*=bogus''%41%ZZ", ("application", "pdf", (("name", "A%ZZ"),))),
    (
        b'text/plain; name="\xc3\xa9.txt"',
        ("text", "plain", (("name", "é.txt"), ("charset", "us-ascii"))),
    ),
    (
        b'text/plain; name="\xe9.txt"',
        ("text", "plain", (("name", "é.txt"), ("charset", "us-ascii"))),
    ),
]


@pytest.mark.parametrize(("value", "expected"), CONTENT_TYPES)
def test_content_type(value: bytes, expected: tuple[str, str, tuple[tuple[str, str], ...]]) -> None:
    assert parse_content_type(value, TEXT) == expected


def test_content_type_default_in_digest() -> None:
    assert parse_content_type(None, ("message", "rfc822")) == ("message", "rfc822", ())


def test_disposition_and_language() -> None:
    assert parse_disposition(b"Attachment; filename*=utf-8''%E2%82%AC.txt") == (
        "attachment",
        (("filename", "€.txt"),),
    )
    assert parse_disposition(b"; filename=x") is None
    assert parse_disposition(None) is None
    assert parse_language(b"en, de-CH (Swiss German),fr") == ("en", "de-CH", "fr")
    assert parse_language(b" ") is None


def test_ascii_params_reencode_unicode_values() -> None:
    assert ascii_params((("name", "été.pdf"), ("charset", "utf-8"))) == (
        ("name*", "utf-8''%C3%A9t%C3%A9.pdf"),
        ("charset", "utf-8"),
    )


def test_part_fields_from_a_message() -> None:
    raw = (
        b"Content-Type: text/plain\r\nContent-ID: <a@b>\r\nContent-MD5: Q2hl\r\n"
        b"Content-Language: en\r\nContent-Location:\r\n http://x/y\r\n"
        b"Content-Transfer-Encoding: Quoted-Printable (qp)\r\n\r\nx"
    )
    root = parse(raw).root
    assert root.id == b"<a@b>"
    assert root.md5 == b"Q2hl"
    assert root.language == ("en",)
    assert root.location == b"http://x/y"
    assert root.encoding == "QUOTED-PRINTABLE"


A = Address
ADDRESSES: list[tuple[bytes, tuple[Address, ...]]] = [
    (b"alice@example.org", (A(None, None, b"alice", b"example.org"),)),
    (b"Alice Liddell <alice@example.org>", (A(b"Alice Liddell", None, b"alice", b"example.org"),)),
    (b'"Doe, John" <j@x.org>', (A(b"Doe, John", None, b"j", b"x.org"),)),
    (b'"a \\"q\\" b" <j@x.org>', (A(b'a "q" b', None, b"j", b"x.org"),)),
    (b"j@x.org (John Doe)", (A(b"John Doe", None, b"j", b"x.org"),)),
    (b"John (middle) Doe <j@x.org>", (A(b"John Doe", None, b"j", b"x.org"),)),
    (b"John Q. Public <jqp@x.org>", (A(b"John Q. Public", None, b"jqp", b"x.org"),)),
    (b"=?utf-8?q?J=C3=B6rg?= <j@x>", (A(b"=?utf-8?q?J=C3=B6rg?=", None, b"j", b"x"),)),
    (b"<@r1,@r2:x@y>", (A(None, b"@r1,@r2", b"x", b"y"),)),
    (b'"john doe"@x.org', (A(None, None, b"john doe", b"x.org"),)),
    (b"john . doe @ x . org", (A(None, None, b"john.doe", b"x.org"),)),
    (b"a@[1.2.3.4]", (A(None, None, b"a", b"[1.2.3.4]"),)),
    (b"a@b, c@d", (A(None, None, b"a", b"b"), A(None, None, b"c", b"d"))),
    (
        b"undisclosed-recipients:;",
        (A(None, None, b"undisclosed-recipients", None), GROUP_END),
    ),
    (
        b'Friends: a@x, "B" <b@y>;, c@z',
        (
            A(None, None, b"Friends", None),
            A(None, None, b"a", b"x"),
            A(b"B", None, b"b", b"y"),
            GROUP_END,
            A(None, None, b"c", b"z"),
        ),
    ),
    (b"Team: a@x", (A(None, None, b"Team", None), A(None, None, b"a", b"x"), GROUP_END)),
    (b"root", (A(None, None, b"root", b"MISSING_DOMAIN"),)),
    (b"@b", (A(None, None, b"MISSING_MAILBOX", b"b"),)),
    (b"<>", ()),
    (b", ,", ()),
    (b"", ()),
    (b"a@b junk", (A(None, None, b"a", b"b"),)),
    (b"Bob <bob@x", (A(b"Bob", None, b"bob", b"x"),)),
    (b"caf\xc3\xa9 <u@\xc3\xa9.x>", (A(b"caf\xc3\xa9", None, b"u", b"\xc3\xa9.x"),)),
]


@pytest.mark.parametrize(("value", "expected"), ADDRESSES)
def test_addresses(value: bytes, expected: tuple[Address, ...]) -> None:
    assert parse_addresses(value) == expected


def test_envelope_of_a_real_header() -> None:
    raw = (
        b"Date: Wed, 3 Jan 2024 09:15:00 -0500\r\n"
        b"Subject: =?iso-8859-1?q?R=E9union?=\r\n"
        b"  demain\r\n"
        b"From: =?utf-8?b?w4lsb2RpZQ==?= <elodie@example.fr>\r\n"
        b"Sender: list-bounces@example.fr\r\n"
        b"Reply-To: list@example.fr\r\n"
        b"To: Equipe: a@example.fr, b@example.fr;\r\n"
        b"Cc: c@example.fr\r\n"
        b"Bcc: d@example.fr\r\n"
        b"In-Reply-To: <0@example.fr>\r\n"
        b"Message-Id: <1@example.fr>\r\n"
        b"\r\n"
    )
    e = parse(raw).envelope
    assert e.date == b"Wed, 3 Jan 2024 09:15:00 -0500"
    assert e.subject == b"=?iso-8859-1?q?R=E9union?=  demain"  # unfolded, not decoded
    assert e.from_ == (A(b"=?utf-8?b?w4lsb2RpZQ==?=", None, b"elodie", b"example.fr"),)
    assert e.sender == (A(None, None, b"list-bounces", b"example.fr"),)
    assert e.reply_to == (A(None, None, b"list", b"example.fr"),)
    assert e.to == (
        A(None, None, b"Equipe", None),
        A(None, None, b"a", b"example.fr"),
        A(None, None, b"b", b"example.fr"),
        GROUP_END,
    )
    assert e.cc == (A(None, None, b"c", b"example.fr"),)
    assert e.bcc == (A(None, None, b"d", b"example.fr"),)
    assert e.in_reply_to == b"<0@example.fr>"
    assert e.message_id == b"<1@example.fr>"
