"""`SqliteStore`: opens the data directory, migrates the schema, manages users.

Layout of a data directory: `buzon.db` (SQLite, WAL mode), `fts.db` (the full-text
index, `ftsdb.py`) and `blobs/` (message files named by content hash, see `blobs.py`).
Several processes may open the same directory at once (the CLI adds users while the
server runs): every write takes SQLite's write lock with BEGIN IMMEDIATE and waits up to
the busy timeout; a timeout surfaces as `Temporary`.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from buzon.storage.api import (
    INBOX,
    AlreadyExists,
    DefaultMailbox,
    MailboxListChanged,
    NotFound,
    QuotaUsage,
)
from buzon.storage.bus import LocalBus
from buzon.storage.names import normalize_mailbox_name, validate_user_name
from buzon.storage.sqlite import ftsdb, index, objectid, quota, schema, txn
from buzon.storage.sqlite.account import SqliteAccount, create_in
from buzon.storage.sqlite.blobs import BlobStore
from buzon.storage.sqlite.context import Backend
from buzon.storage.sqlite.executor import DbExecutor, connect, translate
from buzon.storage.sqlite.watch import ChangeWatcher

DB_NAME = "buzon.db"


def _open_sync(data_dir: Path, synchronous_full: bool) -> BlobStore:
    data_dir.mkdir(parents=True, exist_ok=True)
    blobs = BlobStore(data_dir / "blobs")
    conn = connect(data_dir / DB_NAME, synchronous_full=synchronous_full)
    try:
        schema.migrate(conn)
        blobs.clean_tmp()
        conn.execute("BEGIN IMMEDIATE")
        try:
            txn.sweep_trash(conn, blobs)  # files whose removal a crash interrupted
            ftsdb.drop_legacy(conn)  # the index of schema versions before 11
            index.backfill(conn, blobs)  # search fields of contents stored before them
            ftsdb.ensure(conn, data_dir)  # a new or lost index file: every text queued
            objectid.backfill_threads(conn)  # threads of messages stored before them
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    finally:
        conn.close()
    return blobs


# Messages up to this size are kept in the database, larger ones in files. A file costs
# two fsyncs of its own (file and directory) on top of the commit's; below about 100 KB
# SQLite reads and writes a blob faster than the file system does ("Internal Versus
# External BLOBs", sqlite.org/intern-v-extern-blob.html). 64 KiB holds most mail without
# attachments; APPEND from one client gained about 15% over 16 KiB (docs/performance.md).
INLINE_LIMIT = 65536


class SqliteStore:
    """`Store` on SQLite; open it with `await SqliteStore.open(...)`."""

    def __init__(self, backend: Backend, default_mailboxes: Sequence[DefaultMailbox]) -> None:
        self._b = backend
        self._watcher: ChangeWatcher | None = None
        self._defaults = [
            DefaultMailbox(normalize_mailbox_name(d.name), d.special_use) for d in default_mailboxes
        ]

    @classmethod
    async def open(
        cls,
        data_dir: Path,
        *,
        default_mailboxes: Sequence[DefaultMailbox] = (),
        synchronous_full: bool = True,
        inline_limit: int = INLINE_LIMIT,
        watch: bool = False,
    ) -> SqliteStore:
        """Create or open the store in `data_dir`, applying pending migrations.

        With `watch`, commits of other processes are published on the bus (`watch.py`).
        """
        data_dir = Path(data_dir)
        try:
            blobs = await asyncio.to_thread(_open_sync, data_dir, synchronous_full)
        except (sqlite3.Error, OSError) as exc:
            raise translate(exc) from exc
        executor = DbExecutor(
            data_dir / DB_NAME,
            synchronous_full=synchronous_full,
            attach={ftsdb.FTS_SCHEMA: data_dir / ftsdb.FTS_NAME},  # searches read the index
        )
        indexer = ftsdb.Indexer(executor, data_dir)
        store = cls(Backend(executor, blobs, LocalBus(), inline_limit, indexer), default_mailboxes)
        indexer.kick()  # texts left pending by an earlier run
        if watch:
            store._watcher = ChangeWatcher(
                data_dir / DB_NAME,
                store._b.bus,
                synchronous_full=synchronous_full,
                on_commit=indexer.kick,  # texts a `buzon import` left pending
            )
            store._watcher.start()
        return store

    @property
    def bus(self) -> LocalBus:
        return self._b.bus

    @property
    def blobs(self) -> BlobStore:
        """The blob directory (tests and maintenance tools look at it)."""
        return self._b.blobs

    async def create_user(self, name: str, secret: str) -> None:
        """INBOX and the default mailboxes (with their RFC 6154 attributes), all subscribed."""
        validate_user_name(name)
        defaults = self._defaults

        def job(conn: sqlite3.Connection) -> None:
            if txn.user_id(conn, name) is not None:
                raise AlreadyExists(f"user {name!r} already exists")
            cur = conn.execute("INSERT INTO users (name, secret) VALUES (?, ?)", (name, secret))
            assert cur.lastrowid is not None
            user = cur.lastrowid
            wanted = [DefaultMailbox(INBOX), *defaults]
            for mailbox in wanted:
                if txn.mailbox_by_name(conn, user, mailbox.name) is None:
                    create_in(conn, user, mailbox.name, mailbox.special_use)
                conn.execute(
                    "INSERT OR IGNORE INTO subscriptions (user_id, name) VALUES (?, ?)",
                    (user, mailbox.name),
                )

        await self._b.executor.write(job)

    async def set_user_secret(self, name: str, secret: str) -> None:
        def job(conn: sqlite3.Connection) -> None:
            cur = conn.execute("UPDATE users SET secret = ? WHERE name = ?", (secret, name))
            if cur.rowcount == 0:
                raise NotFound(f"no user {name!r}")

        await self._b.executor.write(job)

    async def get_user_secret(self, name: str) -> str | None:
        def job(conn: sqlite3.Connection) -> str | None:
            row = conn.execute("SELECT secret FROM users WHERE name = ?", (name,)).fetchone()
            return None if row is None else str(row[0])

        return await self._b.executor.read(job)

    async def delete_user(self, name: str) -> None:
        """Remove the user, its mailboxes, subscriptions and unshared message bytes."""

        def job(conn: sqlite3.Connection) -> int:
            user = txn.user_id(conn, name)
            if user is None:
                raise NotFound(f"no user {name!r}")
            trashed = 0
            ids = [
                int(r[0])
                for r in conn.execute("SELECT id FROM mailboxes WHERE user_id = ?", (user,))
            ]
            for mailbox_id in ids:
                trashed += txn.drop_mailbox_rows(conn, mailbox_id)
            conn.execute("DELETE FROM subscriptions WHERE user_id = ?", (user,))
            conn.execute("DELETE FROM metadata WHERE owner = ?", (user,))
            conn.execute("DELETE FROM quotas WHERE user_id = ?", (user,))
            conn.execute("DELETE FROM import_positions WHERE user_id = ?", (user,))
            conn.execute("DELETE FROM users WHERE id = ?", (user,))
            return trashed

        trashed = await self._b.executor.write(job)
        self._b.bus.publish(MailboxListChanged(name))
        if trashed:
            await self._b.sweep()

    async def list_users(self) -> list[str]:
        def job(conn: sqlite3.Connection) -> list[str]:
            return [str(r[0]) for r in conn.execute("SELECT name FROM users ORDER BY name")]

        return await self._b.executor.read(job)

    async def set_user_quota(
        self, name: str, *, storage: int | None, messages: int | None, mailboxes: int | None = None
    ) -> QuotaUsage:
        """RFC 9208 §4.1.3 semantics: both limits are replaced; None is unlimited."""

        def job(conn: sqlite3.Connection) -> QuotaUsage:
            user = txn.user_id(conn, name)
            if user is None:
                raise NotFound(f"no user {name!r}")
            return quota.set_limits(conn, user, storage, messages, mailboxes)

        return await self._b.executor.write(job)

    async def open_account(self, name: str) -> SqliteAccount:
        def job(conn: sqlite3.Connection) -> int | None:
            return txn.user_id(conn, name)

        user = await self._b.executor.read(job)
        if user is None:
            raise NotFound(f"no user {name!r}")
        return SqliteAccount(self._b, name, user)

    def parse_in_processes(self, workers: int) -> None:
        """Parse new messages in `workers` processes: for bulk imports (`analyse.py`)."""
        self._b.analyser.use_processes(workers)

    async def close(self) -> None:
        """Finish queued work and close the connections; the store is unusable after."""
        if self._watcher is not None:
            await self._watcher.stop()
            self._watcher = None
        await self._b.indexer.stop()
        await asyncio.to_thread(self._b.executor.close)
        self._b.blobs.close()
        await asyncio.to_thread(self._b.analyser.close)
