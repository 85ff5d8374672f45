"""COMPRESS=DEFLATE (RFC 4978): raw deflate in both directions above TLS.

Input is inflated in bounded steps, only when the command reader wants more bytes, so a
small compressed packet that expands to gigabytes (a "zip bomb") never sits in memory at
once. Output is compressed as it is written and flushed with Z_SYNC_FLUSH whenever the
server waits for the client, so partial flushes end every burst of responses and a
client reading them never waits for bytes held in the compressor.

UNAUTHENTICATE ends the layer (RFC 8437 §4.1): the server finishes its stream after the
tagged OK (`finish`), the client after the CRLF of its command. The client's end of
stream is noted (`ended`) and the bytes after it are handed back raw (`take_raw`); the
connection decides whether an ended stream was allowed.
"""

from __future__ import annotations

import zlib

from buzon.imap.reader import ProtocolViolation

# RFC 4978 §4: raw DEFLATE (RFC 1951), no zlib header: negative window bits.
_WBITS = -15


class Deflate:
    """The compression layer of one connection."""

    __slots__ = ("_deflater", "_inflater", "_pending", "_tail", "ended")

    def __init__(self) -> None:
        self._inflater = zlib.decompressobj(_WBITS)
        self._deflater = zlib.compressobj(6, zlib.DEFLATED, _WBITS)
        self._pending = bytearray()
        self._tail = b""
        self.ended = False  # the client finished its DEFLATE stream

    def receive(self, data: bytes) -> None:
        """Compressed bytes from the client, to be inflated when needed."""
        self._pending += data

    @property
    def pending(self) -> int:
        """Compressed bytes waiting to be inflated (none once the stream ended)."""
        return 0 if self.ended else len(self._pending) + len(self._tail)

    def inflate(self, limit: int) -> bytes:
        """At most `limit` inflated bytes; raises ProtocolViolation on corrupt input."""
        if self.ended:
            return b""
        if not self._tail and self._pending:
            self._tail = bytes(self._pending)
            self._pending.clear()
        if not self._tail:
            return b""
        try:
            out = self._inflater.decompress(self._tail, limit)
        except zlib.error as exc:
            raise ProtocolViolation(f"corrupt DEFLATE data: {exc}") from None
        self._tail = self._inflater.unconsumed_tail
        if self._inflater.eof:
            self.ended = True
            self._tail = self._inflater.unused_data
        return out

    def take_raw(self) -> bytes:
        """The bytes the client sent after ending its stream (only once `ended`)."""
        raw = self._tail + bytes(self._pending)
        self._tail = b""
        self._pending.clear()
        return raw

    def compress(self, data: bytes | memoryview) -> bytes:
        return self._deflater.compress(data)

    def flush(self) -> bytes:
        """Everything compressed so far, ending on a byte boundary (Z_SYNC_FLUSH)."""
        return self._deflater.flush(zlib.Z_SYNC_FLUSH)

    def finish(self) -> bytes:
        """The end of the server's stream (Z_FINISH): what follows is uncompressed."""
        return self._deflater.flush(zlib.Z_FINISH)
