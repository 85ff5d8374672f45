"""UTF8=ACCEPT and IMAP4rev2 edges a transcript cannot spell: invalid UTF-8 octets, U+2028
in a name (a line break to `str.splitlines`), UTF-8 user names, and the 8-bit header check.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from buzon.server.rev2 import eight_bit_headers
from tests.server.harness import PASSWORD, LineClient, ServerThread, server_settings

USER = "josé"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    with ServerThread(server_settings(tmp_path / "data"), users=("alice", USER)) as running:
        yield running


def _answer(client: LineClient, tag: bytes) -> list[bytes]:
    """Every line up to and including the tagged one."""
    lines: list[bytes] = []
    while not lines or not lines[-1].startswith(tag + b" "):
        lines.append(client.line())
    return lines


def _logged_in(server: ServerThread, *enable: str) -> LineClient:
    client = LineClient(server.imap_port)
    client.line()
    client.send(f"l LOGIN alice {PASSWORD}\r\n".encode())
    assert _answer(client, b"l")[-1].startswith(b"l OK")
    if enable:
        client.send(f"e ENABLE {' '.join(enable)}\r\n".encode())
        assert _answer(client, b"e") == [
            f"* ENABLED {' '.join(enable)}".encode(),
            b"e OK ENABLE completed",
        ]
    return client


@pytest.mark.parametrize("mode", ["UTF8=ACCEPT", "IMAP4rev2"])
def test_invalid_utf8_names_are_bad(server: ServerThread, mode: str) -> None:
    client = _logged_in(server, mode)
    try:
        # RFC 6855 §3: octets that are not UTF-8 get BAD, quoted or literal.
        client.send(b'a1 CREATE "Caf\xe9"\r\n')
        assert client.line() == b"a1 BAD Mailbox name is not valid UTF-8"
        client.send(b"a2 CREATE {4+}\r\nCaf\xe9\r\n")
        assert client.line() == b"a2 BAD Mailbox name is not valid UTF-8"
        # ... and a name with LINE SEPARATOR or a C1 control is refused by the store.
        for tag, name in ((b"a3", "a\u2028b"), (b"a4", "a\u0085b")):
            client.send(tag + b' CREATE "' + name.encode() + b'"\r\n')
            assert client.line() == tag + b" NO [CANNOT] mailbox name contains a control character"
        client.send(b'a5 LIST "" "*"\r\n')
        listed = _answer(client, b"a5")
        assert not any(b"Caf" in line or b"a\xe2\x80\xa8b" in line for line in listed)
    finally:
        client.close()


def test_enable_needs_authentication(server: ServerThread) -> None:
    client = LineClient(server.imap_port)
    try:
        client.line()
        client.send(b"a1 ENABLE IMAP4rev2 UTF8=ACCEPT\r\n")
        assert client.line() == b"a1 BAD ENABLE needs authentication first"
    finally:
        client.close()


def test_utf8_user_name_login_and_authenticate(server: ServerThread) -> None:
    name = USER.encode()
    client = LineClient(server.imap_port)
    try:
        client.line()
        # RFC 6855 §5: LOGIN is not extended, but a literal carries UTF-8 octets anyway.
        client.send(b"a1 LOGIN {%d+}\r\n%s %s\r\n" % (len(name), name, PASSWORD.encode()))
        assert _answer(client, b"a1")[-1].startswith(b"a1 OK")
        client.send(b"a2 LOGOUT\r\n")
        _answer(client, b"a2")
    finally:
        client.close()
    client = LineClient(server.imap_port)
    try:
        client.line()
        # RFC 6855 §5: AUTHENTICATE is the way for UTF-8 user names (RFC 4616: UTF-8).
        blob = base64.b64encode(b"\0" + name + b"\0" + PASSWORD.encode())
        client.send(b"a1 AUTHENTICATE PLAIN " + blob + b"\r\n")
        assert _answer(client, b"a1")[-1].startswith(b"a1 OK")
        client.send(b"a2 ENABLE UTF8=ACCEPT\r\na3 NAMESPACE\r\n")
        assert _answer(client, b"a3")[-1] == b"a3 OK NAMESPACE completed"
    finally:
        client.close()


def test_rev2_without_utf8_accept_reads_and_writes_utf8(server: ServerThread) -> None:
    # RFC 9051 Appendix A: ENABLE IMAP4rev2 alone switches the wire to UTF-8.
    client = _logged_in(server, "IMAP4rev2")
    try:
        client.send('a1 CREATE "Ñandú"\r\na2 LIST "" "Ñ*"\r\n'.encode())
        assert client.line().startswith(b"a1 OK")
        assert _answer(client, b"a2") == [
            '* LIST (\\HasNoChildren) "/" "Ñandú"'.encode(),
            b"a2 OK LIST completed",
        ]
        message = "Subject: ¡Hola!\r\n\r\nx\r\n".encode()
        client.send(b"a3 APPEND Inbox {%d+}\r\n%s\r\n" % (len(message), message))
        assert client.line().startswith(b"a3 OK [APPENDUID ")
    finally:
        client.close()


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (b"Subject: hi\r\n\r\nol\xc3\xa1\r\n", False),
        (b"Subject: ol\xc3\xa1\r\n\r\nbody\r\n", True),
        (b"Subject: hi\n\nol\xc3\xa1\n", False),  # bare LF, normalised later
        (b"Subject: ol\xc3\xa1", True),  # no body at all
        (b"", False),
    ],
)
def test_eight_bit_headers(message: bytes, expected: bool) -> None:
    assert eight_bit_headers(message) is expected


def test_unauthenticate_ends_utf8_mode(server: ServerThread) -> None:
    # RFC 8437 §4.1: enabled extensions cease; 8-bit quoted strings are BAD again.
    client = _logged_in(server, "UTF8=ACCEPT")
    try:
        client.send(f"a1 UNAUTHENTICATE\r\na2 LOGIN alice {PASSWORD}\r\n".encode())
        assert client.line() == b"a1 OK UNAUTHENTICATE completed"
        assert _answer(client, b"a2")[-1].startswith(b"a2 OK")
        client.send('a3 CREATE "Café"\r\n'.encode())
        assert client.line() == b"a3 BAD 8-bit character in quoted string (use a literal)"
    finally:
        client.close()
