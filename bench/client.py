"""A minimal blocking IMAP client for the benchmarks, the same code for every server.

Theory of operation
-------------------
The client sends a command and reads until the tagged reply, counting untagged responses
and bytes. It reads in large chunks into one buffer and scans it with `find`, so that the
client costs little next to the server. A line ending in `{N}` announces a literal of N
bytes (RFC 9051 §4.3) that is skipped whole before the response continues; nothing else is
parsed. Literals the client sends use LITERAL+ (`{N+}`, RFC 7888) so an APPEND is one
round trip, which both servers benchmarked here advertise.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass


class ImapError(Exception):
    """The server answered NO or BAD, or closed the connection."""


@dataclass(frozen=True, slots=True)
class Reply:
    """What one command brought back."""

    status: bytes  # OK, NO or BAD
    text: bytes  # the tagged line after the status
    untagged: int  # number of untagged responses
    received: int  # bytes received, literals included
    lines: tuple[bytes, ...]  # the untagged lines when kept, literals not included


class ImapClient:
    """One plain-text IMAP connection to 127.0.0.1."""

    def __init__(self, port: int, *, timeout: float = 600.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buf = bytearray()
        self._pos = 0
        self._tag = 0
        greeting = self._line()
        if not greeting.startswith(b"* OK"):
            raise ImapError(f"unexpected greeting {greeting!r}")

    def _fill(self) -> None:
        if self._pos > 1 << 20:
            del self._buf[: self._pos]
            self._pos = 0
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ImapError("connection closed by the server")
        self._buf += chunk

    def _line(self) -> bytes:
        while True:
            end = self._buf.find(b"\r\n", self._pos)
            if end >= 0:
                line = bytes(self._buf[self._pos : end])
                self._pos = end + 2
                return line
            self._fill()

    def _skip(self, size: int) -> None:
        while len(self._buf) - self._pos < size:
            self._fill()
        self._pos += size

    def command(
        self, text: bytes, *, literals: tuple[bytes, ...] = (), keep: bool = False
    ) -> Reply:
        """Send `text` (literal placeholders `{}` are filled from `literals`), await the reply.

        Raises `ImapError` when the status is not OK.
        """
        self._tag += 1
        tag = b"b%d" % self._tag
        pieces = text.split(b"{}")
        if len(pieces) != len(literals) + 1:
            raise ValueError("one literal per {} placeholder")
        out = bytearray(tag + b" " + pieces[0])
        for literal, piece in zip(literals, pieces[1:], strict=True):
            out += b"{%d+}\r\n" % len(literal)
            out += literal
            out += piece
        out += b"\r\n"
        self.sock.sendall(out)
        return self._reply(tag, keep)

    def _bulk(self, prefix: bytes) -> tuple[int, int]:
        """Consume the complete lines in the buffer up to the tagged line or a literal.

        Returns (untagged responses, bytes) consumed. Done with `find` and `count` on the
        buffer, not line by line: with 100,000 one-line responses a Python loop per line
        would be slower than the fastest server.
        """
        buf, pos = self._buf, self._pos
        last = buf.rfind(b"\r\n", pos)
        if last < 0:
            return 0, 0
        stop = last + 2
        literal = buf.find(b"}\r\n", pos, stop)
        if literal >= 0:  # stop at the start of the line that announces a literal
            start = buf.rfind(b"\r\n", pos, literal)
            stop = pos if start < 0 else start + 2
        if buf.startswith(prefix, pos):
            return 0, 0
        tagged = buf.find(b"\r\n" + prefix, pos, stop)
        if tagged >= 0:
            stop = tagged + 2
        if stop <= pos:
            return 0, 0
        count = buf.count(b"\r\n* ", pos, stop) + (1 if buf.startswith(b"* ", pos) else 0)
        self._pos = stop
        return count, stop - pos

    def _reply(self, tag: bytes, keep: bool) -> Reply:
        untagged = 0
        received = 0
        kept: list[bytes] = []
        prefix = tag + b" "
        while True:
            if not keep:
                count, size = self._bulk(prefix)
                untagged += count
                received += size
            line = head = self._line()
            received += len(line) + 2
            while line.endswith(b"}"):
                start = line.rfind(b"{")
                size = int(line[start + 1 : -1])
                self._skip(size)
                received += size
                line = self._line()  # the response goes on after the literal
                received += len(line) + 2
            line = head
            if line.startswith(prefix):
                status, _, rest = line[len(prefix) :].partition(b" ")
                if status != b"OK":
                    raise ImapError(f"{status.decode()} {rest.decode(errors='replace')}")
                return Reply(status, rest, untagged, received, tuple(kept))
            if line.startswith(b"* "):
                untagged += 1
                if keep:
                    kept.append(line)

    def login(self, user: str, password: str) -> None:
        self.command(b'LOGIN "%s" "%s"' % (user.encode(), password.encode()))

    def logout(self) -> None:
        try:
            self.command(b"LOGOUT")
        except ImapError:
            pass
        finally:
            self.sock.close()
