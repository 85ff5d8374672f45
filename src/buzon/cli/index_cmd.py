"""`buzon index rebuild [USER]`: recompute the search fields and the full-text index.

Opens the store first (which applies migrations and fills rows missing since an upgrade),
then recomputes the search fields in one write transaction and makes the full-text index
again (`ftsdb.reset`), filling it a batch at a time, with progress lines on standard
error. A running server keeps serving: its searches check the texts not yet indexed.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

from buzon.config import Settings
from buzon.storage.api import StorageError
from buzon.storage.sqlite import ftsdb, index
from buzon.storage.sqlite.blobs import BlobStore
from buzon.storage.sqlite.executor import connect
from buzon.storage.sqlite.store import DB_NAME, SqliteStore

__all__ = ["add_parser", "run"]


def add_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: Callable[[argparse.ArgumentParser], None],
) -> None:
    index_p = commands.add_parser("index", help="manage the search index")
    actions = index_p.add_subparsers(dest="index_command", metavar="ACTION", required=True)
    rebuild_p = actions.add_parser(
        "rebuild", help="recompute search fields and the full-text index (all users or USER)"
    )
    rebuild_p.add_argument("user", nargs="?", help="only this user's messages")
    common(rebuild_p)


def _progress(what: str) -> Callable[[int, int], None]:
    def show(done: int, total: int) -> None:
        if done == total or done % 200 == 0:
            end = "\n" if done == total else ""
            print(f"\r{what} {done}/{total} messages", end=end, file=sys.stderr, flush=True)

    return show


def _recompute(conn: sqlite3.Connection, data_dir: Path, user: str | None) -> int:
    conn.execute("BEGIN IMMEDIATE")
    try:
        done = index.recompute(conn, BlobStore(data_dir / "blobs"), user, _progress("indexed"))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return done


def run(args: argparse.Namespace, settings: Settings) -> int:
    data_dir = settings.server.data_dir

    async def ensure() -> None:
        store = await SqliteStore.open(data_dir)  # migrations, missing rows
        if args.user is not None and args.user not in await store.list_users():
            await store.close()
            raise StorageError(f"no user {args.user!r}")
        await store.close()

    asyncio.run(ensure())
    conn = connect(data_dir / DB_NAME, synchronous_full=True)
    try:
        done = _recompute(conn, data_dir, args.user)
        if done == 0:
            print("indexed 0 messages", file=sys.stderr)
        # The whole index is made again (which also mends a corrupt one): texts queue in
        # buzon.db and go into a new fts.db; searches check queued texts meanwhile.
        ftsdb.reset(conn, data_dir)
        ftsdb.drain(conn, data_dir, _progress("full-text index:"))
    except sqlite3.Error as exc:
        raise StorageError(f"index rebuild failed: {exc}") from exc
    finally:
        conn.close()
    return 0
