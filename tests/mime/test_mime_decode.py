"""Decoding: transfer encodings, encoded words, CRLF, text for search, header fields."""

from __future__ import annotations

import pytest

from buzon.mime import (
    Address,
    addresses_text,
    body_text,
    decode_header,
    decode_transfer,
    normalize_crlf,
    parse,
    select_header_fields,
)

TRANSFER: list[tuple[bytes, str, bytes | None]] = [
    (b"QUJD\r\nREVG\r\n", "base64", b"ABCDEF"),
    (b"QUJDRA", "BASE64", b"ABCD"),  # missing padding
    (b"QUJDR", "base64", b"ABC"),  # truncated: a lone last character is dropped
    (b"QQ==QkI=", "base64", b"ABB"),  # concatenated padded blocks
    (b" Q U J D !", "base64", b"ABC"),  # junk and spaces
    (b"", "base64", b""),
    (b"caf=C3=A9=\r\n au lait", "quoted-printable", b"caf\xc3\xa9 au lait"),
    (b"soft=  \r\nbreak", "quoted-printable", b"softbreak"),  # padding after "="
    (b"trail  \r\nx", "quoted-printable", b"trail\r\nx"),  # transport padding dropped
    (b"bad=ZZ=4 and=3d", "quoted-printable", b"bad=ZZ=4 and="),  # lenient escapes
    (b"raw\x00\xff", "7bit", b"raw\x00\xff"),
    (b"raw", "8BIT", b"raw"),
    (b"raw", "binary", b"raw"),
    (b"begin 644", "x-uuencode", None),
]


@pytest.mark.parametrize(("body", "encoding", "expected"), TRANSFER)
def test_decode_transfer(body: bytes, encoding: str, expected: bytes | None) -> None:
    assert decode_transfer(body, encoding) == expected


HEADERS: list[tuple[bytes, str]] = [
    (b"plain ascii", "plain ascii"),
    (b"=?utf-8?q?caf=C3=A9?=", "café"),
    (b"=?UTF-8?B?Y2Fmw6k=?=", "café"),
    (b"=?iso-8859-1?q?R=E9union_demain?=", "Réunion demain"),
    (b"=?ISO-8859-15?Q?=A4uro?=", "€uro"),
    (b"=?windows-1251?b?0O7x8ej/?=", "Россия"),
    (b"=?koi8-r?b?8NLJ18XU?=", "Привет"),
    (b"=?iso-2022-jp?B?GyRCRnxLXDhsGyhC?=", "日本語"),
    (b"=?shift_jis?B?k/qWe4zq?=", "日本語"),
    (b"=?gb2312?B?1tDOxA==?=", "中文"),
    (b"=?big5?B?pKSk5Q==?=", "中文"),
    (b"=?utf-8?q?a?= =?utf-8?q?b?=", "ab"),  # RFC 2047 §6.2: whitespace between words dropped
    (b"=?utf-8?q?a?=\r\n =?utf-8?q?b?=", "ab"),
    (b"=?utf-8?b?4g==?= =?utf-8?b?gqw=?=", "€"),  # a character split across two words
    (b"x =?utf-8?q?a?= y", "x a y"),
    (b"Re:=?utf-8?q?caf=C3=A9?=", "Re:café"),  # lenient: not separated by white space
    (b"=?utf-8*en?q?hi?=", "hi"),  # RFC 2231 §5 language suffix
    (b"=?utf-8?q?a b?=", "a b"),  # lenient: space inside Q text
    (b"=?bogus?q?caf=C3=A9?=", "café"),  # unknown charset: UTF-8 guess
    (b"=?utf-8?x?abc?=", "=?utf-8?x?abc?="),  # not an encoded word
    (b"=?utf-8?q?unterminated", "=?utf-8?q?unterminated"),
    (b"caf\xc3\xa9", "café"),  # raw UTF-8
    (b"caf\xe9", "café"),  # raw Latin-1
    (b"  folded\r\n  value  ", "folded  value"),
]


@pytest.mark.parametrize(("raw", "expected"), HEADERS)
def test_decode_header(raw: bytes, expected: str) -> None:
    assert decode_header(raw) == expected


CRLF: list[tuple[bytes, bytes]] = [
    (b"", b""),
    (b"a\r\nb\r\n", b"a\r\nb\r\n"),
    (b"a\nb\n", b"a\r\nb\r\n"),
    (b"a\rb\r", b"a\r\nb\r\n"),
    (b"a\r\nb\nc\rd", b"a\r\nb\r\nc\r\nd"),
    (b"\r\r\n\n", b"\r\n\r\n\r\n"),
]


@pytest.mark.parametrize(("raw", "expected"), CRLF)
def test_normalize_crlf(raw: bytes, expected: bytes) -> None:
    assert normalize_crlf(raw) == expected


def test_normalize_crlf_returns_canonical_input_itself() -> None:
    raw = b"a\r\nb\r\n" * 10
    assert normalize_crlf(raw) is raw


HEADER = b"Subject: hello\r\nReceived: from a\r\n\tby b\r\nFrom: x@y\r\nsubject : again\r\n\r\n"


def test_header_fields() -> None:
    assert select_header_fields(HEADER, ["SUBJECT", "received"], exclude=False) == (
        b"Subject: hello\r\nReceived: from a\r\n\tby b\r\nsubject : again\r\n\r\n"
    )
    assert select_header_fields(HEADER, ["Subject"], exclude=True) == (
        b"Received: from a\r\n\tby b\r\nFrom: x@y\r\n\r\n"
    )
    assert select_header_fields(HEADER, ["X-None"], exclude=False) == b"\r\n"
    assert select_header_fields(b"To: a\r\nFrom: b", ["from"], exclude=False) == b"From: b\r\n\r\n"


def test_addresses_text() -> None:
    addrs = (
        Address(None, None, b"Team", None),
        Address(b"=?utf-8?q?J=C3=B6rg?=", None, b"j", b"x.org"),
        Address(None, None, None, None),
        Address(None, None, b"root", b"MISSING_DOMAIN"),
    )
    assert addresses_text(addrs) == [("Jörg", "j@x.org"), ("", "root")]


def test_body_text() -> None:
    raw = (
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/html; charset=iso-8859-1\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        b"<html><head><title>t</title></head><style>p{}</style>"
        b"<p>caf=E9 &amp; cr=E8me</p><!-- hidden --></html>\r\n"
        b"--b\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n"
        b"--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: in\r\n"
        b"Content-Transfer-Encoding: base64\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        b"w6l0w6k=\r\n"
        b"--b--\r\n"
    )
    text = body_text(raw, parse(raw))
    assert "café & crème" in text
    assert "été" in text
    assert "hidden" not in text
    assert "p{}" not in text
    assert "<p>" not in text
    assert "AAAA" not in text
