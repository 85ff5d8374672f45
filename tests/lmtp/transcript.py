"""LMTP transcripts: an LMTP conversation and IMAP sessions that see its result.

Format
------
    # title (the first comment line)
    users: alice bob carol         # accounts to create (default: alice bob)
    folders: alice/Lists           # mailboxes to create, account/name
    fail: bob=temporary            # appends for bob raise Temporary (or overquota)
    lmtp: l                        # LMTP connection names (TCP); "l@unix" for the socket
    imap: i=alice                  # IMAP connections, logged in as the user given
    l< 220 mx.test LMTP Buzon ready
    l> LHLO client.test            # sent with CRLF appended
    i> a1 SELECT INBOX

An expected line may hold `{{*}}` (any run of non-spaces) and `{{...}}` (anything). A line
`l>>` sends its text without a line end. After the last line, no connection may have
anything unread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from buzon.storage.api import CopyResult, OverQuota, StorageError, Temporary
from buzon.storage.sqlite.appending import Prepared
from buzon.storage.sqlite.mailbox import SqliteMailbox
from tests.lmtp.harness import LmtpThread, UnixLineClient
from tests.server.harness import PASSWORD, LineClient

_FAILURES: dict[str, type[StorageError]] = {"temporary": Temporary, "overquota": OverQuota}


@dataclass
class Step:
    connection: str
    send: bool
    newline: bool
    text: str
    lineno: int


@dataclass
class LmtpTranscript:
    title: str
    users: tuple[str, ...] = ("alice", "bob")
    folders: list[tuple[str, str]] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    lmtp: dict[str, str] = field(default_factory=dict)  # name -> "tcp" | "unix"
    imap: dict[str, str] = field(default_factory=dict)  # name -> user
    steps: list[Step] = field(default_factory=list)


def parse(path: Path) -> LmtpTranscript:
    lines = path.read_text(encoding="utf-8").splitlines()
    title = next((ln.lstrip("# ").strip() for ln in lines if ln.startswith("#")), path.stem)
    t = LmtpTranscript(title)
    for lineno, raw in enumerate(lines, start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        step = re.match(r"([a-z][a-z0-9]*)(<|>>|>) ?(.*)$", raw)
        if step and (step.group(1) in t.lmtp or step.group(1) in t.imap):
            name, arrow, text = step.groups()
            t.steps.append(Step(name, arrow != "<", arrow == ">", text, lineno))
            continue
        key, _, value = raw.partition(":")
        words = value.split(" #", 1)[0].split()
        match key.strip():
            case "users":
                t.users = tuple(words)
            case "folders":
                t.folders = [tuple(w.split("/", 1)) for w in words]  # type: ignore[misc]
            case "fail":
                t.failures = dict(w.split("=", 1) for w in words)
            case "lmtp":
                t.lmtp = {w.split("@")[0]: "unix" if w.endswith("@unix") else "tcp" for w in words}
            case "imap":
                t.imap = dict(w.split("=", 1) for w in words)
            case other:
                raise ValueError(f"{path}:{lineno}: unknown header {other!r}")
    return t


def _pattern(expected: str) -> re.Pattern[bytes]:
    parts = re.split(r"(\{\{\*\}\}|\{\{\.\.\.\}\})", expected)
    rx = "".join(
        r"\S+" if p == "{{*}}" else ".*" if p == "{{...}}" else re.escape(p) for p in parts
    )
    return re.compile(rx.encode("utf-8"))


def run(t: LmtpTranscript, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    if t.failures:
        original = SqliteMailbox.append_prepared  # every append's transaction
        failures = t.failures

        async def failing_append(self: SqliteMailbox, prepared: list[Prepared]) -> CopyResult:
            kind = failures.get(self._account)
            if kind is not None:
                raise _FAILURES[kind](f"injected {kind} failure")
            return await original(self, prepared)

        monkeypatch.setattr(SqliteMailbox, "append_prepared", failing_append)
    with LmtpThread(tmp_path / "data", t.users) as server:
        store = server.store
        assert store is not None
        for user, folder in t.folders:

            async def create(user: str = user, folder: str = folder) -> None:
                account = await store.open_account(user)
                await account.create_mailbox(folder)

            server.call(create)
        clients: dict[str, LineClient] = {}
        try:
            for name, kind in t.lmtp.items():
                clients[name] = (
                    UnixLineClient(server.socket_path)
                    if kind == "unix"
                    else LineClient(server.lmtp_port)
                )
            for name, user in t.imap.items():
                client = LineClient(server.imap_port)
                client.line()
                client.send(f"x1 LOGIN {user} {PASSWORD}\r\n".encode())
                while not client.line().startswith(b"x1 "):
                    pass
                clients[name] = client
            for step in t.steps:
                client = clients[step.connection]
                if step.send:
                    client.send(step.text.encode("utf-8") + (b"\r\n" if step.newline else b""))
                    continue
                got = client.line()
                where = f"{path.name}:{step.lineno}"
                assert _pattern(step.text).fullmatch(got), (
                    f"{where}: expected {step.text!r}, got {got!r}"
                )
            for name, client in clients.items():
                extra = client.pending()
                assert extra == b"", f"{path.name}: connection {name} got unexpected {extra!r}"
        finally:
            for client in clients.values():
                client.close()
