"""UNAUTHENTICATE (RFC 8437): a connection goes back to not authenticated, keeping nothing."""

from __future__ import annotations

import base64
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.fixtures import FIXTURES
from tests.server.harness import PASSWORD, LineClient, ServerThread, server_settings


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    with ServerThread(server_settings(tmp_path / "data")) as running:
        store = running.store
        assert store is not None
        running.call(lambda: FIXTURES["inbox-4"](store))
        yield running


def _until(client: LineClient, tag: bytes) -> list[bytes]:
    """Lines up to and including the tagged answer of `tag`."""
    lines = []
    while True:
        line = client.line()
        lines.append(line)
        if line.startswith(tag + b" "):
            return lines


def _login(client: LineClient, user: str = "alice") -> None:
    assert client.line().startswith(b"* OK ")
    client.send(f"l1 LOGIN {user} {PASSWORD}\r\n".encode())
    assert _until(client, b"l1")[-1].startswith(b"l1 OK ")


def test_unauthenticate_resets_the_session(server: ServerThread) -> None:
    a = LineClient(server.imap_port)
    b = LineClient(server.imap_port)
    try:
        _login(a)
        _login(b)
        a.send(b"a1 ENABLE CONDSTORE UTF8=ACCEPT\r\n")
        assert _until(a, b"a1") == [
            b"* ENABLED CONDSTORE UTF8=ACCEPT",
            b"a1 OK ENABLE completed",
        ]
        a.send(b"a2 SELECT INBOX\r\n")
        assert _until(a, b"a2")[-1].startswith(b"a2 OK [READ-WRITE]")
        a.send(b"a3 STORE 1 +FLAGS.SILENT (\\Deleted)\r\n")
        assert _until(a, b"a3")[-1] == b"a3 OK STORE completed"
        a.send(b"a4 NOTIFY SET (personal (MessageNew MessageExpunge))\r\n")
        assert _until(a, b"a4")[-1] == b"a4 OK NOTIFY completed"
        a.send(b"a5 CAPABILITY\r\n")
        caps = _until(a, b"a5")[0].split()
        assert b"UNAUTHENTICATE" in caps

        # RFC 8437 §3: OK, and no expunge event for the \Deleted message.
        a.send(b"a6 UNAUTHENTICATE\r\n")
        assert _until(a, b"a6") == [b"a6 OK UNAUTHENTICATE completed"]
        a.send(b"a7 SELECT INBOX\r\n")
        assert _until(a, b"a7") == [b"a7 BAD SELECT needs authentication first"]
        a.send(b"a8 CAPABILITY\r\n")
        caps = _until(a, b"a8")[0].split()
        assert b"UNAUTHENTICATE" not in caps
        assert b"AUTH=SCRAM-SHA-256" in caps
        a.send(b"a9 UNAUTHENTICATE\r\n")
        assert _until(a, b"a9") == [b"a9 BAD UNAUTHENTICATE needs authentication first"]

        # NOTIFY was cancelled: new mail in alice's INBOX reaches nobody on a.
        b.send(b"b1 APPEND INBOX {20+}\r\nSubject: x\r\n\r\nhello\r\n\r\n")
        assert _until(b, b"b1")[-1].startswith(b"b1 OK [APPENDUID ")
        assert a.pending(0.3) == b""

        # Another user on the same connection: nothing of alice's stays enabled or selected.
        a.send(f"a10 LOGIN bob {PASSWORD}\r\n".encode())
        assert _until(a, b"a10")[-1].startswith(b"a10 OK ")
        # UTF8=ACCEPT is off again: a UTF-8 mailbox name is refused, not created.
        a.send('a10b CREATE "Ñandú"\r\n'.encode())
        assert _until(a, b"a10b")[-1].startswith(b"a10b BAD 8-bit character")
        a.send(b"a11 ENABLE CONDSTORE\r\n")
        assert _until(a, b"a11")[0] == b"* ENABLED CONDSTORE"
        a.send(b"a12 STATUS INBOX (MESSAGES)\r\n")
        assert _until(a, b"a12")[0] == b"* STATUS INBOX (MESSAGES 0)"
        # alice's flagged message was not expunged.
        b.send(b"b2 STATUS INBOX (MESSAGES)\r\n")
        assert _until(b, b"b2")[0] == b"* STATUS INBOX (MESSAGES 5)"
    finally:
        a.close()
        b.close()


def test_pipelined_with_authenticate(server: ServerThread) -> None:
    """RFC 8437 §3: UNAUTHENTICATE may be pipelined with AUTHENTICATE (SASL-IR)."""
    a = LineClient(server.imap_port)
    try:
        _login(a)
        plain = base64.b64encode(f"\0bob\0{PASSWORD}".encode()).decode()
        a.send(f"u1 UNAUTHENTICATE\r\nu2 AUTHENTICATE PLAIN {plain}\r\nu3 NOOP\r\n".encode())
        assert _until(a, b"u1") == [b"u1 OK UNAUTHENTICATE completed"]
        assert _until(a, b"u2")[-1].startswith(b"u2 OK ")
        assert _until(a, b"u3") == [b"u3 OK NOOP completed"]
    finally:
        a.close()


def test_compression_ends_after_the_ok(server: ServerThread) -> None:
    """RFC 8437 §4.1: both sides end their DEFLATE streams; what follows is plain."""
    a = LineClient(server.imap_port)
    try:
        _login(a)
        a.send(b"c1 COMPRESS DEFLATE\r\n")
        assert _until(a, b"c1") == [b"c1 OK DEFLATE active"]
        deflater = zlib.compressobj(6, zlib.DEFLATED, -15)
        inflater = zlib.decompressobj(-15)
        # The client finishes its stream after the command's CRLF, then speaks plainly.
        a.send(
            deflater.compress(b"c2 UNAUTHENTICATE\r\n")
            + deflater.flush(zlib.Z_FINISH)
            + f"c3 LOGIN bob {PASSWORD}\r\n".encode()
        )
        inflated = b""
        while not inflater.eof:
            inflated += inflater.decompress(a.sock.recv(65536))
        assert inflated == b"c2 OK UNAUTHENTICATE completed\r\n"
        a._buffer = inflater.unused_data
        assert _until(a, b"c3")[-1].startswith(b"c3 OK ")
        a.send(b"c4 COMPRESS DEFLATE\r\n")  # a new layer may start
        assert _until(a, b"c4") == [b"c4 OK DEFLATE active"]
    finally:
        a.close()


def test_ending_the_stream_otherwise_is_a_protocol_error(server: ServerThread) -> None:
    """Only UNAUTHENTICATE ends a COMPRESS layer; a client that ends it otherwise is told BYE
    once its commands before the end are answered."""
    a = LineClient(server.imap_port)
    try:
        _login(a)
        a.send(b"c1 COMPRESS DEFLATE\r\n")
        assert _until(a, b"c1") == [b"c1 OK DEFLATE active"]
        deflater = zlib.compressobj(6, zlib.DEFLATED, -15)
        inflater = zlib.decompressobj(-15)
        a.send(deflater.compress(b"c2 NOOP\r\n") + deflater.flush(zlib.Z_FINISH))
        assert a.closed()
        inflated = inflater.decompress(a._buffer)
        assert inflated.startswith(b"c2 OK NOOP completed\r\n* BYE Protocol error: ")
    finally:
        a.close()
