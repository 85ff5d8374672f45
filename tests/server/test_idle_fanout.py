"""The IDLE fan-out (server/fanout.py): parked sessions are told without waking their tasks,
and each still gets exactly its own responses."""

from __future__ import annotations

import asyncio
import re
import threading
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from buzon.server.connection import Connection
from buzon.server.fanout import IdleFanOut
from buzon.server.selection import ChangeFeed
from buzon.storage.api import Uid
from buzon.storage.sqlite.mailbox import SqliteMailbox
from tests.server.harness import LineClient, ServerThread, server_settings

# name -> (command before SELECT, the SELECT); every kind of session the fan-out serves.
SESSIONS: dict[str, tuple[bytes | None, bytes]] = {
    "rw1": (None, b"SELECT INBOX"),
    "rw2": (None, b"SELECT INBOX"),
    "ro": (None, b"EXAMINE INBOX"),
    "rev2": (b"ENABLE IMAP4rev2", b"SELECT INBOX"),
    "uidonly": (b"ENABLE UIDONLY", b"SELECT INBOX"),
    "qresync": (b"ENABLE QRESYNC", b"SELECT INBOX"),
    "condstore": (None, b"SELECT INBOX (CONDSTORE)"),
}
_WITH_MODSEQ = re.compile(rb"\* 2 FETCH \(UID 2 FLAGS \(\\Flagged\) MODSEQ \(\d+\)\)")
CLAIMERS = {"rw1", "rw2", "uidonly", "qresync", "condstore"}  # read-write, not rev2


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    with ServerThread(server_settings(tmp_path / "data")) as running:
        yield running


def _until(client: LineClient, prefix: bytes) -> list[bytes]:
    lines = [client.line()]
    while not lines[-1].startswith(prefix):
        lines.append(client.line())
    return lines


def _writer(server: ServerThread) -> LineClient:
    """Logs in, appends two messages and claims their \\Recent (SELECT, UNSELECT): its
    APPENDs then come from a session that claims nothing."""
    w = LineClient(server.imap_port)
    w.line()
    w.send(b"l LOGIN alice secret\r\n")
    _until(w, b"l OK")
    for n in (1, 2):
        w.send(b"a%d APPEND INBOX {5+}\r\nhello\r\n" % n)
        _until(w, b"a%d OK" % n)
    w.send(b"s SELECT INBOX\r\nu UNSELECT\r\n")
    _until(w, b"u OK")
    return w


def _idler(server: ServerThread, before: bytes | None, select: bytes) -> LineClient:
    c = LineClient(server.imap_port)
    c.line()
    c.send(b"l LOGIN alice secret\r\n")
    _until(c, b"l OK")
    if before is not None:
        c.send(b"e " + before + b"\r\n")
        _until(c, b"e OK")
    c.send(b"s " + select + b"\r\n")
    _until(c, b"s OK")
    c.send(b"i IDLE\r\n")
    assert c.line() == b"+ idling"
    return c


def _count_calls(monkeypatch: pytest.MonkeyPatch, cls: type, name: str) -> list[int]:
    calls = [0]
    original = getattr(cls, name)

    def counting(self: object, *args: object) -> object:
        calls[0] += 1
        return original(self, *args)

    monkeypatch.setattr(cls, name, counting)
    return calls


@pytest.mark.parametrize("fanout", [True, False], ids=["fan-out", "each-task-wakes"])
def test_every_kind_of_session_gets_its_own_responses(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch, fanout: bool
) -> None:
    """The fan-out sends what each session's own `selection.sync` would: same lines with
    the fan-out as with every task woken (the old path), \\Recent to exactly one session,
    none to rev2 (RFC 9051 App. E), UIDFETCH/VANISHED to UIDONLY (RFC 9586 §3.3, §3.4),
    MODSEQ to CONDSTORE (RFC 7162 §3.1.4), VANISHED to QRESYNC (RFC 7162 §3.2.10)."""
    if not fanout:
        monkeypatch.setattr(Connection, "wake", Connection.rouse)
    w = _writer(server)
    idlers = {name: _idler(server, *how) for name, how in SESSIONS.items()}
    roused = _count_calls(monkeypatch, Connection, "rouse")
    queued = _count_calls(monkeypatch, IdleFanOut, "add")
    try:
        w.send(b"w1 APPEND INBOX {5+}\r\nthird\r\n")  # from a second session: not parked
        _until(w, b"w1 OK")
        recent: dict[str, bytes] = {}
        for name, c in idlers.items():
            assert c.line() == b"* 3 EXISTS", name
            if name == "rev2":
                continue
            line = c.line()
            assert line in (b"* 0 RECENT", b"* 1 RECENT"), (name, line)
            recent[name] = line
        assert sorted(n for n, line in recent.items() if line == b"* 1 RECENT") in (
            [n] for n in CLAIMERS
        )
        if fanout:
            assert queued[0] == len(SESSIONS)
            assert roused[0] == 0  # no idler's task woke
        else:
            assert queued[0] == 0

        w.send(b"ws SELECT INBOX\r\nw2 STORE 2 +FLAGS.SILENT (\\Flagged)\r\n")
        _until(w, b"w2 OK")
        for name, c in idlers.items():
            line = c.line()
            if name == "uidonly":
                assert line == b"* 2 UIDFETCH (FLAGS (\\Flagged))"
            elif name in ("qresync", "condstore"):
                assert _WITH_MODSEQ.fullmatch(line), (name, line)
            else:
                assert line == b"* 2 FETCH (UID 2 FLAGS (\\Flagged))", name

        w.send(b"w3 STORE 1 +FLAGS.SILENT (\\Deleted)\r\n")
        _until(w, b"w3 OK")
        for name, c in idlers.items():
            assert b"FLAGS (\\Deleted)" in c.line(), name
        w.send(b"w4 EXPUNGE\r\n")
        _until(w, b"w4 OK")
        for name, c in idlers.items():
            expected = b"* VANISHED 1" if name in ("qresync", "uidonly") else b"* 1 EXPUNGE"
            assert c.line() == expected, name

        for name, c in idlers.items():
            c.send(b"DONE\r\nn NOOP\r\n")
            assert c.line() == b"i OK IDLE terminated", name
            assert c.line() == b"n OK NOOP completed", name  # nothing left over
    finally:
        w.close()
        for c in idlers.values():
            c.close()


