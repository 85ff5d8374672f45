"""Writing responses to the client: encoded, rendered, streamed, compressed.

Theory of operation
-------------------
Every response leaves through the methods here, which `Connection` inherits: one
response (`send`, streaming a large literal in chunks), many (`send_all`, encoded into
writes of `_BATCH_BYTES`), lines the imap layer rendered (`send_rendered`), pieces a
handler rendered around message bytes it hands over unjoined (`send_parts`), and small
responses written at once from outside the session's task (`write_now` for progress
lines, `push` for the IDLE fan-out). Each writer honours RFC 9586 UIDONLY rendering, the
protocol trace in debug mode and RFC 4978 compression, and waits while the transport
holds more than its high-water mark (`pause_writing`/`resume_writing` set
`_write_ready`). `streaming` is set while a literal goes out in pieces, so that nothing
else is written inside it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence

from buzon.imap.encoder import encode, encode_chunks
from buzon.imap.responses import FetchData, FetchSection, Response, UidFetchData
from buzon.server import rev2, trace, uidonly
from buzon.server.compression import Deflate
from buzon.server.context import ServerContext
from buzon.server.session import Session

__all__ = ["ConnectionClosed", "ResponseWriter"]

# Encoded responses are gathered up to this many bytes per write by `send_all`.
_BATCH_BYTES = 64 * 1024
# Responses carrying more literal data than this are written in chunks as they are encoded.
_STREAM_ABOVE = 64 * 1024
# Pieces of rendered responses (`send_parts`) larger than this are written in slices.
_SLICE = 1024 * 1024


class ConnectionClosed(Exception):
    """The peer went away, or the connection is being torn down."""


class ResponseWriter:
    """The writing half of a `Connection`, which sets these attributes."""

    ctx: ServerContext
    session: Session
    transport: asyncio.Transport
    streaming: bool  # a response is being written in pieces (see progress.py)
    _closed: bool
    _deflate: Deflate | None
    _deflate_output: bool  # RFC 4978: compress what is written
    _write_ready: asyncio.Event  # clear while the transport is above its high-water mark

    async def send(self, response: Response) -> None:
        """Write one response, streaming large literals."""
        if self._closed:
            raise ConnectionClosed
        utf8 = rev2.utf8(self.session)
        debug = self.ctx.settings.server.debug
        if uidonly.UIDONLY in self.session.enabled:
            response = uidonly.render(response)  # RFC 9586 §3.3, whoever sends it
        if _payload_size(response) > _STREAM_ABOVE:
            self.streaming = True
            try:
                for chunk in encode_chunks(response, utf8=utf8):
                    await self._write(chunk)
            finally:
                self.streaming = False
            if debug:
                trace.outbound(self.session, response)
            return
        data = encode(response, utf8=utf8)
        if debug:
            trace.outbound_bytes(self.session, data)
        await self._write(data)

    async def send_all(self, responses: Iterable[Response]) -> None:
        """Write many responses with as few writes as possible (FETCH 1:*, STORE 1:*).

        Small responses are encoded into one buffer and written together; a response
        with a large literal is streamed on its own.
        """
        utf8 = rev2.utf8(self.session)
        debug = self.ctx.settings.server.debug
        batch: list[bytes] = []
        size = 0
        if uidonly.UIDONLY in self.session.enabled:
            responses = map(uidonly.render, responses)  # RFC 9586 §3.3
        for response in responses:
            if _payload_size(response) > _STREAM_ABOVE:
                if batch:
                    await self._write(b"".join(batch))
                    batch, size = [], 0
                await self.send(response)
                continue
            data = encode(response, utf8=utf8)
            if debug:
                trace.outbound_bytes(self.session, data)
            batch.append(data)
            size += len(data)
            if size >= _BATCH_BYTES:
                await self._write(b"".join(batch))
                batch, size = [], 0
        if batch:
            await self._write(b"".join(batch))

    async def send_rendered(self, data: bytes) -> None:
        """Write responses the imap layer already rendered (`imap.fetchlines`)."""
        if not data:
            return
        if self.ctx.settings.server.debug:
            trace.outbound_bytes(self.session, data)
        await self._write(data)

    async def send_parts(self, parts: Sequence[bytes]) -> None:
        """Write responses the caller rendered, in pieces as they are (a literal's data as
        it was read: `server.fetchwhole`); one `writev` under uvloop, nothing copied.

        A piece larger than `_SLICE` goes in slices, each waiting for the transport to
        drain: asyncio's own transport copies what it cannot send at once, and a 50 MB
        message must not be copied whole. Meanwhile `streaming` keeps progress lines from
        being written inside the literal (progress.py)."""
        if not parts:
            return
        if self._closed:
            raise ConnectionClosed
        if self.ctx.settings.server.debug:
            trace.outbound_bytes(self.session, b"".join(parts))
        if all(len(part) <= _SLICE for part in parts):
            self._write_parts(parts)
            await self._drained()
            return
        self.streaming = True
        try:
            pending: list[bytes | memoryview] = []
            for part in parts:
                if len(part) <= _SLICE:
                    pending.append(part)
                    continue
                view = memoryview(part)
                for start in range(0, len(part), _SLICE):
                    pending.append(view[start : start + _SLICE])
                    self._write_parts(pending)
                    pending = []
                    await self._drained()
            self._write_parts(pending)
        finally:
            self.streaming = False
        await self._drained()

    def _write_parts(self, parts: Sequence[bytes | memoryview]) -> None:
        if self._closed:
            raise ConnectionClosed
        if self._deflate_output:
            assert self._deflate is not None
            parts = [self._deflate.compress(part) for part in parts]
        self.transport.writelines(parts)

    def write_now(self, response: Response) -> bool:
        """Write a small response at once, without waiting for the transport's buffer to
        drain (INPROGRESS lines from a timer); False when the connection is gone."""
        if self._closed or self.streaming:
            return False
        data = encode(response, utf8=rev2.utf8(self.session))
        if self.ctx.settings.server.debug:
            trace.outbound_bytes(self.session, data)
        if self._deflate_output and self._deflate is not None:
            data = self._deflate.compress(data)
        self.transport.write(data)
        return True

    @property
    def writable(self) -> bool:
        """Output may be written now: open, not streaming, not held by back-pressure."""
        return not self._closed and not self.streaming and self._write_ready.is_set()

    def push(
        self, responses: Iterable[Response], cache: dict[tuple[Response, bool], bytes]
    ) -> None:
        """Write small untagged responses at once, from outside the session's task (the
        IDLE fan-out; the caller checked `writable`). `cache` shares the encoded bytes of
        equal responses among the sessions of one batch."""
        utf8 = rev2.utf8(self.session)
        uid_only = uidonly.UIDONLY in self.session.enabled
        parts: list[bytes] = []
        for each in responses:
            response = uidonly.render(each) if uid_only else each  # RFC 9586 §3.3
            key = (response, utf8)
            data = cache.get(key)
            if data is None:
                data = cache[key] = encode(response, utf8=utf8)
            parts.append(data)
        if not parts:
            return
        data = b"".join(parts)
        if self.ctx.settings.server.debug:
            trace.outbound_bytes(self.session, data)
        if self._deflate_output and self._deflate is not None:
            # The task is waiting for the client: flush, as `_next_event` does before it.
            data = self._deflate.compress(data) + self._deflate.flush()
        self.transport.write(data)

    async def _write(self, data: bytes | memoryview) -> None:
        if self._closed:
            raise ConnectionClosed
        if self._deflate_output:
            assert self._deflate is not None
            data = self._deflate.compress(data)
        self.transport.write(data)
        await self._drained()

    async def _drained(self) -> None:
        """Wait while the transport holds more than its high-water mark (flow control)."""
        if not self._write_ready.is_set():
            await self._write_ready.wait()
            if self._closed:
                raise ConnectionClosed


def _payload_size(response: Response) -> int:
    """How many literal octets a response carries (FETCH body sections)."""
    if not isinstance(response, FetchData | UidFetchData):
        return 0
    return sum(
        len(item.data)
        for item in response.items
        if isinstance(item, FetchSection) and item.data is not None
    )
