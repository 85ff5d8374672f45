"""A corrupt full-text index never breaks writes nor changes answers (ftsdb.py).

The FTS5 shadow table `msg_fts_data` in a real store's `fts.db` is overwritten with garbage
while the store is open; EXPUNGE, APPEND and SEARCH then go on with exact results, the log
says the index was disabled, and `buzon index rebuild` brings it back.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

import pytest

from buzon.cli.main import main as buzon_main
from buzon.storage import query as q
from buzon.storage.api import AppendRequest, FlagOp, Mailbox, Uid
from buzon.storage.sqlite import ftsdb, index
from buzon.storage.sqlite.store import DB_NAME, SqliteStore


def _message(n: int) -> bytes:
    word = "pelican" if n % 3 == 0 else "heron"
    return (
        f"From: Ann <ann@example.org>\r\nSubject: note {n}\r\n\r\n"
        f"the {word} flies over message number {n} of the lagoon\r\n"
    ).encode()


def _db(data_dir: Path) -> sqlite3.Connection:
    return sqlite3.connect(data_dir / DB_NAME, isolation_level=None)


def _corrupt(data_dir: Path, *, leaves_only: bool) -> None:
    """Overwrite index blocks with random bytes (all of them, or only the segment leaves)."""
    conn = sqlite3.connect(data_dir / ftsdb.FTS_NAME, isolation_level=None)
    try:
        where = " WHERE id > 10" if leaves_only else ""
        conn.execute(f"UPDATE msg_fts_data SET block = randomblob(length(block) + 8){where}")
        with pytest.raises(sqlite3.DatabaseError):
            conn.execute("SELECT rowid FROM msg_fts WHERE msg_fts MATCH '\"heron\"'").fetchall()
    finally:
        conn.close()


async def _drain_indexer(data_dir: Path) -> None:
    for _ in range(200):
        conn = _db(data_dir)
        try:
            if not index.pending(conn):
                return
        finally:
            conn.close()
        await asyncio.sleep(0.05)
    raise AssertionError("the indexer never drained fts_pending")


async def _indexer_turn(data_dir: Path, *, expect_disabled: bool) -> None:
    turn = ftsdb.Indexer.DELAY + ftsdb.Indexer.QUIET
    for _ in range(100):
        await asyncio.sleep(turn / 4)
        conn = _db(data_dir)
        try:
            disabled = not index.fts_ok(conn)
        finally:
            conn.close()
        if disabled or not expect_disabled:
            return
    raise AssertionError("the indexer never disabled the corrupt index")


async def _hits(inbox: Mailbox, word: str) -> list[int]:
    return list((await inbox.search(q.TextContains(word, body_only=True))).uids)


async def _open(data_dir: Path, count: int) -> tuple[SqliteStore, Mailbox]:
    store = await SqliteStore.open(data_dir, synchronous_full=False)
    await store.create_user("alice", "x")
    inbox = await (await store.open_account("alice")).open_mailbox("INBOX")
    # One append per message: many small index segments, as real delivery makes.
    for n in range(1, count + 1):
        await inbox.append([AppendRequest(_message(n))])
    await _drain_indexer(data_dir)
    return store, inbox


def _rebuild(data_dir: Path) -> None:
    assert buzon_main(["index", "rebuild", "--data-dir", str(data_dir)]) == 0
    conn = _db(data_dir)
    try:
        assert index.fts_ok(conn)
        assert not index.pending(conn)
        conn.execute("ATTACH DATABASE ? AS fts", (str(data_dir / ftsdb.FTS_NAME),))
        conn.execute("INSERT INTO fts.msg_fts (msg_fts) VALUES ('integrity-check')")
        hits = conn.execute("SELECT rowid FROM fts.msg_fts WHERE msg_fts MATCH '\"pelican\"'")
        assert len(hits.fetchall()) == 4  # contents of messages 3, 9, 12, 15 (6 expunged)
    finally:
        conn.close()


@pytest.mark.parametrize("leaves_only", [False, True])
def test_writes_and_searches_survive_a_corrupt_index(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, leaves_only: bool
) -> None:
    caplog.set_level(logging.WARNING)

    async def body() -> None:
        store, inbox = await _open(tmp_path, 15)
        try:
            assert await _hits(inbox, "pelican") == [3, 6, 9, 12, 15]
            _corrupt(tmp_path, leaves_only=leaves_only)
            # Expunges one at a time: a corrupt index may fail at once or only when
            # FTS5 merges segments at some later COMMIT.
            for uid in (1, 2, 4, 5, 6, 7, 8):
                await inbox.store_flags([Uid(uid)], FlagOp.ADD, frozenset({"\\Deleted"}))
                assert await inbox.expunge() == (uid,)
            appended = await inbox.append([AppendRequest(_message(18))])
            assert list(appended.dest_uids) == [16]
            # The indexer's turn (once deliveries pause): it meets the corruption taking
            # the expunged texts out, and disables the index.
            await _indexer_turn(tmp_path, expect_disabled=not leaves_only)
            assert await _hits(inbox, "pelican") == [3, 9, 12, 15, 16]
            assert await _hits(inbox, "heron") == [10, 11, 13, 14]
            assert list((await inbox.search(q.MatchAll())).uids) == [
                3, 9, 10, 11, 12, 13, 14, 15, 16
            ]  # fmt: skip
        finally:
            await store.close()

    asyncio.run(body())
    if leaves_only is False:
        assert "full-text index corrupt" in caplog.text
        assert "searches scan" in caplog.text
    else:
        # The reader meets the corrupt leaves first (or the writer does): said either way.
        assert "index unusable" in caplog.text or "index corrupt" in caplog.text
    conn = _db(tmp_path)
    try:
        assert not index.fts_ok(conn) or leaves_only  # leaves may survive 7 expunges
    finally:
        conn.close()

    # Expunge 16 too, so that the rebuilt index holds exactly 3, 9, 12, 15 of "pelican".
    async def drop_last() -> None:
        store = await SqliteStore.open(tmp_path, synchronous_full=False)
        try:
            inbox = await (await store.open_account("alice")).open_mailbox("INBOX")
            assert await inbox.expunge([Uid(16)]) == ()  # not \Deleted: stays
            await inbox.store_flags([Uid(16)], FlagOp.ADD, frozenset({"\\Deleted"}))
            assert await inbox.expunge([Uid(16)]) == (16,)
        finally:
            await store.close()

    asyncio.run(drop_last())
    _rebuild(tmp_path)


def test_only_corruption_disables_the_index() -> None:
    assert not ftsdb.is_corruption(sqlite3.IntegrityError("UNIQUE constraint failed"))
    assert not ftsdb.is_corruption(sqlite3.OperationalError("database is locked"))
    corrupt = sqlite3.DatabaseError("vtable constructor failed")
    corrupt.sqlite_errorcode = ftsdb.SQLITE_CORRUPT_VTAB
    assert ftsdb.is_corruption(corrupt)
    assert ftsdb.is_corruption(sqlite3.DatabaseError("database disk image is malformed"))
    assert ftsdb.is_corruption(ftsdb.Inconsistent("content 1"))
