"""POP3 next to IMAP on one test server: a `ServerThread` with a `Pop3Server` on its loop."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from buzon.cli.services import pop3_server
from buzon.config import LimitSettings, Settings
from buzon.pop3 import Pop3Endpoint, Pop3Server
from tests.server.harness import PASSWORD, LineClient, ServerThread, server_settings

__all__ = ["PASSWORD", "Pop3Thread", "pop3_running"]


class Pop3Thread:
    """A running test server with IMAP (`server`) and POP3 (`pop3_port`, `pop3s_port`)."""

    def __init__(self, server: ServerThread, pop3: Pop3Server) -> None:
        self.server = server
        self.pop3 = pop3
        self.pop3_port = next(b.port for b in pop3.bound if not b.implicit_tls)
        self.pop3s_port = next(b.port for b in pop3.bound if b.implicit_tls)

    @property
    def imap_port(self) -> int:
        return self.server.imap_port

    def connections(self) -> int:
        """Open POP3 sessions (read from the test thread; a set's len is atomic)."""
        return len(self.pop3.ctx.connections)

    def wait_sessions_below(self, count: int, timeout: float = 5.0) -> None:
        """Wait until the server has let go of a session (a dropped connection ended)."""
        deadline = time.monotonic() + timeout
        while self.connections() >= count:
            if time.monotonic() > deadline:
                raise AssertionError(f"still {self.connections()} POP3 sessions")
            time.sleep(0.01)

    def pop3_client(self) -> LineClient:
        """A raw client on the STLS port, greeting read."""
        client = LineClient(self.pop3_port)
        greeting = client.line()
        assert greeting == b"+OK Buzon POP3 ready.", greeting
        return client


@contextmanager
def pop3_running(
    data_dir: Path, *, limits: LimitSettings | None = None, settings: Settings | None = None
) -> Iterator[Pop3Thread]:
    with ServerThread(settings or server_settings(data_dir, limits)) as server:
        ctx = server.ctx
        assert ctx is not None
        endpoints = [
            Pop3Endpoint("127.0.0.1", 0, implicit_tls=False),
            Pop3Endpoint("127.0.0.1", 0, implicit_tls=True),
        ]
        pop3 = pop3_server(ctx, endpoints)

        async def start() -> None:
            await pop3.start()

        server.call(start)
        try:
            yield Pop3Thread(server, pop3)
        finally:

            async def stop() -> None:
                await pop3.stop()

            server.call(stop)
