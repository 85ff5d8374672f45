"""Over IMAP: with the FTS index corrupted under a running server, EXPUNGE, APPEND and
SEARCH still succeed with exact answers, and the indexer disables the index (ftsdb.py)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import imapclient

from buzon.storage.sqlite import ftsdb, index
from buzon.storage.sqlite.store import DB_NAME
from tests.server.harness import PASSWORD, ServerThread, server_settings


def _message(n: int) -> bytes:
    word = "pelican" if n % 2 else "heron"
    return f"Subject: note {n}\r\n\r\nthe {word} over the lagoon, {n}\r\n".encode()


def _wait_until(db: Path, done: Callable[[sqlite3.Connection], bool], what: str) -> None:
    for _ in range(200):
        conn = sqlite3.connect(db)
        try:
            if done(conn):
                return
        finally:
            conn.close()
        time.sleep(0.05)
    raise AssertionError(f"the indexer never {what}")


def _wait_indexed(db: Path) -> None:
    _wait_until(db, lambda conn: not index.pending(conn), "drained fts_pending")


def test_imap_survives_a_corrupt_index(tmp_path: Path) -> None:
    db = tmp_path / "data" / DB_NAME
    with ServerThread(server_settings(tmp_path / "data")) as server:
        client = imapclient.IMAPClient(
            "127.0.0.1", port=server.imaps_port, ssl=True, ssl_context=server.client_tls_context()
        )
        client.login("alice", PASSWORD)
        try:
            for n in range(1, 9):
                client.append("INBOX", _message(n))
            _wait_indexed(db)
            client.select_folder("INBOX")
            assert client.search(["BODY", "pelican"]) == [1, 3, 5, 7]
            conn = sqlite3.connect(db.parent / ftsdb.FTS_NAME, isolation_level=None)
            try:
                conn.execute("UPDATE msg_fts_data SET block = randomblob(length(block) + 8)")
            finally:
                conn.close()
            client.add_flags([1, 2, 3], [imapclient.DELETED])
            assert client.expunge()[1] == [(1, b"EXPUNGE")] * 3
            assert client.append("INBOX", _message(9)).startswith(b"[APPENDUID")
            client.noop()
            assert client.search(["BODY", "pelican"]) == [5, 7, 9]
            assert client.search(["TEXT", "heron"]) == [4, 6, 8]
            _wait_disabled(db)  # the indexer met the corruption taking expunged texts out
            assert client.search(["BODY", "pelican"]) == [5, 7, 9]
        finally:
            client.logout()


def _wait_disabled(db: Path) -> None:
    _wait_until(db, lambda conn: not index.fts_ok(conn), "disabled the corrupt index")
