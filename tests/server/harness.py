"""A real Buzón server on random loopback ports, run in a background thread, for tests."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import TypeVar

from buzon.auth import make_credentials
from buzon.config import AuthSettings, LimitSettings, ServerSettings, Settings
from buzon.server.app import build_context
from buzon.server.context import ServerContext
from buzon.server.listener import Endpoint, ImapServer
from buzon.server.stores import argon2_parameters, open_store
from buzon.storage.api import AppendRequest, Store

T = TypeVar("T")

PASSWORD = "secret"


def server_settings(data_dir: Path, limits: LimitSettings | None = None) -> Settings:
    """Settings for tests: cheap argon2, the data dir in tmp, optional other limits."""
    return Settings(
        server=ServerSettings(data_dir=data_dir, hostname="localhost"),
        auth=AuthSettings(argon2_time_cost=1, argon2_memory_kib=1024, argon2_parallelism=1),
        limits=limits or LimitSettings(),
    )


class ServerThread:
    """A server on its own event loop; `imap_port` speaks STARTTLS, `imaps_port` TLS."""

    def __init__(
        self,
        settings: Settings,
        users: tuple[str, ...] = ("alice", "bob"),
        *,
        loop_factory: Callable[[], asyncio.AbstractEventLoop] = asyncio.new_event_loop,
    ) -> None:
        self.settings = settings
        self.users = users
        self.loop = loop_factory()  # uvloop.new_event_loop: the loop `buzon serve` runs on
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.store: Store | None = None
        self.ctx: ServerContext | None = None
        self.server: ImapServer | None = None
        self.imap_port = 0
        self.imaps_port = 0

    def __enter__(self) -> ServerThread:
        self._thread.start()
        self.call(self._start)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def append(
        self, messages: Sequence[AppendRequest], user: str = "alice", mailbox: str = "INBOX"
    ) -> None:
        """Deliver `messages` to `user`'s `mailbox` through the storage API."""

        async def deliver() -> None:
            assert self.store is not None
            target = await (await self.store.open_account(user)).open_mailbox(mailbox)
            await target.append(messages)

        self.call(deliver, timeout=120)

    def call(self, make: Callable[[], Awaitable[T]], timeout: float = 30.0) -> T:
        """Run a coroutine on the server's loop and wait for its result."""

        async def runner() -> T:
            return await make()

        future: Future[T] = asyncio.run_coroutine_threadsafe(runner(), self.loop)
        return future.result(timeout)

    async def _start(self) -> None:
        self.settings.server.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = await open_store(self.settings)
        secret = make_credentials(
            PASSWORD, argon2_params=argon2_parameters(self.settings)
        ).to_secret()
        for user in self.users:
            await self.store.create_user(user, secret)
        self.ctx = build_context(self.settings, self.store)
        self.server = ImapServer(self.ctx)
        bound = await self.server.start(
            [
                Endpoint("127.0.0.1", 0, implicit_tls=False),
                Endpoint("127.0.0.1", 0, implicit_tls=True),
            ]
        )
        self.imap_port = next(b.port for b in bound if not b.implicit_tls)
        self.imaps_port = next(b.port for b in bound if b.implicit_tls)

    async def _stop(self) -> None:
        if self.server is not None:
            await self.server.stop()
        if self.store is not None:
            await self.store.close()

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        self.call(self._stop)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()

    def client_tls_context(self) -> ssl.SSLContext:
        """A client context that trusts the server's generated certificate."""
        context = ssl.create_default_context(
            cafile=str(self.settings.server.data_dir / "tls" / "cert.pem")
        )
        context.check_hostname = False
        return context


class LineClient:
    """A raw IMAP client socket that reads line by line: the transcript's voice."""

    def __init__(self, port: int, *, timeout: float = 10.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self._buffer = b""

    def wrap_tls(self, context: ssl.SSLContext) -> None:
        assert not self._buffer, "bytes pending before the TLS handshake"
        self.sock = context.wrap_socket(self.sock, server_hostname="localhost")

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def line(self) -> bytes:
        """The next line from the server without its CRLF; raises on EOF."""
        while b"\r\n" not in self._buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(f"connection closed; pending {self._buffer!r}")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\r\n")
        return line

    def exactly(self, size: int) -> bytes:
        while len(self._buffer) < size:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed inside a literal")
            self._buffer += chunk
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def pending(self, wait: float = 0.2) -> bytes:
        """Whatever the server sends within `wait` seconds (to assert it sent nothing)."""
        self.sock.settimeout(wait)
        try:
            chunk = self.sock.recv(65536)
            self._buffer += chunk
        except (TimeoutError, ssl.SSLError):
            pass
        finally:
            self.sock.settimeout(10.0)
        data, self._buffer = self._buffer, b""
        return data

    def closed(self, wait: float = 5.0) -> bool:
        """True when the server closes the connection within `wait` seconds."""
        self.sock.settimeout(wait)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self._buffer += chunk
        except (TimeoutError, ConnectionResetError):
            return False
        except ssl.SSLError:
            return True

    def close(self) -> None:
        self.sock.close()


def selected(
    srv: ServerThread,
    mailbox: str = "INBOX",
    *,
    command: str = "SELECT",
    before: str = "",
    timeout: float = 10.0,
) -> LineClient:
    """A LineClient logged in as alice with `mailbox` selected (`before`: commands sent
    between LOGIN and SELECT, CRLF-terminated)."""
    client = LineClient(srv.imap_port, timeout=timeout)
    client.line()
    client.send(f"l LOGIN alice {PASSWORD}\r\n{before}s {command} {mailbox}\r\n".encode())
    while not client.line().startswith(b"s OK"):
        pass
    return client


def answer(client: LineClient, command: str) -> list[bytes]:
    """Send `command` tagged "t"; every line up to and including the tagged one."""
    client.send(b"t " + command.encode() + b"\r\n")
    lines = []
    while True:
        line = client.line()
        lines.append(line)
        if line.startswith(b"t "):
            return lines


def literals(client: LineClient, command: bytes) -> tuple[dict[int, bytes], bytes]:
    """Send `command` tagged "t", whose responses each carry one literal at the end of
    their first line (FETCH of a body section); each literal by sequence number, and the
    tagged line."""
    client.send(b"t " + command + b"\r\n")
    out: dict[int, bytes] = {}
    while True:
        line = client.line()
        if line.startswith(b"t "):
            return out, line
        head, _, size = line.rpartition(b" {")
        out[int(head.split()[1])] = client.exactly(int(size.rstrip(b"}")))
        assert client.line() == b")"
