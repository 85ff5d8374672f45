"""One client connection: transport callbacks, the read loop and dispatch.

Theory of operation
-------------------
`ImapProtocol` is a plain asyncio `Protocol`: every byte the transport delivers goes
straight into the sans-I/O `CommandReader`, and a per-connection task (`Connection.run`)
pulls typed events out of it. Keeping the bytes in the reader (not in an asyncio
`StreamReader`) is what makes STARTTLS safe: before the TLS handshake the reader's buffer is
dropped and bytes arriving meanwhile are ignored, so a command injected in plaintext after
STARTTLS is never executed (RFC 9051 §6.2.1, the classic STARTTLS injection).

Back-pressure: reading pauses while a command is being executed and more than
`_PAUSE_AFTER` bytes wait in the reader, and resumes when the loop asks for more data.
Writing (`output.ResponseWriter`, which `Connection` inherits) waits while the
transport's buffer is above its high-water mark.

The loop is deliberately short: wait for an event, answer continuations and parse errors,
dispatch commands through the table in `registry.py`, and map every outcome to a response
in one place (`_execute`).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from typing import cast

from buzon.imap.reader import (
    BadCommand,
    CommandReader,
    Eof,
    NeedContinuation,
    NeedData,
    ProtocolViolation,
    RawLine,
    ReaderLimits,
)
from buzon.imap.responses import (
    CapabilityCode,
    Code,
    Continuation,
    Tagged,
    UntaggedStatus,
)
from buzon.imap.words import ResponseCode, Status
from buzon.server import capabilities, notify, progress, selection, trace, uidonly
from buzon.server.compression import Deflate
from buzon.server.context import ServerContext
from buzon.server.errors import storage_refusal
from buzon.server.outcome import Bad, Bye, No
from buzon.server.output import ConnectionClosed, ResponseWriter
from buzon.server.registry import CommandSpec, display_name, lookup, may_expunge
from buzon.server.session import Session, State, Wakeup
from buzon.storage.api import StorageError

log = logging.getLogger("buzon.imap")

_PAUSE_AFTER = 256 * 1024
_MAX_BAD_BEFORE_VALID = 3
# Literals a client may send before it has logged in: enough for LOGIN and AUTHENTICATE.
_MAX_UNAUTHENTICATED_LITERAL = 16 * 1024
_REFUSALS_NOT_ERRORS = frozenset({"BADCHARSET", "USEATTR"})
# Bytes inflated per step from a compressed client stream (RFC 4978).
_INFLATE_STEP = 256 * 1024


class _Shutdown(Exception):
    """The server is stopping; the session gets BYE."""


class ImapProtocol(asyncio.Protocol):
    """Feeds transport bytes into the connection's reader."""

    def __init__(self, ctx: ServerContext, *, implicit_tls: bool) -> None:
        self._ctx = ctx
        self._implicit_tls = implicit_tls
        self.connection: Connection | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement the interface without subclassing asyncio.Transport.
        stream = cast(asyncio.Transport, transport)
        self.connection = Connection(self._ctx, stream, secure=self._implicit_tls)
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
            self.connection.pause_writing()

    def resume_writing(self) -> None:
        if self.connection is not None:
            self.connection.resume_writing()