def test_claimer_leaving_idle_during_its_claim_still_gets_recent_with_exists(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The \\Recent claim is slow; DONE arrives meanwhile: `selection.sync` takes the claim
    over, and EXISTS and RECENT still come together before the tagged OK."""
    original = SqliteMailbox.claim_recent
    claiming = threading.Event()

    async def slow(self: SqliteMailbox, uids: Sequence[Uid]) -> tuple[Uid, ...]:
        claiming.set()
        await asyncio.sleep(0.5)
        return await original(self, uids)

    w = _writer(server)
    c = _idler(server, None, b"SELECT INBOX")
    monkeypatch.setattr(SqliteMailbox, "claim_recent", slow)
    try:
        w.send(b"w1 APPEND INBOX {5+}\r\nthird\r\n")
        _until(w, b"w1 OK")
        # The fan-out claims for the parked session; DONE arrives while the claim runs.
        assert claiming.wait(5)
        c.send(b"DONE\r\n")
        assert [c.line(), c.line(), c.line()] == [
            b"* 3 EXISTS",
            b"* 1 RECENT",
            b"i OK IDLE terminated",
        ]
        c.send(b"n NOOP\r\n")
        assert c.line() == b"n OK NOOP completed"
    finally:
        w.close()
        c.close()


def test_a_session_not_parked_is_woken_as_before(server: ServerThread) -> None:
    """A selected session between commands (not in IDLE) hears of the change at its next
    command; the fan-out does not write to it."""
    w = _writer(server)
    c = LineClient(server.imap_port)
    try:
        c.line()
        c.send(b"l LOGIN alice secret\r\ns SELECT INBOX\r\n")
        _until(c, b"s OK")
        w.send(b"w1 APPEND INBOX {5+}\r\nthird\r\n")
        _until(w, b"w1 OK")
        assert c.pending(0.3) == b""
        c.send(b"n NOOP\r\n")
        assert _until(c, b"n OK") == [b"* 3 EXISTS", b"* 1 RECENT", b"n OK NOOP completed"]
    finally:
        w.close()
        c.close()


def test_a_compressed_idler_gets_its_updates_flushed(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RFC 4978: what the fan-out writes to a COMPRESS session is compressed and flushed
    (Z_SYNC_FLUSH), so the client can read it while it waits."""
    w = _writer(server)
    c = LineClient(server.imap_port)
    queued = _count_calls(monkeypatch, IdleFanOut, "add")
    try:
        c.line()
        c.send(b"l LOGIN alice secret\r\nz COMPRESS DEFLATE\r\n")
        _until(c, b"z OK")
        inflater = zlib.decompressobj(-15)
        deflater = zlib.compressobj(6, zlib.DEFLATED, -15)

        def send(data: bytes) -> None:
            c.send(deflater.compress(data) + deflater.flush(zlib.Z_SYNC_FLUSH))

        received = b""

        def until(marker: bytes) -> bytes:
            nonlocal received
            while marker not in received:
                chunk = c.sock.recv(65536)
                assert chunk, "closed"
                received += inflater.decompress(chunk)
            text, _, received = received.partition(marker)
            return text + marker

        send(b"s SELECT INBOX\r\ni IDLE\r\n")
        until(b"+ idling\r\n")
        w.send(b"w1 APPEND INBOX {5+}\r\nthird\r\n")
        _until(w, b"w1 OK")
        assert until(b"RECENT\r\n") == b"* 3 EXISTS\r\n* 1 RECENT\r\n"
        assert queued[0] == 1
        send(b"DONE\r\n")
        assert until(b"\r\n") == b"i OK IDLE terminated\r\n"
    finally:
        w.close()
        c.close()


def test_reserve_marks_uids_taken_once() -> None:
    feed = ChangeFeed()
    assert feed.reserve("7", [Uid(3), Uid(4)]) == [3, 4]
    assert feed.reserve("7", [Uid(3), Uid(4)]) == []
    assert feed.reserve("7", [Uid(4), Uid(5)]) == [5]
    assert feed.reserve("8", [Uid(1)]) == [1]
    assert feed.announced_modseq("7") == 0
    feed.announced("7", 9)
    feed.announced("7", 8)
    assert feed.announced_modseq("7") == 9
