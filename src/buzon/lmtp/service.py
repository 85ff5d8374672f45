"""The LMTP service: TCP and Unix-socket listeners driving one `LmtpMachine` per connection.

Theory of operation
-------------------
As in the IMAP service, a plain asyncio `Protocol` hands every byte to the sans-I/O
machine and a task per connection pulls its events: replies are written as they come
(the transport buffers them, so pipelined replies leave together), a recipient check or a
delivery is awaited before the machine reads on, and STARTTLS upgrades the transport in
place after dropping whatever plaintext was pipelined behind it (RFC 3207 §4.2). Reading
pauses while a large backlog waits in the machine, and resumes when it asks for data.

`lmtp/` may not import `server/`, so the TLS context is a parameter: the caller (the
`buzon serve` wiring) passes the one the IMAP service uses. A Unix socket is what Postfix
(`lmtp:unix:/path`) and Exim are usually configured with; it is created with the given
mode after a stale socket file is removed, and removed again at stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import itertools
import logging
import os
import ssl
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from buzon.config import Settings
from buzon.lmtp import replies as r
from buzon.lmtp.delivery import REPLIES, Deliverer, Policy, Trace
from buzon.lmtp.protocol import (
    CheckRecipient,
    Close,
    Deliver,
    Envelope,
    Limits,
    LmtpMachine,
    NeedData,
    Send,
    StartTls,
)
from buzon.storage.api import StorageError, Store

log = logging.getLogger("buzon.lmtp")

_PAUSE_AFTER = 1024 * 1024
_SHUTDOWN_GRACE = 5.0
_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    """What every LMTP connection of a process shares."""

    limits: Limits = field(default_factory=Limits)
    policy: Policy = field(default_factory=Policy)
    # RFC 5321 §4.5.3.2.7: a server waits at least 5 minutes for the next command.
    timeout: float = 300.0
    max_connections: int = 500


class LmtpServer:
    """Accepts LMTP connections on TCP ports and Unix sockets; `stop` ends them."""

    def __init__(
        self, store: Store, config: ServiceConfig, tls: ssl.SSLContext | None = None
    ) -> None:
        self.deliverer = Deliverer(store, config.policy)
        self.config = config
        self.tls = tls
        self.sessions: set[_Session] = set()
        self._servers: list[asyncio.Server] = []
        self._sockets: list[Path] = []

    async def listen_tcp(self, host: str, port: int) -> list[tuple[str, int]]:
        """Listen on `host:port` (0: a free port); return the bound addresses."""
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: _LmtpProtocol(self, "tcp"), host, port, reuse_address=True, backlog=256
        )
        self._servers.append(server)
        bound = [(str(s.getsockname()[0]), int(s.getsockname()[1])) for s in server.sockets]
        for h, p in bound:
            log.info("listening for LMTP on %s port %d", h, p)
        return bound

    async def listen_unix(self, path: Path, mode: int = 0o666) -> None:
        """Listen on the Unix socket `path` (replacing a stale one) with permissions `mode`."""
        with contextlib.suppress(FileNotFoundError):
            if stat.S_ISSOCK(path.stat().st_mode):
                path.unlink()  # left behind by a server that did not stop cleanly
        path.parent.mkdir(parents=True, exist_ok=True)
        loop = asyncio.get_running_loop()
        server = await loop.create_unix_server(lambda: _LmtpProtocol(self, "unix"), str(path))
        os.chmod(path, mode)
        self._servers.append(server)
        self._sockets.append(path)
        log.info("listening for LMTP on unix socket %s", path)

    async def stop(self) -> None:
        """Stop accepting, tell every session 421, wait for them briefly."""
        for server in self._servers:
            server.close()
        sessions = list(self.sessions)
        for session in sessions:
            session.shutdown()
        if sessions:
            tasks = {asyncio.ensure_future(s.wait_closed()): s for s in sessions}
            _done, pending = await asyncio.wait(tasks, timeout=_SHUTDOWN_GRACE)
            for task in pending:
                task.cancel()
                tasks[task].transport.abort()
        for server in self._servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), timeout=1.0)
        self._servers.clear()
        for path in self._sockets:
            with contextlib.suppress(OSError):
                path.unlink()
        self._sockets.clear()


class _LmtpProtocol(asyncio.Protocol):
    def __init__(self, server: LmtpServer, kind: str) -> None:
        self._server = server
        self._kind = kind
        self.session: _Session | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.session = _Session(self._server, cast(asyncio.Transport, transport), self._kind)
        self.session.start()

    def data_received(self, data: bytes) -> None:
        if self.session is not None:
            self.session.feed(data)

    def eof_received(self) -> bool | None:
        if self.session is not None:
            self.session.feed_eof()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if self.session is not None:
            self.session.lost()


class _Session:
    """One connection: the event loop of the machine."""

    def __init__(self, server: LmtpServer, transport: asyncio.Transport, kind: str) -> None:
        self.server = server
        self.transport = transport
        self.id = next(_ids)
        peer = transport.get_extra_info("peername")
        self.peer = _peer_text(peer) if kind == "tcp" else "unix socket"
        self.machine = LmtpMachine(
            server.config.policy.hostname,
            server.config.limits,
            tls_available=server.tls is not None,
        )
        self._ready = asyncio.Event()
        self._eof = False
        self._closed = False
        self._ignore_input = False
        self._paused = False
        self._fed = 0
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.server.sessions.add(self)
        self._task = asyncio.get_running_loop().create_task(self._run())

    def feed(self, data: bytes) -> None:
        if self._ignore_input:
            return
        self.machine.receive_data(data)
        self._fed += len(data)
        if self._fed > _PAUSE_AFTER and not self._paused:
            self._paused = True
            self.transport.pause_reading()
        self._ready.set()

    def feed_eof(self) -> None:
        self._eof = True
        self._ready.set()

    def lost(self) -> None:
        self._closed = True
        self._eof = True
        self._ready.set()

    def shutdown(self) -> None:
        """Say 421 at the next read: a delivery under way finishes and is answered first."""
        self._stopping = True
        self._ready.set()

    async def wait_closed(self) -> None:
        if self._task is not None:
            await asyncio.shield(self._task)

    def _write(self, data: bytes) -> None:
        if not self._closed:
            self.transport.write(data)

    async def _run(self) -> None:
        log.info("lmtp session=%d peer=%s connected", self.id, self.peer)
        try:
            if len(self.server.sessions) > self.server.config.max_connections:
                self.machine.close(r.BUSY)
            await self._loop()
        except Exception:
            log.exception("lmtp session=%d crashed", self.id)
        finally:
            self.server.sessions.discard(self)
            if not self._closed:
                self.transport.close()
            log.info("lmtp session=%d disconnected", self.id)

    async def _loop(self) -> None:
        machine = self.machine
        while True:
            event = machine.next_event()
            match event:
                case Send(reply):
                    self._write(reply.encode())
                case NeedData():
                    if not await self._wait_for_data():
                        return
                case CheckRecipient(address):
                    try:
                        target = await self.server.deliverer.resolve(address)
                        answer = r.RECIPIENT_OK if target is not None else r.NO_SUCH_USER
                    except StorageError as exc:
                        log.warning("lmtp session=%d recipient lookup failed: %s", self.id, exc)
                        answer = r.TEMPORARY
                    machine.recipient_checked(answer)
                case Deliver(envelope):
                    machine.delivered(await self._deliver(envelope))
                case StartTls():
                    if not await self._start_tls():
                        return
                    machine.tls_started()
                case Close():
                    return

    async def _wait_for_data(self) -> bool:
        if self._stopping:
            self.machine.close(r.SHUTTING_DOWN)
            return True
        self._fed = 0
        if self._paused and not self._closed:
            self._paused = False
            self.transport.resume_reading()
        if self._eof:
            return False
        self._ready.clear()
        try:
            await asyncio.wait_for(self._ready.wait(), self.server.config.timeout)
        except TimeoutError:
            self.machine.close(r.TIMEOUT)
        if self._stopping:
            self.machine.close(r.SHUTTING_DOWN)
        return True

    async def _deliver(self, envelope: Envelope) -> list[r.Reply]:
        deliverer = self.server.deliverer
        targets = []
        for address in envelope.recipients:
            try:
                targets.append(await deliverer.resolve(address))
            except StorageError:
                targets.append(None)
        protocol = ("UTF8LMTP" if envelope.smtputf8 else "LMTP") + ("S" if envelope.secure else "")
        trace = Trace(
            sender=envelope.sender,
            protocol=protocol,
            helo=envelope.lhlo,
            peer=self.peer,
            recipient=envelope.recipients[0] if len(envelope.recipients) == 1 else None,
        )
        outcomes = await deliverer.deliver(envelope.content, trace, targets)
        for address, outcome in zip(envelope.recipients, outcomes, strict=True):
            log.info(
                "lmtp session=%d from=<%s> to=<%s> size=%d: %s",
                self.id,
                envelope.sender or "",
                address,
                len(envelope.content),
                outcome.value,
            )
        return [REPLIES[o] for o in outcomes]

    async def _start_tls(self) -> bool:
        assert self.server.tls is not None
        self._ignore_input = True
        if self.machine.dropped:
            log.warning(
                "lmtp session=%d discarded %d bytes sent before the TLS handshake",
                self.id,
                self.machine.dropped,
            )
        loop = asyncio.get_running_loop()
        try:
            transport = await loop.start_tls(
                self.transport,
                self.transport.get_protocol(),
                self.server.tls,
                server_side=True,
                ssl_handshake_timeout=30.0,
            )
        except (OSError, ssl.SSLError, TimeoutError) as exc:
            log.info("lmtp session=%d TLS handshake failed: %s", self.id, exc)
            return False
        if transport is None:
            return False
        self.transport = transport
        self._ignore_input = False
        return True


def _peer_text(peer: object) -> str:
    """RFC 5321 §4.4 TCP-info: an address literal, "[192.0.2.1]" or "[IPv6:::1]"."""
    if not isinstance(peer, tuple) or not peer:
        return "unknown"
    try:
        address = ipaddress.ip_address(str(peer[0]))
    except ValueError:
        return "unknown"
    return f"[IPv6:{address}]" if address.version == 6 else f"[{address}]"


def service_config(settings: Settings) -> ServiceConfig:
    """The LMTP settings of a `buzon serve` process."""
    lmtp = settings.lmtp
    return ServiceConfig(
        limits=Limits(max_message=lmtp.max_message_size, max_recipients=lmtp.max_recipients),
        policy=policy(settings),
        timeout=lmtp.timeout,
    )


def policy(settings: Settings) -> Policy:
    """Recipient rules from the `[lmtp]` settings (shared with `buzon deliver`)."""
    lmtp = settings.lmtp
    return Policy(
        hostname=settings.server.hostname,
        domains=frozenset(d.lower() for d in lmtp.domains),
        detail_delimiter=lmtp.detail_delimiter,
        detail_folder=lmtp.detail_folder,
    )


def lmtp_enabled(settings: Settings) -> bool:
    """Whether the settings ask for an LMTP port or socket."""
    return bool(settings.lmtp.port) or settings.lmtp.socket is not None


class LmtpService:
    """The `[lmtp]` listeners of a `buzon serve` process (a `server.app.Service`)."""

    def __init__(self, settings: Settings, store: Store, tls: ssl.SSLContext | None) -> None:
        self.settings = settings
        self.server = LmtpServer(
            store, service_config(settings), tls if settings.lmtp.starttls else None
        )
        self.bound: list[tuple[str, int]] = []

    async def start(self) -> None:
        lmtp = self.settings.lmtp
        try:
            if lmtp.port:
                for host in lmtp.listen:
                    self.bound += await self.server.listen_tcp(host, lmtp.port)
            if lmtp.socket is not None:
                await self.server.listen_unix(lmtp.socket, int(lmtp.socket_mode, 8))
        except BaseException:
            await self.server.stop()
            raise

    async def stop(self) -> None:
        await self.server.stop()
