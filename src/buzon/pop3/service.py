"""The POP3 service: listeners, the connection loop, STLS, limits and orderly shutdown.

Theory of operation
-------------------
Modelled on the IMAP service (`server/connection.py`), which this package may not import:
`Pop3Protocol` is a plain asyncio `Protocol` whose bytes go straight into the sans-I/O
`CommandReader`, and a task per connection (`Pop3Connection.run`) pulls events out of it,
checks the command against the state table (`protocol.STATES`) and dispatches it
(`handlers.dispatch`). Replies are written in order as each command completes, which is
all RFC 2449 §6.6 PIPELINING asks.

STLS (RFC 2595 §4) is safe for the same reason as IMAP's STARTTLS: before the handshake the
reader's buffer is dropped and bytes arriving meanwhile are ignored, so a command injected
in plaintext behind STLS never runs. The pop3s port is implicit TLS (RFC 8314).

The service shares with IMAP what the server gives it: the store, the authenticator, the
failure throttle, the TLS context and the connection counters (so `max_connections`,
`max_connections_per_user` and `max_connections_per_address` count IMAP and POP3 together).

Session ends: QUIT in TRANSACTION runs the UPDATE state (RFC 1939 §6) in the handler. Any
other end — the client vanishing, the autologout timer (RFC 1939 §3: at least 10 minutes
once authenticated; no reply is sent), the server stopping — deletes nothing; messages
retrieved whole are still flagged \\Seen (`handlers.finish`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import ssl
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, cast

from buzon.auth import Authenticator, FailureThrottle
from buzon.config import Settings
from buzon.pop3 import handlers
from buzon.pop3.maildrop import Maildrop
from buzon.pop3.protocol import (
    STATES,
    BadLine,
    Command,
    CommandReader,
    Eof,
    NeedData,
    RawLine,
    State,
)
from buzon.pop3.replies import END, Err, RespCode, err_line, ok_line
from buzon.storage.api import Mailbox, Store

log = logging.getLogger("buzon.pop3")

_PAUSE_AFTER = 256 * 1024
# Bodies are written in pieces of this size, each awaiting the transport's buffer.
_CHUNK = 64 * 1024
_MAX_BAD_COMMANDS = 10
_SHUTDOWN_GRACE = 5.0
# RFC 1939 §3: "an autologout timer MUST be of at least 10 minutes' duration".
_MIN_AUTOLOGOUT = 600.0


class ConnectionCounter(Protocol):
    """The server's connection counts (structurally `server.context.ConnectionCounts`)."""

    total: int
    per_user: Counter[str]
    per_address: Counter[str]

    def drop_user(self, user: str) -> None: ...

    def drop_address(self, address: str) -> None: ...


@dataclass(slots=True)
class Pop3Context:
    """What every POP3 connection of a process shares."""

    settings: Settings
    store: Store
    authenticator: Authenticator
    throttle: FailureThrottle
    tls: ssl.SSLContext | None
    counts: ConnectionCounter
    connections: set[Pop3Connection] = field(default_factory=set)
    # RFC 5929 §4: the certificate hash SCRAM-SHA-256-PLUS binds to (None without TLS).
    tls_server_end_point: bytes | None = None


@dataclass(frozen=True, slots=True)
class Pop3Endpoint:
    """An address to listen on (port 0: any free port) or a bound listener."""

    host: str
    port: int
    implicit_tls: bool


class ConnectionClosed(Exception):
    """The peer went away."""


class _Timeout(Exception):
    """The autologout timer expired."""


class _Shutdown(Exception):
    """The server is stopping."""


class Pop3Protocol(asyncio.Protocol):
    """Feeds transport bytes into the connection's reader."""

    def __init__(self, ctx: Pop3Context, *, implicit_tls: bool) -> None:
        self._ctx = ctx
        self._implicit_tls = implicit_tls
        self.connection: Pop3Connection | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        stream = cast(asyncio.Transport, transport)
        self.connection = Pop3Connection(self._ctx, stream, secure=self._implicit_tls)
        self.connection.start()

    def data_received(self, data: bytes) -> None:
        if self.connection is not None:
            self.connection.feed(data)

    def eof_received(self) -> bool | None:
        if self.connection is not None:
            self.connection.feed_eof()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if self.connection is not None:
            self.connection.lost()

    def pause_writing(self) -> None:
        if self.connection is not None:
            self.connection.write_ready.clear()

    def resume_writing(self) -> None:
        if self.connection is not None:
            self.connection.write_ready.set()


