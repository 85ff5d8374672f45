"""A real server with LMTP on a TCP port and a Unix socket, next to IMAP, for tests."""

from __future__ import annotations

import socket
from pathlib import Path

from buzon.lmtp.delivery import Policy
from buzon.lmtp.protocol import Limits
from buzon.lmtp.service import LmtpServer, ServiceConfig
from tests.server.harness import LineClient, ServerThread, server_settings


class LmtpThread(ServerThread):
    """`ServerThread` plus an `LmtpServer` on the same store and loop."""

    def __init__(self, data_dir: Path, users: tuple[str, ...] = ("alice", "bob")) -> None:
        super().__init__(server_settings(data_dir), users)
        self.socket_path = data_dir.parent / "lmtp.sock"
        self.lmtp: LmtpServer | None = None
        self.lmtp_port = 0

    def __enter__(self) -> LmtpThread:
        super().__enter__()
        self.call(self._start_lmtp)
        return self

    async def _start_lmtp(self) -> None:
        assert self.store is not None
        assert self.ctx is not None
        assert self.ctx.tls is not None
        config = ServiceConfig(
            limits=Limits(max_message=1024 * 1024, max_recipients=10),
            policy=Policy(hostname="mx.test"),
        )
        self.lmtp = LmtpServer(self.store, config, self.ctx.tls.context)
        ((_, self.lmtp_port),) = await self.lmtp.listen_tcp("127.0.0.1", 0)
        await self.lmtp.listen_unix(self.socket_path)

    async def _stop(self) -> None:
        if self.lmtp is not None:
            await self.lmtp.stop()
        await super()._stop()


class UnixLineClient(LineClient):
    """A `LineClient` on a Unix socket."""

    def __init__(self, path: Path, *, timeout: float = 10.0) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(str(path))
        self._buffer = b""
