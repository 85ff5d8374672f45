"""Parser table for URLAUTH (RFC 4467 §9): GENURLAUTH, RESETKEY, URLFETCH; and encoding."""

from __future__ import annotations

import pytest
from tests.imap.test_reader_helpers import assert_reads, run

from buzon.imap import commands_ext as x
from buzon.imap import responses as rs
from buzon.imap.encoder import encode
from buzon.imap.reader import BadCommand, Event

URL = "imap://joe@example.com/INBOX/;uid=20/;section=1.2;urlauth=submit+fred"

CASES: list[tuple[bytes, Event]] = [
    (
        f'a1 GENURLAUTH "{URL}" INTERNAL\r\n'.encode(),
        x.GenUrlAuth("a1", ((URL, "INTERNAL"),)),
    ),
    (
        b'a1 GENURLAUTH "imap://a@b/X/;UID=1;URLAUTH=anonymous" internal {4+}\r\nu;rl X-Y.2\r\n',
        x.GenUrlAuth(
            "a1", (("imap://a@b/X/;UID=1;URLAUTH=anonymous", "INTERNAL"), ("u;rl", "X-Y.2"))
        ),
    ),
    (b"a1 RESETKEY\r\n", x.ResetKey("a1")),
    (b"a1 RESETKEY INBOX\r\n", x.ResetKey("a1", "INBOX")),
    (b"a1 resetkey inbox INTERNAL XSAMPLE\r\n", x.ResetKey("a1", "INBOX", ("INTERNAL", "XSAMPLE"))),
    (b'a1 URLFETCH "/a/;UID=1" b\r\n', x.UrlFetch("a1", ("/a/;UID=1", "b"))),
]


@pytest.mark.parametrize(("data", "expected"), CASES, ids=[repr(d[:40]) for d, _ in CASES])
def test_reads(data: bytes, expected: Event) -> None:
    assert_reads(data, [expected])


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"a1 GENURLAUTH\r\n", "Expected SP after GENURLAUTH"),
        (b'a1 GENURLAUTH "x"\r\n', "Expected SP after URL"),
        (b"a1 URLFETCH\r\n", "Expected SP after URLFETCH"),
        (b"a1 RESETKEY INBOX (X)\r\n", "Expected"),
    ],
)
def test_errors(data: bytes, text: str) -> None:
    (ev, _eof) = run([data])
    assert isinstance(ev, BadCommand)
    assert ev.tag == "a1"
    assert ev.text.startswith(text), ev.text


def test_encode_genurlauth_and_urlfetch() -> None:
    token = URL + ":INTERNAL:" + "0" * 40
    assert encode(rs.GenUrlAuthData((token,))) == f"* GENURLAUTH {token}\r\n".encode()
    assert encode(rs.UrlFetchData(((URL, b"Hi"), ("bad", None)))) == (
        f'* URLFETCH {URL} "Hi" bad NIL\r\n'.encode()
    )
    assert encode(rs.UrlFetchData((("u", b"a\r\nb"),))) == b"* URLFETCH u {4}\r\na\r\nb\r\n"
