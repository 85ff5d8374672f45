"""COMPRESS=DEFLATE (RFC 4978) with pipelining, partial flushes and a large FETCH."""

from __future__ import annotations

import imaplib
import random
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.server.harness import PASSWORD, LineClient, ServerThread, server_settings

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer


# imaplib does not know COMPRESS; tell it in which states the command is valid.
imaplib.Commands.setdefault("COMPRESS", ("AUTH", "SELECTED"))


class DeflateIMAP4(imaplib.IMAP4):
    """imaplib with RFC 4978 compression switched on after COMPRESS DEFLATE."""

    def compress(self) -> None:
        typ, data = self._simple_command("COMPRESS", "DEFLATE")
        assert typ == "OK", data
        self._inflater = zlib.decompressobj(-15)
        self._deflater = zlib.compressobj(6, zlib.DEFLATED, -15)
        self._inflated = b""

    def send(self, data: ReadableBuffer) -> None:
        deflater = getattr(self, "_deflater", None)
        if deflater is not None:
            data = deflater.compress(data) + deflater.flush(zlib.Z_SYNC_FLUSH)
        super().send(data)

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise imaplib.IMAP4.abort("socket closed")
        self._inflated += self._inflater.decompress(chunk)

    def read(self, size: int) -> bytes:
        if not hasattr(self, "_inflater"):
            return super().read(size)
        while len(self._inflated) < size:
            self._fill()
        data, self._inflated = self._inflated[:size], self._inflated[size:]
        return data

    def readline(self) -> bytes:
        if not hasattr(self, "_inflater"):
            return super().readline()
        while b"\n" not in self._inflated:
            self._fill()
        line, _, self._inflated = self._inflated.partition(b"\n")
        return line + b"\n"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    with ServerThread(server_settings(tmp_path / "data")) as running:
        yield running


def test_imaplib_with_compression_and_a_large_fetch(server: ServerThread) -> None:
    rng = random.Random(7)
    words = [
        bytes(rng.choice(b"abcdefghij") for _ in range(rng.randrange(2, 9))) for _ in range(500)
    ]
    body = b"\r\n".join(b" ".join(rng.choice(words) for _ in range(12)) for _ in range(40000))
    message = b"Subject: big\r\n\r\n" + body + b"\r\n"
    imap = DeflateIMAP4("127.0.0.1", server.imap_port)
    try:
        assert "COMPRESS=DEFLATE" not in imap.capabilities  # only after login
        imap.login("alice", PASSWORD)
        imap.compress()
        assert imap.append("INBOX", None, None, message)[0] == "OK"
        assert imap.select("INBOX") == ("OK", [b"1"])
        typ, data = imap.fetch("1", "(BODY.PEEK[])")
        assert typ == "OK"
        first = data[0]
        assert isinstance(first, tuple)
        assert first[1] == message
        assert len(message) > 1_000_000
        assert imap.noop()[0] == "OK"
    finally:
        imap.logout()


def test_pipelined_commands_in_one_compressed_packet(server: ServerThread) -> None:
    client = LineClient(server.imap_port)
    try:
        client.line()
        client.send(b"a1 LOGIN alice secret\r\na2 COMPRESS DEFLATE\r\n")
        assert client.line().startswith(b"a1 OK")
        assert client.line() == b"a2 OK DEFLATE active"
        inflater = zlib.decompressobj(-15)
        deflater = zlib.compressobj(6, zlib.DEFLATED, -15)
        packet = b'b1 NOOP\r\nb2 LIST "" INBOX\r\nb3 COMPRESS DEFLATE\r\nb4 LOGOUT\r\n'
        # Split the compressed stream at an awkward place: the server must not block on it.
        compressed = deflater.compress(packet) + deflater.flush(zlib.Z_SYNC_FLUSH)
        client.send(compressed[:3])
        client.send(compressed[3:])
        received = inflater.decompress(client.pending(0.1))  # what came with a2's line
        while b"b4 OK" not in received:
            chunk = client.sock.recv(65536)
            assert chunk, received
            received += inflater.decompress(chunk)
        assert received.split(b"\r\n")[:-1] == [
            b"b1 OK NOOP completed",
            b'* LIST (\\HasNoChildren) "/" INBOX',
            b"b2 OK LIST completed",
            b"b3 BAD [COMPRESSIONACTIVE] Compression is already active",
            b"* BYE Logging out",
            b"b4 OK LOGOUT completed",
        ]
    finally:
        client.close()


def test_corrupt_compressed_input_ends_the_session(server: ServerThread) -> None:
    client = LineClient(server.imap_port)
    try:
        client.line()
        client.send(b"a1 LOGIN alice secret\r\na2 COMPRESS DEFLATE\r\n")
        assert client.line().startswith(b"a1 OK")
        assert client.line() == b"a2 OK DEFLATE active"
        client.send(b"\xff\xff\xff\xff not deflate at all")
        inflater = zlib.decompressobj(-15)
        received = inflater.decompress(client.pending(0.1))
        while True:
            chunk = client.sock.recv(65536)
            if not chunk:
                break
            received += inflater.decompress(chunk)
        assert received.startswith(b"* BYE Protocol error: corrupt DEFLATE data")
    finally:
        client.close()
