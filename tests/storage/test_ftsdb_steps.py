"""The index's batch steps are idempotent and safe against races (ftsdb.py).

`take`, `apply` and `finish` run on two database files without a common transaction. These
tests replay a batch as after a crash between `apply` and `finish`, and change a text
between `take` and `finish` (a content expunged and its id reused), then check the index
against the texts: FTS5's own integrity check and the words each id matches.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from buzon.storage import query as q
from buzon.storage.api import AppendRequest
from buzon.storage.sqlite import ftsdb, index
from buzon.storage.sqlite.search import run_search
from buzon.storage.sqlite.store import DB_NAME, SqliteStore


async def _fill(data_dir: Path, words: list[str]) -> None:
    store = await SqliteStore.open(data_dir, synchronous_full=False)
    try:
        await store.create_user("alice", "x")
        inbox = await (await store.open_account("alice")).open_mailbox("INBOX")
        await inbox.import_messages(  # import: the texts stay queued for this test
            [AppendRequest(f"Subject: s\r\n\r\n{w} text\r\n".encode()) for w in words]
        )
    finally:
        await store.close()


def _open(data_dir: Path) -> tuple[sqlite3.Connection, sqlite3.Connection]:
    main = sqlite3.connect(data_dir / DB_NAME, isolation_level=None)
    main.execute("ATTACH DATABASE ? AS fts", (str(data_dir / ftsdb.FTS_NAME),))
    return main, ftsdb.connect_fts(data_dir)


def _hits(main: sqlite3.Connection, word: str) -> list[int]:
    rows = main.execute(
        "SELECT rowid FROM fts.msg_fts WHERE msg_fts MATCH ? ORDER BY rowid", (f'"{word}"',)
    )
    return [int(r[0]) for r in rows]


def _check(main: sqlite3.Connection) -> None:
    main.execute("INSERT INTO fts.msg_fts (msg_fts) VALUES ('integrity-check')")


def test_a_batch_applied_twice_changes_nothing_the_second_time(tmp_path: Path) -> None:
    asyncio.run(_fill(tmp_path, ["pelican", "heron", "pelican and egret"]))
    main, fts = _open(tmp_path)
    try:
        batch = ftsdb.take(main, 100)
        assert [cid for cid, _, _ in batch.pending] == [1, 2, 3]
        ftsdb.apply(fts, batch)
        ftsdb.apply(fts, batch)  # as after a crash before `finish`
        _check(main)
        assert _hits(main, "pelican") == [1, 3]
        assert main.execute("SELECT count(*) FROM fts.docs").fetchone() == (3,)
        ftsdb.finish(main, batch)
        assert not index.pending(main)
    finally:
        main.close()
        fts.close()


def test_a_text_changed_between_take_and_finish_stays_queued(tmp_path: Path) -> None:
    asyncio.run(_fill(tmp_path, ["pelican", "heron"]))
    main, fts = _open(tmp_path)
    try:
        batch = ftsdb.take(main, 100)
        # Meanwhile content 2 goes and its id comes back with another text (the triggers
        # queue the old text to be forgotten and the new one to be added).
        main.execute("DELETE FROM msg_text WHERE content_id = 2")
        main.execute("INSERT INTO msg_text (content_id, headers, body) VALUES (2, '', 'egret')")
        ftsdb.apply(fts, batch)
        ftsdb.finish(main, batch)
        assert index.pending(main) == {2}  # the new text was not the one indexed
        assert _hits(main, "heron") == [2]  # the index still holds the old text ...
        # ... and search ignores the index for a pending id (search.py).
        (mailbox,) = main.execute("SELECT id FROM mailboxes WHERE name = 'INBOX'").fetchone()
        assert run_search(main, mailbox, q.TextContains("heron", body_only=True)) == []
        egret = q.TextContains("egret", body_only=False)
        assert [u for u, _ in run_search(main, mailbox, egret)] == [2]
        again = ftsdb.take(main, 100)
        assert [f[1] for f in again.forget] == [2]
        assert [p[0] for p in again.pending] == [2]
        ftsdb.apply(fts, again)
        ftsdb.apply(fts, again)
        ftsdb.finish(main, again)
        _check(main)
        assert not index.pending(main)
        assert main.execute("SELECT count(*) FROM fts_forget").fetchone() == (0,)
        assert _hits(main, "heron") == []
        assert _hits(main, "egret") == [2]
        assert _hits(main, "pelican") == [1]
    finally:
        main.close()
        fts.close()


def test_a_forget_for_a_text_never_indexed_is_harmless(tmp_path: Path) -> None:
    asyncio.run(_fill(tmp_path, ["pelican", "heron"]))
    main, fts = _open(tmp_path)
    try:
        main.execute("DELETE FROM msg_text WHERE content_id = 1")  # expunged while queued
        assert ftsdb.drain(main, tmp_path) == 1
        _check(main)
        assert _hits(main, "pelican") == []
        assert _hits(main, "heron") == [2]
        assert main.execute("SELECT count(*) FROM fts_forget").fetchone() == (0,)
    finally:
        main.close()
        fts.close()
