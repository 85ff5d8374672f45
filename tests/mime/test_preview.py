"""RFC 8970 previews: which part, how it is decoded, how long it may be."""

from __future__ import annotations

import base64

import pytest

from buzon.mime import parse
from buzon.mime.preview import MAX_PREVIEW, preview


def _multipart(kind: str, *parts: bytes) -> bytes:
    body = b"".join(b"--b\r\n" + p + b"\r\n" for p in parts) + b"--b--\r\n"
    return b"Content-Type: multipart/" + kind.encode() + b'; boundary="b"\r\n\r\n' + body


PLAIN = b"Content-Type: text/plain; charset=utf-8\r\n\r\nplain  text\r\n"
HTML = b"Content-Type: text/html\r\n\r\n<html><head><title>t</title></head><p>Hi&amp;bye</p>\r\n"

CASES: list[tuple[str, bytes, str]] = [
    ("plain", b"Subject: s\r\n\r\n  Hello,\r\n\r\n\tworld!  \r\n", "Hello, world!"),
    ("no body", b"Subject: s\r\n\r\n", ""),
    ("alternative prefers plain", _multipart("alternative", HTML, PLAIN), "plain text"),
    ("html only, stripped", _multipart("alternative", HTML), "Hi&bye"),
    (
        "base64 utf-8",
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n"
        b"\r\nR3LDvMOfZSBhdXMgQmVybGlu\r\n",
        "Grüße aus Berlin",
    ),
    (
        "quoted-printable latin-1, soft line break",
        b"Content-Type: text/plain; charset=iso-8859-1\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\nCaf=E9 cr=E8=\r\nme\r\n",
        "Café crème",
    ),
    (
        "koi8-r",
        b"Content-Type: text/plain; charset=koi8-r\r\n\r\n\xf0\xd2\xc9\xd7\xc5\xd4\r\n",
        "Привет",
    ),
    (
        "an attachment is not the text",
        _multipart(
            "mixed",
            b"Content-Type: text/plain\r\nContent-Disposition: attachment\r\n\r\nfile\r\n",
            HTML,
        ),
        "Hi&bye",
    ),
    (
        "first text part in depth-first order",
        _multipart("mixed", b"Content-Type: image/png\r\n\r\nxx\r\n", PLAIN),
        "plain text",
    ),
    (
        "an embedded message is not entered",
        _multipart("mixed", b"Content-Type: message/rfc822\r\n\r\nSubject: in\r\n\r\ninner\r\n"),
        "",
    ),
    ("no text at all", b"Content-Type: image/gif\r\n\r\nGIF89a\r\n", ""),
]


@pytest.mark.parametrize(("raw", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_preview(raw: bytes, expected: str) -> None:
    assert preview(raw, parse(raw)) == expected


@pytest.mark.parametrize("char", ["a", "é", "€", "😀"])
def test_long_text_is_cut_at_256_characters(char: str) -> None:
    """RFC 8970 §3.3: at most 256 characters, counted as code points, never split bytes."""
    raw = b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + (char * 1000).encode() + b"\r\n"
    text = preview(raw, parse(raw))
    assert MAX_PREVIEW == 256
    assert text == char * 256
    assert text.encode("utf-8").decode("utf-8") == text


def test_cut_does_not_end_in_white_space() -> None:
    raw = b"Subject: s\r\n\r\n" + b"x" * 255 + b" yz\r\n"
    assert preview(raw, parse(raw)) == "x" * 255


def test_a_huge_part_is_read_from_its_start_only() -> None:
    body = ("ñ" * 20000).encode() + b"\r\n"  # the 16 KiB prefix splits a character
    for encoding, data in (("8bit", body), ("base64", base64.encodebytes(body))):
        raw = (
            b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: "
            + encoding.encode()
            + b"\r\n\r\n"
            + data
        )
        assert preview(raw, parse(raw)) == "ñ" * 256
