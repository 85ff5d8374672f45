"""The IMAP listeners of one process and their orderly shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from buzon.server.connection import ImapProtocol
from buzon.server.context import ServerContext

log = logging.getLogger("buzon.server")

# How long sessions get to finish their current command after BYE was asked for.
_SHUTDOWN_GRACE = 5.0


@dataclass(frozen=True, slots=True)
class Endpoint:
    """An address to listen on; `port` 0 asks the system for a free port (tests)."""

    host: str
    port: int
    implicit_tls: bool


@dataclass(frozen=True, slots=True)
class Bound:
    """A listener that is accepting connections."""

    host: str
    port: int
    implicit_tls: bool


class ImapServer:
    """Accepts connections on its endpoints; `stop` says BYE to every session."""

    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx
        self._servers: list[asyncio.Server] = []
        self.bound: list[Bound] = []

    async def start(self, endpoints: list[Endpoint]) -> list[Bound]:
        loop = asyncio.get_running_loop()
        for endpoint in endpoints:
            ssl_context = None
            if endpoint.implicit_tls:
                if self.ctx.tls is None:
                    raise ValueError("implicit TLS listener without a TLS setup")
                ssl_context = self.ctx.tls.context
            implicit = endpoint.implicit_tls
            server = await loop.create_server(
                lambda implicit=implicit: ImapProtocol(self.ctx, implicit_tls=implicit),
                endpoint.host,
                endpoint.port,
                ssl=ssl_context,
                reuse_address=True,
                backlog=1024,
            )
            self._servers.append(server)
            for sock in server.sockets:
                host, port = sock.getsockname()[:2]
                bound = Bound(str(host), int(port), endpoint.implicit_tls)
                self.bound.append(bound)
                log.info(
                    "listening for %s on %s port %d",
                    "IMAP over TLS (imaps)"
                    if bound.implicit_tls
                    else "IMAP (STARTTLS available)"
                    if self.ctx.tls is not None
                    else "IMAP",
                    bound.host,
                    bound.port,
                )
        return self.bound

    async def stop(self) -> None:
        """Stop accepting, send BYE to every session, wait for them briefly."""
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
                # A session stuck mid-command past the grace period is cut off.
                waiters[waiter].transport.abort()
        for server in self._servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), timeout=1.0)
        self._servers.clear()
