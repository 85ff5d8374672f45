"""Message bytes read a batch at a time for FETCH of bodies (`server/fetchbodies.py`)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import cast

import pytest

from buzon.mime import ParsedMessage
from buzon.server import fetchbodies
from buzon.server.fetchbodies import Contents, batches
from buzon.storage.api import AppendRequest, Mailbox, NotFound, Uid
from buzon.storage.sqlite.mailbox import SqliteMailbox
from tests.server.harness import (
    LineClient,
    ServerThread,
    literals,
    selected,
    server_settings,
)


class _Fake:
    """`read_messages` / `read_message` of a mailbox whose `gone` UIDs were expunged."""

    def __init__(self, gone: frozenset[int] = frozenset(), deleted: bool = False) -> None:
        self.gone = gone
        self.deleted = deleted
        self.batches: list[list[Uid]] = []
        self.singles: list[Uid] = []

    async def read_messages(self, uids: Sequence[Uid]) -> dict[Uid, bytes]:
        self.batches.append(list(uids))
        if self.deleted:
            raise NotFound("the mailbox no longer exists")
        await asyncio.sleep(0)
        return {uid: b"m%d" % uid for uid in uids if uid not in self.gone}

    async def read_message(self, uid: Uid) -> bytes:
        self.singles.append(uid)
        if uid in self.gone:
            raise NotFound("gone")
        return b"m%d" % uid


def _read(fake: _Fake, wanted: list[tuple[Uid, int]], asked: list[Uid]) -> list[bytes | None]:
    async def run() -> list[bytes | None]:
        contents = Contents(cast(Mailbox, fake), wanted)
        try:
            return [await contents.get(uid) for uid in asked]
        finally:
            contents.close()

    return asyncio.run(run())


@pytest.fixture
def pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    """The batching rules with fixed limits: 64 messages, 1 MiB (the tuning may change)."""
    monkeypatch.setattr(fetchbodies, "_BATCH_COUNT", 64)
    monkeypatch.setattr(fetchbodies, "_BATCH_BYTES", 1 << 20)


@pytest.mark.usefixtures("pinned")
def test_batches_are_bounded_by_count_and_bytes() -> None:
    wanted = [(Uid(i), 1000) for i in range(1, 201)]
    cut = list(batches(wanted))
    assert [len(b) for b in cut] == [64, 64, 64, 8]
    assert [u for b in cut for u in b] == [u for u, _ in wanted]
    big = [(Uid(1), 10), (Uid(2), 5 << 20), (Uid(3), 10), (Uid(4), 600_000), (Uid(5), 600_000)]
    assert list(batches(big)) == [[Uid(1)], [Uid(2)], [Uid(3), Uid(4)], [Uid(5)]]
    assert list(batches([])) == []


@pytest.mark.usefixtures("pinned")
def test_contents_in_batches_with_messages_expunged_meanwhile() -> None:
    fake = _Fake(gone=frozenset({5, 70}))
    wanted = [(Uid(i), 100) for i in range(1, 151)]
    # The caller may skip some (not in the view any more): they are dropped.
    asked = [Uid(i) for i in range(1, 151) if i % 7]
    got = _read(fake, wanted, asked)
    assert got == [None if uid in fake.gone else b"m%d" % uid for uid in asked]
    assert [len(b) for b in fake.batches] == [64, 64, 22]
    assert fake.singles == []


def test_contents_of_a_deleted_mailbox_are_missing() -> None:
    fake = _Fake(deleted=True)
    assert _read(fake, [(Uid(1), 1), (Uid(2), 1)], [Uid(1), Uid(2)]) == [None, None]


def test_a_uid_not_announced_is_read_alone() -> None:
    fake = _Fake(gone=frozenset({9}))
    assert _read(fake, [(Uid(1), 1)], [Uid(1), Uid(8), Uid(9)]) == [b"m1", b"m8", None]
    assert fake.singles == [Uid(8), Uid(9)]


def test_close_cancels_reads_in_flight() -> None:
    async def run() -> None:
        contents = Contents(cast(Mailbox, _Fake()), [(Uid(i), 1 << 20) for i in range(1, 6)])
        assert await contents.get(Uid(1)) == b"m1"
        pending = list(contents._pending)
        assert pending
        contents.close()
        await asyncio.sleep(0)
        assert all(f.cancelled() or f.done() for f in pending)

    asyncio.run(run())


# --- end to end ----------------------------------------------------------------------------------

SIZES = [10, 20_000, 300, 70_000, 5, 1_500_000, 40]  # inline, files, above the stream size


def _message(i: int) -> bytes:
    size = SIZES[i % len(SIZES)]
    return b"Subject: m%d\r\n\r\n" % i + (b"%07d\r\n" % i) * (size // 9 + 1)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    with ServerThread(server_settings(tmp_path / "data")) as srv:
        srv.append([AppendRequest(_message(i)) for i in range(30)])
        yield srv


def _login(srv: ServerThread) -> LineClient:
    return selected(srv, timeout=30)


def test_fetch_of_many_bodies_is_exact(server: ServerThread) -> None:
    client = _login(server)
    got, tagged = literals(client, b"FETCH 1:* (BODY.PEEK[])")
    assert tagged.startswith(b"t OK")
    assert got == {i + 1: _message(i) for i in range(30)}
    got, tagged = literals(client, b"FETCH 2,9,4:6,30 (BODY.PEEK[])")
    assert got == {n: _message(n - 1) for n in (2, 4, 5, 6, 9, 30)}
    client.close()


def test_expunged_between_the_queries(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RFC 2180 §4.1.2: a message gone when its bytes are read is left out, and the
    command ends NO [EXPUNGEISSUED], as when it is gone at the metadata query."""
    original = SqliteMailbox.read_messages

    async def racing(self: SqliteMailbox, uids: Sequence[Uid]) -> dict[Uid, bytes]:
        found = await original(self, uids)
        found.pop(Uid(3), None)
        return found

    monkeypatch.setattr(SqliteMailbox, "read_messages", racing)
    monkeypatch.setattr(fetchbodies, "_BATCH_COUNT", 2)
    client = _login(server)
    got, tagged = literals(client, b"FETCH 1:5 (BODY.PEEK[])")
    assert sorted(got) == [1, 2, 4, 5]
    assert got[4] == _message(3)
    assert tagged.startswith(b"t NO [EXPUNGEISSUED]")
    client.close()


def test_whole_bodies_need_no_structure(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    """BODY[] is the stored bytes: the MIME structure is not loaded for it."""
    loads = ParsedMessage.loads.__func__  # type: ignore[attr-defined]
    calls: list[int] = []

    def counting(cls: type[ParsedMessage], data: bytes) -> ParsedMessage:
        calls.append(1)
        result: ParsedMessage = loads(cls, data)
        return result

    monkeypatch.setattr(ParsedMessage, "loads", classmethod(counting))
    client = _login(server)
    got, tagged = literals(client, b"FETCH 1:3 (BODY.PEEK[])")
    assert tagged.startswith(b"t OK")
    assert got == {n: _message(n - 1) for n in (1, 2, 3)}
    got, tagged = literals(client, b"FETCH 2 (BODY.PEEK[]<3.7>)")
    assert got == {2: _message(1)[3:10]}
    assert calls == []
    got, tagged = literals(client, b"FETCH 1 (BODY.PEEK[TEXT])")
    assert got == {1: _message(0).split(b"\r\n\r\n", 1)[1]}
    assert calls
    client.close()
