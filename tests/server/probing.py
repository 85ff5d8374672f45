"""The client side of the capability probes (tests/server/test_capability_probes.py).

`World` is the shared server with a source of unique mailbox names and the connections a
probe opened; `Imap` is one probe connection in a given state with tagged commands and
setup helpers; `scram` authenticates with SCRAM-SHA-256(-PLUS) using an initial response.
"""

from __future__ import annotations

import base64
import itertools
import re

from tests.auth.test_scram import client_final
from tests.server.fixtures import message
from tests.server.harness import PASSWORD, LineClient, ServerThread

__all__ = ["AUTH", "PLAIN", "REMOTE", "STATES", "TLS", "Imap", "World", "has", "scram"]

PLAIN = "not authenticated"
TLS = "not authenticated, TLS"
REMOTE = "not authenticated, remote"
AUTH = "authenticated"
STATES = (PLAIN, TLS, REMOTE, AUTH)
_PAST = "01-Jan-2020 10:00:00 +0000"


class World:
    """The shared server and the source of unique mailbox names."""

    def __init__(self, server: ServerThread) -> None:
        self.server = server
        self._names = itertools.count(1)
        self.opened: list[LineClient] = []

    def name(self) -> str:
        return f"probe{next(self._names)}"

    def connect(self, state: str, user: str = "alice") -> Imap:
        port = self.server.imaps_port if state == TLS else self.server.imap_port
        imap = Imap(self, LineClient(port), state, user)
        self.opened.append(imap.client)
        if state == TLS:
            imap.client.wrap_tls(self.server.client_tls_context())
        greeting = imap.client.line()
        assert greeting.startswith(b"* OK "), greeting
        if state == REMOTE:
            self._make_remote(imap)
        if state == AUTH:
            imap.authed()
        return imap

    def close_all(self) -> None:
        for client in self.opened:
            client.close()
        self.opened.clear()

    def _make_remote(self, imap: Imap) -> None:
        """Make the server believe this loopback connection comes from elsewhere."""
        port = imap.client.sock.getsockname()[1]
        ctx = self.server.ctx
        assert ctx is not None

        async def flip() -> None:
            (conn,) = [c for c in ctx.connections if c.session.peer.endswith(f":{port}")]
            conn.session.loopback = False

        self.server.call(flip)


class Imap:
    """A probe's connection: tagged commands, answers checked, helpers for setup."""

    def __init__(self, world: World, client: LineClient, state: str, user: str) -> None:
        self.world = world
        self.client = client
        self.state = state
        self.user = user
        self.authenticated = False
        self._tags = itertools.count(1)

    def tag(self) -> str:
        return f"t{next(self._tags)}"

    def until(self, tag: str) -> list[bytes]:
        lines = []
        while True:
            line = self.client.line()
            lines.append(line)
            if line.startswith(tag.encode() + b" "):
                return lines

    def cmd(self, text: str | bytes) -> list[bytes]:
        """Send one command; all lines up to and including its tagged answer."""
        tag = self.tag()
        data = text if isinstance(text, bytes) else text.encode()
        self.client.send(tag.encode() + b" " + data + b"\r\n")
        return self.until(tag)

    def ok(self, text: str | bytes) -> list[bytes]:
        """A command that must succeed; its untagged lines."""
        lines = self.cmd(text)
        assert re.match(rb"t\d+ OK", lines[-1]), lines
        return lines[:-1]

    def literal_command(self, parts: list[bytes]) -> list[bytes]:
        """A command with synchronising literals: parts[i] ends in "{n}", then the data."""
        tag = self.tag()
        self.client.send(tag.encode() + b" " + parts[0] + b"\r\n")
        for part in parts[1:]:
            line = self.client.line()
            assert line.startswith(b"+"), line
            self.client.send(part + b"\r\n")
        return self.until(tag)

    def append(self, mailbox: str, data: bytes) -> list[bytes]:
        return self.literal_command([f'APPEND {mailbox} "{_PAST}" {{{len(data)}}}'.encode(), data])

    def authed(self) -> Imap:
        """Log in unless already (SCRAM where LOGIN is disabled)."""
        if not self.authenticated:
            if self.state == REMOTE:
                assert scram(self, "SCRAM-SHA-256").startswith(b"t")
            else:
                self.ok(f"LOGIN {self.user} {PASSWORD}")
            self.authenticated = True
        return self

    def anonymous(self) -> Imap:
        """This connection if not logged in, else a new one on loopback."""
        return self if not self.authenticated else self.world.connect(PLAIN)

    def fresh(self, count: int) -> str:
        """A new mailbox with `count` messages (subjects "Probe 1".., internal date 2020)."""
        self.authed()
        name = self.world.name()
        self.ok(f"CREATE {name}")
        for n in range(1, count + 1):
            lines = self.append(name, message(n, f"Probe {n}"))
            assert b" OK " in lines[-1], lines
        return name

    def caps(self) -> list[str]:
        lines = self.ok("CAPABILITY")
        (line,) = [x for x in lines if x.startswith(b"* CAPABILITY ")]
        return line.decode().split()[2:]


def scram(imap: Imap, mechanism: str, gs2: str = "n,,", cb: bytes = b"") -> bytes:
    """AUTHENTICATE with SCRAM (initial response); the tagged answer."""
    bare = f"n={imap.user},r=probenonce"
    first = base64.b64encode((gs2 + bare).encode()).decode()
    tag = imap.tag()
    imap.client.send(f"{tag} AUTHENTICATE {mechanism} {first}\r\n".encode())
    line = imap.client.line()
    assert line.startswith(b"+ "), line
    final, signature = client_final(PASSWORD, bare, base64.b64decode(line[2:]).decode(), gs2, cb)
    imap.client.send(base64.b64encode(final) + b"\r\n")
    line = imap.client.line()
    assert base64.b64decode(line[2:]) == b"v=" + base64.b64encode(signature), line
    imap.client.send(b"\r\n")
    answer = imap.until(tag)[-1]
    assert answer.startswith(tag.encode() + b" OK "), answer
    imap.authenticated = True
    return answer


def has(lines: list[bytes], pattern: bytes) -> bool:
    return any(re.search(pattern, line) for line in lines)