class Pop3Connection:
    """One POP3 session; handlers read and change its fields and talk through it."""

    def __init__(self, ctx: Pop3Context, transport: asyncio.Transport, *, secure: bool) -> None:
        self.ctx = ctx
        self.transport = transport
        peername = transport.get_extra_info("peername")
        host = str(peername[0]) if peername else "unknown"
        port = int(peername[1]) if peername else 0
        self.address = host
        self.peer = f"{host}:{port}"
        self.session_id = secrets.token_hex(4)
        self.secure = secure
        self.loopback = host.startswith(("127.", "::ffff:127.")) or host in {"::1", "localhost"}
        self.state = State.AUTHORIZATION
        self.user: str | None = None
        self.pending_user: str | None = None  # from USER, waiting for PASS
        self.auth_failures = 0
        self.mailbox: Mailbox | None = None
        self.maildrop: Maildrop | None = None
        self.close_after = False  # set by a handler: close once its reply is sent
        self.reader = CommandReader()
        self.write_ready = asyncio.Event()
        self.write_ready.set()
        self._data_ready = asyncio.Event()
        self._eof = False
        self._closed = False
        self._ignore_input = False
        self._reading_paused = False
        self._fed = 0
        self._shutdown = False
        self._admitted = False
        self._counted_user: str | None = None
        self._task: asyncio.Task[None] | None = None

    # --- transport side ------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.run())
        self.ctx.connections.add(self)

    def feed(self, data: bytes) -> None:
        if self._ignore_input:
            return
        self.reader.receive_data(data)
        self._fed += len(data)
        if self._fed > _PAUSE_AFTER and not self._reading_paused:
            self._reading_paused = True
            self.transport.pause_reading()
        self._data_ready.set()

    def feed_eof(self) -> None:
        self._eof = True
        self._data_ready.set()

    def lost(self) -> None:
        self._closed = True
        self._eof = True
        self._data_ready.set()
        self.write_ready.set()

    def request_shutdown(self) -> None:
        self._shutdown = True
        self._data_ready.set()

    async def wait_closed(self) -> None:
        if self._task is not None:
            await asyncio.shield(self._task)

    # --- writing -------------------------------------------------------------------------

    async def send(self, data: bytes) -> None:
        if self._closed:
            raise ConnectionClosed
        if self.ctx.settings.server.debug:
            first = data.split(b"\r\n", 1)[0]
            log.debug("session=%s S: %s", self.session_id, first.decode("utf-8", "replace"))
        for start in range(0, len(data), _CHUNK):
            self.transport.write(data[start : start + _CHUNK])
            if not self.write_ready.is_set():
                await self.write_ready.wait()
                if self._closed:
                    raise ConnectionClosed

    async def send_multiline(self, first: bytes, body: bytes) -> None:
        """A status line, a dot-stuffed body ending in CRLF, then the terminating "."."""
        await self.send(first + body + END)

    # --- reading -------------------------------------------------------------------------

    def _timeout(self) -> float:
        limits = self.ctx.settings.limits
        if self.state is State.AUTHORIZATION:
            return limits.unauthenticated_timeout
        return max(limits.idle_timeout, _MIN_AUTOLOGOUT)

    async def next_event(self) -> object:
        while True:
            if self._shutdown:
                raise _Shutdown
            event = self.reader.next_event()
            if not isinstance(event, NeedData):
                return event
            self._fed = 0
            if self._reading_paused and not self._closed:
                self._reading_paused = False
                self.transport.resume_reading()
            if self._eof:
                return Eof()
            self._data_ready.clear()
            try:
                await asyncio.wait_for(self._data_ready.wait(), self._timeout())
            except TimeoutError:
                raise _Timeout from None

    async def read_line(self) -> bytes:
        """One raw client line (a SASL response), without its line end."""
        self.reader.line_mode = True
        try:
            event = await self.next_event()
        finally:
            self.reader.line_mode = False
        if isinstance(event, RawLine):
            return event.line
        if isinstance(event, BadLine):
            raise Err(event.text)
        raise ConnectionClosed

    # --- TLS -----------------------------------------------------------------------------

    async def start_tls(self, context: ssl.SSLContext) -> None:
        """RFC 2595 §4: the handshake right after "+OK"; earlier client bytes are dropped."""
        self._ignore_input = True
        dropped = self.reader.discard_buffered()
        if dropped:
            log.warning(
                "session=%s peer=%s discarded %d bytes sent before the TLS handshake",
                self.session_id,
                self.peer,
                dropped,
            )
        loop = asyncio.get_running_loop()
        protocol = self.transport.get_protocol()
        new_transport = await loop.start_tls(
            self.transport, protocol, context, server_side=True, ssl_handshake_timeout=30.0
        )
        if new_transport is None:
            raise ConnectionClosed
        self.transport = new_transport
        self._ignore_input = False
        self.secure = True

    # --- limits --------------------------------------------------------------------------

    def _admit(self) -> bool:
        counts = self.ctx.counts
        limits = self.ctx.settings.limits
        if counts.total >= limits.max_connections:
            self.transport.write(err_line("Too many connections, try later", RespCode.SYS_TEMP))
            return False
        if counts.per_address[self.address] >= limits.max_connections_per_address:
            self.transport.write(
                err_line("Too many connections from your address", RespCode.SYS_TEMP)
            )
            return False
        counts.total += 1
        counts.per_address[self.address] += 1
        self._admitted = True
        return True

    def claim_user_slot(self, user: str) -> bool:
        """Count this connection against `user`'s limit; False when the user is at it."""
        counts = self.ctx.counts
        if counts.per_user[user] >= self.ctx.settings.limits.max_connections_per_user:
            return False
        counts.per_user[user] += 1
        self._counted_user = user
        return True

    def release_user_slot(self) -> None:
        if self._counted_user is not None:
            self.ctx.counts.drop_user(self._counted_user)
            self._counted_user = None

    def _release(self) -> None:
        self.ctx.connections.discard(self)
        if self._admitted:
            self.ctx.counts.total -= 1
            self.ctx.counts.drop_address(self.address)
            self._admitted = False
        self.release_user_slot()

    # --- the loop ------------------------------------------------------------------------

    async def run(self) -> None:
        log.info(
            "session=%s peer=%s POP3 connected%s",
            self.session_id,
            self.peer,
            " (TLS)" if self.secure else "",
        )
        try:
            if not self._admit():
                return
            await self.send(ok_line("Buzon POP3 ready."))
            await self._loop()
        except (ConnectionClosed, _Timeout):
            pass
        except _Shutdown:
            with contextlib.suppress(ConnectionClosed):
                await self.send(err_line("Server shutting down", RespCode.SYS_TEMP))
        except Exception:
            log.exception("session=%s peer=%s POP3 session crashed", self.session_id, self.peer)
        finally:
            await handlers.finish(self)
            self._release()
            if not self._closed:
                self.transport.close()
            log.info(
                "session=%s user=%s peer=%s POP3 disconnected",
                self.session_id,
                self.user or "-",
                self.peer,
            )

    async def _loop(self) -> None:
        bad = 0
        while not self.close_after:
            event = await self.next_event()
            if isinstance(event, Eof):
                return
            if isinstance(event, BadLine | RawLine):
                bad += 1
                text = event.text if isinstance(event, BadLine) else "Unexpected line"
                if bad >= _MAX_BAD_COMMANDS:
                    await self.send(err_line("Too many invalid commands"))
                    return
                await self.send(err_line(text))
                continue
            bad = 0
            command = cast(Command, event)
            if self.ctx.settings.server.debug:
                log.debug("session=%s C: %s", self.session_id, command.keyword)
            if self.state not in STATES[command.keyword]:
                await self.send(err_line(_state_text(command.keyword, self.state)))
                continue
            await self._execute(command)

    async def _execute(self, command: Command) -> None:
        """Run one command; the single map from refusals and failures to ``-ERR``."""
        try:
            await handlers.dispatch(self, command)
        except Err as refusal:
            await self.send(err_line(refusal.text, refusal.code))
        except (ConnectionClosed, _Timeout, _Shutdown):
            raise
        except Exception:
            log.exception(
                "session=%s user=%s peer=%s POP3 %s failed",
                self.session_id,
                self.user or "-",
                self.peer,
                command.keyword,
            )
            await self.send(err_line("Internal error; the problem is logged", RespCode.SYS_TEMP))


