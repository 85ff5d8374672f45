"""`buzon index rebuild [USER]`: progress on stderr, the index usable afterwards."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from buzon.cli.main import main
from buzon.storage.api import AppendRequest
from buzon.storage.sqlite import ftsdb
from buzon.storage.sqlite.store import DB_NAME, SqliteStore


async def _fill(data_dir: Path) -> None:
    store = await SqliteStore.open(data_dir, synchronous_full=False)
    try:
        await store.create_user("alice", "x")
        inbox = await (await store.open_account("alice")).open_mailbox("INBOX")
        await inbox.append(
            [AppendRequest(f"Subject: n{i}\r\n\r\nbody {i}\r\n".encode()) for i in range(3)]
        )
    finally:
        await store.close()


def test_index_rebuild(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    asyncio.run(_fill(tmp_path))
    conn = sqlite3.connect(tmp_path / ftsdb.FTS_NAME, isolation_level=None)
    conn.execute("DROP TABLE msg_fts")
    conn.close()
    assert main(["index", "rebuild", "alice", "--data-dir", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert "indexed 3/3 messages" in err
    assert "full-text index: 3/3 messages" in err
    conn = sqlite3.connect(tmp_path / DB_NAME)
    try:
        assert conn.execute("SELECT value FROM meta WHERE key = 'fts_ok'").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM fts_pending").fetchone() == (0,)
        conn.execute("ATTACH DATABASE ? AS fts", (str(tmp_path / ftsdb.FTS_NAME),))
        rows = conn.execute(
            "SELECT rowid FROM fts.msg_fts WHERE msg_fts MATCH '\"body 2\"'"
        ).fetchall()
        assert len(rows) == 1
    finally:
        conn.close()


def test_index_rebuild_unknown_user(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    asyncio.run(_fill(tmp_path))
    assert main(["index", "rebuild", "nobody", "--data-dir", str(tmp_path)]) == 1
    assert "no user 'nobody'" in capsys.readouterr().err