class Connection(ResponseWriter):
    """The session loop of one connection; handlers talk to the client through it."""

    def __init__(self, ctx: ServerContext, transport: asyncio.Transport, *, secure: bool) -> None:
        self.ctx = ctx
        self.transport = transport
        peername = transport.get_extra_info("peername")
        host = str(peername[0]) if peername else "unknown"
        port = int(peername[1]) if peername else 0
        self.address = host
        self.session = Session(peer=f"{host}:{port}", secure=secure, loopback=_is_loopback(host))
        self.reader = CommandReader(_reader_limits(ctx, authenticated=False))
        self._data_ready = asyncio.Event()
        self._woken = False
        self._last_input = time.monotonic()
        # RFC 4978: set for input when COMPRESS succeeds; output follows its tagged OK.
        self._deflate: Deflate | None = None
        self._deflate_output = False
        self._compression_ending = False  # UNAUTHENTICATE ends the layer (RFC 8437 §4.1)
        self._eof = False
        self._closed = False
        self._ignore_input = False
        self._reading_paused = False
        self._fed = 0
        self._write_ready = asyncio.Event()
        self._write_ready.set()
        self._shutdown = False
        self._task: asyncio.Task[None] | None = None
        self._counted_user: str | None = None
        self.selection: selection.Selection | None = None
        self.notifier: notify.Notifier | None = None  # RFC 5465 NOTIFY, when set
        self.progress: progress.Progress | None = None  # RFC 9585, while a command runs
        self.streaming = False  # a response is being written in chunks (see progress.py)
        # Waiting in IDLE for DONE or a change: notices go to `ctx.fanout` (fanout.py).
        self.parked = False

    # --- transport side ------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.run())
        self.ctx.connections.add(self)

    def feed(self, data: bytes) -> None:
        if self._ignore_input:
            return
        self._last_input = time.monotonic()
        if self._deflate is not None:
            self._deflate.receive(data)
        else:
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
        self._write_ready.set()

    def pause_writing(self) -> None:
        self._write_ready.clear()

    def resume_writing(self) -> None:
        self._write_ready.set()

    def request_shutdown(self) -> None:
        """Ask the session to say BYE and close once its current command is done."""
        self._shutdown = True
        self._data_ready.set()

    async def wait_closed(self) -> None:
        if self._task is not None:
            await asyncio.shield(self._task)

    # --- reading -------------------------------------------------------------------------

    def _timeout(self) -> float:
        limits = self.ctx.settings.limits
        if self.session.state is State.NOT_AUTHENTICATED:
            return limits.unauthenticated_timeout
        return limits.idle_timeout

    def wake(self) -> None:
        """Interrupt an IDLE wait: something the session should report has happened.

        A session parked in IDLE without NOTIFY is told by the fan-out instead, without
        waking its task (fanout.py)."""
        if self.parked and self.notifier is None:
            self.ctx.fanout.add(self)
            return
        self.rouse()

    def rouse(self) -> None:
        """Wake the session's task so that it runs `selection.sync` itself."""
        self._woken = True
        self._data_ready.set()

    async def _next_event(
        self, *, timeout: float | None = None, wakeable: bool = False
    ) -> BadCommand | NeedContinuation | RawLine | Eof | Wakeup | object:
        while True:
            if self._shutdown:
                raise _Shutdown
            event = self.reader.next_event()
            if not isinstance(event, NeedData):
                return event
            if self._deflate is not None and self._deflate.ended:
                self._end_inflate()
                continue
            if self._deflate is not None and self._deflate.pending:
                # Inflate a bounded step at a time, only as the reader needs it.
                inflated = self._deflate.inflate(_INFLATE_STEP)
                if inflated:  # b"" would tell the reader the client closed the stream
                    self.reader.receive_data(inflated)
                continue
            self._fed = 0
            if self._reading_paused and not self._closed:
                self._reading_paused = False
                self.transport.resume_reading()
            if self._eof:
                return Eof()
            if wakeable and self._woken:
                self._woken = False
                return Wakeup.CHANGE
            if self._deflate_output and not self._closed:
                # About to wait for the client: everything sent so far must reach it.
                assert self._deflate is not None
                self.transport.write(self._deflate.flush())
            self._data_ready.clear()
            try:
                wait = self._timeout() if timeout is None else timeout
                await asyncio.wait_for(self._data_ready.wait(), wait)
            except TimeoutError:
                if wakeable:
                    return Wakeup.TIMER
                raise Bye("Autologout; idle for too long") from None

    async def idle_wait(self, timeout: float) -> bytes | Wakeup:
        """A client line (IDLE's DONE), or why the wait ended without one (RFC 2177)."""
        self.reader.line_mode = True
        self.parked = True
        try:
            event = await self._next_event(timeout=timeout, wakeable=True)
        finally:
            self.reader.line_mode = False
            self.parked = False
        if isinstance(event, RawLine):
            return event.line
        if isinstance(event, Wakeup):
            return event
        if isinstance(event, Eof):
            raise ConnectionClosed
        raise ProtocolViolation(f"expected a line, got {type(event).__name__}")

    def clear_wakeup(self) -> None:
        self._woken = False

    def channel_bindings(self) -> dict[str, bytes]:
        """RFC 5929 channel-binding data of this connection (empty without TLS)."""
        end_point = self.ctx.tls_server_end_point
        if not self.session.secure or end_point is None:
            return {}
        return {"tls-server-end-point": end_point}

    @property
    def compressed(self) -> bool:
        return self._deflate is not None

    def start_compression(self) -> None:
        """RFC 4978 §3: inflate the client's bytes from now on (it waits for our OK)."""
        self._deflate = Deflate()

    async def compress_output(self) -> None:
        """Run after the tagged OK of COMPRESS: compress everything written from now on."""
        self._deflate_output = True

    async def end_compression(self) -> None:
        """Run after the tagged OK of UNAUTHENTICATE (RFC 8437 §4.1): finish our stream;
        the client's ends after its command, and what follows it is read uncompressed."""
        if self._deflate is not None and self._deflate_output and not self._closed:
            self.transport.write(self._deflate.finish())
        self._deflate_output = False
        self._compression_ending = True

    def _end_inflate(self) -> None:
        assert self._deflate is not None
        if not self._compression_ending:
            raise ProtocolViolation("the client ended its DEFLATE stream")
        raw = self._deflate.take_raw()
        self._deflate = None
        self._compression_ending = False
        if raw:
            self.reader.receive_data(raw)

    def unauthenticated(self) -> None:
        """Back to the bounds of a client that has not logged in (RFC 8437)."""
        self.release_user_slot()
        self.reader.set_limits(_reader_limits(self.ctx, authenticated=False))
        # RFC 8437 §4.1: ENABLEd UTF8=ACCEPT / IMAP4rev2 end too; read ASCII again.
        self.reader.utf8 = False

    async def _next_command_event(self) -> object:
        """The next event between commands.

        With NOTIFY active (RFC 5465 §3: the client listens all the time), the wait is
        interrupted by change notices and their events are pushed; the autologout timer
        counts from the client's last bytes, not from the last notification.
        """
        if self.notifier is None:
            return await self._next_event()
        while True:
            remaining = self._last_input + self._timeout() - time.monotonic()
            if remaining <= 0:
                raise Bye("Autologout; idle for too long")
            event = await self._next_event(timeout=remaining, wakeable=True)
            if event is Wakeup.CHANGE:
                await notify.deliver(self)
                continue
            if event is Wakeup.TIMER:
                continue
            return event

    async def read_line(self) -> bytes:
        """One raw client line (SASL responses, IDLE's DONE), without its CRLF."""
        self.reader.line_mode = True
        try:
            event = await self._next_event()
        finally:
            self.reader.line_mode = False
        if isinstance(event, RawLine):
            if self.ctx.settings.server.debug:
                trace.inbound_hidden(self.session, "client line")
            return event.line
        if isinstance(event, Eof):
            raise ConnectionClosed
        raise ProtocolViolation(f"expected a line, got {type(event).__name__}")

    # --- TLS -----------------------------------------------------------------------------

    async def start_tls(self, context: ssl.SSLContext) -> None:
        """Upgrade the transport after the tagged OK of STARTTLS (RFC 9051 §6.2.1)."""
        self._ignore_input = True
        dropped = self.reader.discard_buffered()
        if dropped:
            log.warning(
                "session=%s peer=%s discarded %d bytes sent before the TLS handshake",
                self.session.session_id,
                self.session.peer,
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
        self.session.secure = True

    # --- the loop ------------------------------------------------------------------------

    async def run(self) -> None:
        session = self.session
        log.info(
            "session=%s peer=%s connected%s",
            session.session_id,
            session.peer,
            " (TLS)" if session.secure else "",
        )
        try:
            if not self._admit():
                return
            await self.send(
                UntaggedStatus(
                    Status.OK, "Buzon ready.", CapabilityCode(capabilities.for_session(self))
                )
            )
            while session.state is not State.LOGOUT:
                try:
                    event = await self._next_command_event()
                    await self._handle_event(event)
                except Bye as bye:
                    await self.send(UntaggedStatus(Status.BYE, bye.text, bye.code))
                    break
                except _Shutdown:
                    await self.send(UntaggedStatus(Status.BYE, "Server shutting down"))
                    break
                except ProtocolViolation as exc:
                    await self.send(UntaggedStatus(Status.BYE, f"Protocol error: {exc}"))
                    break
        except ConnectionClosed:
            pass
        except Exception:
            log.exception("session=%s peer=%s crashed", session.session_id, session.peer)
        finally:
            selection.close(self)
            notify.stop(self)
            self._release()
            if not self._closed:
                if self._deflate_output:
                    assert self._deflate is not None
                    self.transport.write(self._deflate.flush())
                self.transport.close()
            log.info(
                "session=%s user=%s peer=%s disconnected",
                session.session_id,
                session.user or "-",
                session.peer,
            )

    def _admit(self) -> bool:
        counts = self.ctx.counts
        limits = self.ctx.settings.limits
        if counts.total >= limits.max_connections:
            self.transport.write(b"* BYE [UNAVAILABLE] Too many connections, try later\r\n")
            return False
        if counts.per_address[self.address] >= limits.max_connections_per_address:
            self.transport.write(b"* BYE [UNAVAILABLE] Too many connections from your address\r\n")
            return False
        counts.total += 1
        counts.per_address[self.address] += 1
        self._admitted = True
        return True

    def _release(self) -> None:
        self.ctx.connections.discard(self)
        if getattr(self, "_admitted", False):
            self.ctx.counts.total -= 1
            self.ctx.counts.drop_address(self.address)
            self._admitted = False
        if self._counted_user is not None:
            self.ctx.counts.drop_user(self._counted_user)
            self._counted_user = None

    def authenticated(self) -> None:
        """Raise the reader's bounds to what a logged-in user may send (APPEND)."""
        self.reader.set_limits(_reader_limits(self.ctx, authenticated=True))

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

    async def _handle_event(self, event: object) -> None:
        session = self.session
        if isinstance(event, Eof):
            raise ConnectionClosed
        if isinstance(event, NeedContinuation):
            # The reader has already refused literals over the limits (RFC 7888 §4).
            self.reader.accept_literal()
            await self.send(Continuation("Ready for literal data"))
            return
        if isinstance(event, BadCommand):
            await self._bad_command(event)
            return
        session.seen_valid_command = True
        session.bad_before_valid = 0
        await self._execute(event)

    async def _bad_command(self, event: BadCommand) -> None:
        session = self.session
        code = Code(ResponseCode(event.code)) if event.code else None
        if event.tag is None:
            await self.send(UntaggedStatus(Status.BAD, event.text, code))
        elif event.code in _REFUSALS_NOT_ERRORS:
            # RFC 9051 §6.4.4 (BADCHARSET) and RFC 6154 §3 (USEATTR): well-formed commands
            # the server declines answer NO, not BAD.
            await self.send(Tagged(event.tag, Status.NO, event.text, code))
            return
        else:
            await self.send(Tagged(event.tag, Status.BAD, event.text, code))
        if not session.seen_valid_command:
            session.bad_before_valid += 1
            if session.bad_before_valid >= _MAX_BAD_BEFORE_VALID:
                raise Bye("This is an IMAP server; too many invalid commands")

    async def _execute(self, command: object) -> None:
        """Run one command and answer its tag; the single map from outcomes to responses."""
        session = self.session
        tag: str = getattr(command, "tag", "*")
        spec = lookup(command)
        if self.ctx.settings.server.debug:
            trace.inbound(session, command)
        if spec is None:
            await self.send(Tagged(tag, Status.BAD, "Command not implemented"))
            return
        if session.state not in spec.states:
            await self.send(
                Tagged(tag, Status.BAD, _state_text(spec.name, spec.states, session.state))
            )
            return
        name = display_name(spec, command)
        try:
            uidonly.check(self, command)  # RFC 9586 §3.2: BAD [UIDREQUIRED]
            outcome = await progress.track(self, tag, spec.name, spec.handler(self, command))
        except Bye:
            raise
        except (No, Bad) as refusal:
            await self._sync(spec, command)
            status = Status.NO if isinstance(refusal, No) else Status.BAD
            await self.send(Tagged(tag, status, refusal.text, refusal.code))
        except StorageError as exc:
            await self._sync(spec, command)
            no = storage_refusal(exc)
            await self.send(Tagged(tag, Status.NO, no.text, no.code))
        except (ConnectionClosed, _Shutdown, ProtocolViolation):
            raise
        except Exception:
            log.exception(
                "session=%s user=%s peer=%s %s failed",
                session.session_id,
                session.user or "-",
                session.peer,
                name,
            )
            await self.send(
                Tagged(
                    tag,
                    Status.NO,
                    "Internal error; the problem is logged",
                    Code(ResponseCode.SERVERBUG),
                )
            )
        else:
            await self._sync(spec, command)
            text = outcome.text or f"{name} completed"
            await self.send(Tagged(tag, Status.OK, text, outcome.code))
            if outcome.then is not None:
                await outcome.then()
        if session.close_reason is not None:
            raise Bye(session.close_reason)

    async def _sync(self, spec: CommandSpec, command: object) -> None:
        """Untagged updates of the selected mailbox, before the tagged response."""
        await selection.sync(self, allow_expunge=may_expunge(spec, command))
        if self.notifier is not None:
            await notify.deliver(self, command)


def _state_text(name: str, allowed: frozenset[State], state: State) -> str:
    """Why a command is refused in this state, in words a person can act on."""
    if state is State.NOT_AUTHENTICATED:
        return f"{name} needs authentication first"
    if allowed == {State.NOT_AUTHENTICATED}:
        return f"{name} is not allowed after authentication"
    if State.AUTHENTICATED not in allowed:
        return f"{name} needs a selected mailbox"
    return f"{name} is only allowed when no mailbox is selected"


def _reader_limits(ctx: ServerContext, *, authenticated: bool) -> ReaderLimits:
    """Before login only LOGIN and AUTHENTICATE need literals: keep them small, so an
    anonymous client cannot make the server hold megabytes."""
    limits = ctx.settings.limits
    literal = limits.max_literal if authenticated else _MAX_UNAUTHENTICATED_LITERAL
    return ReaderLimits(
        max_line=limits.max_line,
        max_literal=literal,
        max_nonsync_literal=literal,
        max_command=limits.max_command if authenticated else 4 * _MAX_UNAUTHENTICATED_LITERAL,
        max_depth=limits.max_depth,
    )


def _is_loopback(host: str) -> bool:
    return host.startswith(("127.", "::ffff:127.")) or host in {"::1", "localhost"}