def _state_text(keyword: str, state: State) -> str:
    if state is State.AUTHORIZATION:
        return f"{keyword} needs authentication first"
    return f"{keyword} is not allowed after authentication"


class Pop3Server:
    """Accepts POP3 connections on its endpoints; `stop` ends every session."""

    def __init__(self, ctx: Pop3Context, endpoints: Sequence[Pop3Endpoint]) -> None:
        self.ctx = ctx
        self.endpoints = tuple(endpoints)
        self._servers: list[asyncio.Server] = []
        self.bound: list[Pop3Endpoint] = []

    async def start(self) -> None:
        """Listen on every endpoint; `bound` then lists the addresses (ports chosen)."""
        loop = asyncio.get_running_loop()
        for endpoint in self.endpoints:
            if endpoint.implicit_tls and self.ctx.tls is None:
                raise ValueError("implicit TLS listener without a TLS context")
            implicit = endpoint.implicit_tls
            server = await loop.create_server(
                lambda implicit=implicit: Pop3Protocol(self.ctx, implicit_tls=implicit),
                endpoint.host,
                endpoint.port,
                ssl=self.ctx.tls if implicit else None,
                reuse_address=True,
                backlog=1024,
            )
            self._servers.append(server)
            for sock in server.sockets:
                host, port = sock.getsockname()[:2]
                bound = Pop3Endpoint(str(host), int(port), implicit)
                self.bound.append(bound)
                log.info(
                    "listening for %s on %s port %d",
                    "POP3 over TLS (pop3s)"
                    if implicit
                    else "POP3 (STLS available)"
                    if self.ctx.tls is not None
                    else "POP3",
                    bound.host,
                    bound.port,
                )

    async def stop(self) -> None:
        """Stop accepting, end every session (nothing is deleted), wait briefly."""
        for server in self._servers:
            server.close()
        connections = list(self.ctx.connections)
        for connection in connections:
            connection.request_shutdown()
        if connections:
            waiters = {asyncio.ensure_future(c.wait_closed()): c for c in connections}
            _done, pending = await asyncio.wait(waiters, timeout=_SHUTDOWN_GRACE)
            for waiter in pending:
                waiter.cancel()
                waiters[waiter].transport.abort()
        for server in self._servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), timeout=1.0)
        self._servers.clear()
