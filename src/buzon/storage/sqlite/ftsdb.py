"""The full-text index in a database file of its own (`fts.db`), fed by its own thread.

Theory of operation
-------------------
The trigram FTS5 index costs more to write than all the rest of a delivery. Kept in
`buzon.db` it was written by the one writer thread, so every APPEND queued behind index
batches. Here it lives in `fts.db` beside `buzon.db`, written by a thread and connection
of its own: SQLite releases the interpreter lock while it tokenizes, so the index is fed
on the second core while deliveries commit in `buzon.db` undisturbed.

`fts.db` holds `msg_fts`, a contentless FTS5 table (rowid = the content's id in
`buzon.db`), and `docs`: which text each rowid holds, as a digest. `buzon.db` holds the
queues, written by its triggers in the transactions that change texts (migration 11):
`fts_pending` (texts to add) and `fts_forget` (texts to take out, with their words, which a
contentless table needs for a 'delete'). The two files cannot change in one transaction,
so every step is idempotent and ordered:

1. `take` reads a batch in one snapshot of `buzon.db`: queued forgets first, and pending
   texts only when every forget was read (a rowid whose text changed then always has its
   forget in the same batch, processed before its new text).
2. `apply` runs the batch in one `fts.db` transaction. A forget deletes only when `docs`
   holds that very text (same digest); a pending text is skipped when `docs` already holds
   it. So a batch applied twice (a crash between 2 and 3) changes nothing the second time.
3. `finish` removes the batch from the queues in `buzon.db`: each pending row only if its
   text is still the one indexed (a content expunged and its id reused meanwhile stays
   pending), each forget by its own id.

Searches (`search.py`) read `fts_pending` before the index, in one read transaction with
`fts.db` attached as `fts`. Since step 2 commits before step 3, a text is in the index or
in the pending set the search saw (or both); search takes the index's answer for texts not
pending and checks pending texts exactly, which also covers an id whose old text the index
still holds. `meta.fts_ok` (in `buzon.db`) says whether the index may be used at all.

A corrupt `fts.db` (FTS5 reports SQLITE_CORRUPT_VTAB) never reaches deliveries: the indexer
clears `meta.fts_ok` and searches scan until `buzon index rebuild` (`reset`) recreates it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from buzon.storage.sqlite.executor import BUSY_TIMEOUT_MS, DbExecutor, run_in_transaction

__all__ = [
    "FTS_NAME",
    "FTS_SCHEMA",
    "Batch",
    "Indexer",
    "apply",
    "connect_fts",
    "drain",
    "ensure",
    "finish",
    "reset",
    "take",
]

log = logging.getLogger("buzon.storage.index")

FTS_NAME = "fts.db"
FTS_SCHEMA = "fts"  # its name when attached to a reader's connection
SQLITE_CORRUPT_VTAB = 267  # SQLITE_CORRUPT | (1 << 8): "content in the virtual table is corrupt"

_FTS_ARGS = "fts5(headers, body, content='', tokenize='trigram case_sensitive 1')"
_TABLES = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS msg_fts USING {_FTS_ARGS}",
    "CREATE TABLE IF NOT EXISTS docs (content_id INTEGER PRIMARY KEY, digest BLOB NOT NULL)",
)


def connect_fts(data_dir: Path) -> sqlite3.Connection:
    """A connection to `fts.db` (WAL; FULL: `finish` trusts what `apply` committed)."""
    conn = sqlite3.connect(
        str(data_dir / FTS_NAME),
        isolation_level=None,
        check_same_thread=False,
        timeout=BUSY_TIMEOUT_MS / 1000,
    )
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    return conn


def _set_fts_ok(conn: sqlite3.Connection, ok: bool) -> None:
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('fts_ok', ?)", (int(ok),))


def _requeue_all(conn: sqlite3.Connection) -> None:
    """Every stored text becomes pending and nothing is to be forgotten (in a transaction)."""
    conn.execute("DELETE FROM fts_forget")
    conn.execute("INSERT OR IGNORE INTO fts_pending (content_id) SELECT content_id FROM msg_text")


def ensure(main: sqlite3.Connection, data_dir: Path) -> None:
    """At open, in a write transaction of `main`: a usable `fts.db`, whatever happened.

    A new, lost or incomplete index starts empty, so every stored text is queued for it;
    the server's indexer fills it while searches stay exact by checking pending texts. A
    file SQLite cannot read at all is set aside (`fts.db.unreadable`): the index is
    derived data and must never keep the store from opening.
    """
    try:
        _ensure(main, data_dir)
    except sqlite3.DatabaseError as exc:
        log.error("%s unreadable (%s): set aside, the index is made again", FTS_NAME, exc)
        for suffix in ("", "-wal", "-shm"):
            path = data_dir / (FTS_NAME + suffix)
            if path.exists():
                path.replace(data_dir / (FTS_NAME + suffix + ".unreadable"))
        _ensure(main, data_dir)


def _ensure(main: sqlite3.Connection, data_dir: Path) -> None:
    fts = connect_fts(data_dir)
    try:
        names = {str(r[0]) for r in fts.execute("SELECT name FROM sqlite_master")}
        if {"msg_fts", "docs"} <= names:
            return
        run_in_transaction(fts, "BEGIN IMMEDIATE", _recreate)
        _requeue_all(main)
    finally:
        fts.close()


def drop_legacy(conn: sqlite3.Connection) -> None:
    """Drop the index of schema versions before 11 from `buzon.db` (in a transaction)."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'msg_fts'").fetchone():
        return
    _drop(conn)
    if conn.execute("SELECT 1 FROM msg_text LIMIT 1").fetchone():  # not a new store
        log.info("the full-text index moves to %s; it is rebuilt in the background", FTS_NAME)


def _drop(conn: sqlite3.Connection) -> None:
    """Drop `msg_fts`, also when it is too corrupt for FTS5 to open it."""
    try:
        conn.execute("DROP TABLE IF EXISTS msg_fts")
    except sqlite3.DatabaseError as exc:
        # FTS5 reads its structure record to open (and so to drop) the table: give it the
        # records of a new empty index, taken from a blank twin.
        log.warning("full-text index unreadable (%s): blanking it before dropping it", exc)
        (config,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'msg_fts'").fetchone()
        args = str(config).split(" USING ", 1)[1]
        conn.execute("DROP TABLE IF EXISTS msg_fts_blank")
        conn.execute(f"CREATE VIRTUAL TABLE msg_fts_blank USING {args}")
        conn.execute("DELETE FROM msg_fts_data")
        conn.execute("DELETE FROM msg_fts_idx")
        conn.execute("INSERT INTO msg_fts_data SELECT * FROM msg_fts_blank_data")
        conn.execute("DROP TABLE msg_fts_blank")
        conn.execute("DROP TABLE msg_fts")


def reset(main: sqlite3.Connection, data_dir: Path) -> None:
    """Recreate an empty index and queue every text for it (`buzon index rebuild`).

    Three commits, safe to interrupt anywhere: the index is marked unusable and every text
    queued; `fts.db` is emptied; the index is marked usable (the queue is then its truth).
    """

    def requeue(conn: sqlite3.Connection) -> None:
        _set_fts_ok(conn, False)
        _requeue_all(conn)

    run_in_transaction(main, "BEGIN IMMEDIATE", requeue)
    fts = connect_fts(data_dir)
    try:
        run_in_transaction(fts, "BEGIN IMMEDIATE", _recreate)
    finally:
        fts.close()
    run_in_transaction(main, "BEGIN IMMEDIATE", partial(_set_fts_ok, ok=True))


def _recreate(fts: sqlite3.Connection) -> None:
    """An empty index (in a transaction of `fts.db`)."""
    _drop(fts)
    fts.execute("DROP TABLE IF EXISTS docs")
    for sql in _TABLES:
        fts.execute(sql)


# --- one batch: take, apply, finish -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Batch:
    usable: bool  # meta.fts_ok
    forget: list[tuple[int, int, str, str]]  # (queue id, content id, headers, body)
    pending: list[tuple[int, str, str]]  # (content id, headers, body)

    def __len__(self) -> int:
        return len(self.forget) + len(self.pending)


def _usable(conn: sqlite3.Connection) -> bool:
    row = conn.execute("SELECT value FROM meta WHERE key = 'fts_ok'").fetchone()
    return row is None or int(row[0]) == 1


def take(conn: sqlite3.Connection, limit: int) -> Batch:
    """Up to `limit` queued changes, forgets first (in one read snapshot of `buzon.db`)."""
    forget = [
        (int(r[0]), int(r[1]), str(r[2]), str(r[3]))
        for r in conn.execute(
            "SELECT id, content_id, headers, body FROM fts_forget ORDER BY id LIMIT ?", (limit,)
        )
    ]
    pending: list[tuple[int, str, str]] = []
    if len(forget) < limit:
        pending = [
            (int(r[0]), str(r[1]), str(r[2]))
            for r in conn.execute(
                "SELECT p.content_id, t.headers, t.body FROM fts_pending p"
                " JOIN msg_text t ON t.content_id = p.content_id ORDER BY p.content_id LIMIT ?",
                (limit - len(forget),),
            )
        ]
    return Batch(_usable(conn), forget, pending)


def _digest(headers: str, body: str) -> bytes:
    return hashlib.blake2b(
        headers.encode("utf-8", "surrogatepass") + b"\0" + body.encode("utf-8", "surrogatepass"),
        digest_size=16,
    ).digest()


class Inconsistent(Exception):
    """The index holds a text for an id that the queues do not account for."""


def apply(fts: sqlite3.Connection, batch: Batch) -> None:
    """Run `batch` in one `fts.db` transaction (idempotent: see the module docstring)."""
    fts.execute("BEGIN IMMEDIATE")
    try:
        for _, cid, headers, body in batch.forget:
            row = fts.execute("SELECT digest FROM docs WHERE content_id = ?", (cid,)).fetchone()
            if row is not None and bytes(row[0]) == _digest(headers, body):
                fts.execute(
                    "INSERT INTO msg_fts (msg_fts, rowid, headers, body)"
                    " VALUES ('delete', ?, ?, ?)",
                    (cid, headers, body),
                )
                fts.execute("DELETE FROM docs WHERE content_id = ?", (cid,))
        for cid, headers, body in batch.pending:
            digest = _digest(headers, body)
            row = fts.execute("SELECT digest FROM docs WHERE content_id = ?", (cid,)).fetchone()
            if row is not None:
                if bytes(row[0]) == digest:
                    continue  # indexed by an earlier run of this batch
                raise Inconsistent(f"content {cid} has an indexed text nothing removes")
            fts.execute(
                "INSERT INTO msg_fts (rowid, headers, body) VALUES (?, ?, ?)", (cid, headers, body)
            )
            fts.execute("INSERT INTO docs (content_id, digest) VALUES (?, ?)", (cid, digest))
        fts.execute("COMMIT")
    except BaseException:
        if fts.in_transaction:
            fts.execute("ROLLBACK")
        raise


def finish(conn: sqlite3.Connection, batch: Batch) -> int:
    """Take an applied `batch` off the queues (in a write transaction of `buzon.db`)."""
    conn.executemany("DELETE FROM fts_forget WHERE id = ?", [(f[0],) for f in batch.forget])
    conn.executemany(
        "DELETE FROM fts_pending WHERE content_id = ? AND EXISTS (SELECT 1 FROM msg_text"
        " WHERE content_id = ? AND headers = ? AND body = ?)",
        [(cid, cid, headers, body) for cid, headers, body in batch.pending],
    )
    return len(batch)


def drain(
    main: sqlite3.Connection,
    data_dir: Path,
    progress: Callable[[int, int], None] | None = None,
    limit: int = 500,
) -> int:
    """Index every queued text in this thread, a batch per transaction (the CLI's way; a
    server's indexer may work at the same time). Returns how many texts were added."""
    (total,) = main.execute("SELECT count(*) FROM fts_pending").fetchone()
    fts = connect_fts(data_dir)
    done = 0
    try:
        while True:
            batch = run_in_transaction(main, "BEGIN", partial(take, limit=limit))
            if not batch.usable or not len(batch):
                return done
            apply(fts, batch)
            run_in_transaction(main, "BEGIN IMMEDIATE", partial(finish, batch=batch))
            done += len(batch.pending)
            if progress is not None:
                progress(min(done, total), max(total, done))
    finally:
        fts.close()


def _disable(conn: sqlite3.Connection) -> int:
    """The index is unusable until `reset`: forget rows are of no use to it any more."""
    _set_fts_ok(conn, False)
    conn.execute("DELETE FROM fts_forget")
    return 0


def is_corruption(exc: BaseException) -> bool:
    """Whether `exc` says the index is corrupt or incomplete (`rebuild` mends it)."""
    if isinstance(exc, Inconsistent):
        return True
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    text = str(exc).lower()
    return code == SQLITE_CORRUPT_VTAB or any(
        sign in text for sign in ("fts5", "malformed", "no such table", "not a database")
    )


# --- the indexer -------------------------------------------------------------------------------


BACKGROUND_NICENESS = 10


def _lower_priority() -> None:
    """Let the calling thread yield the CPU to deliveries and commands (Linux: a thread's
    niceness is its own). Indexing is background work: on a busy machine it waits."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICENESS)


class Indexer:
    """Feeds `fts.db` after deliveries, in batches, on a thread of its own.

    Deliveries `kick` it. Indexing is background work that takes about as much CPU as the
    rest of a delivery, so it waits while deliveries keep coming (a client uploading a
    folder, an MTA's queue run) and catches up once they pause for `QUIET` seconds: the
    burst is served at full speed. It never lets more than `BACKLOG` texts wait, though,
    since searches check waiting texts one by one (`search.py`, `_FEW_PENDING`): past that,
    it indexes alongside the deliveries. It works in batches of `BATCH` texts (each FTS5
    transaction adds a segment).
    """

    BATCH = 100
    DELAY = 0.2  # after a kick, so that a few deliveries share a batch
    QUIET = 0.5
    BACKLOG = 2000

    def __init__(self, executor: DbExecutor, data_dir: Path) -> None:
        self._executor = executor
        self._dir = data_dir
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="buzon-fts")
        self._fts: sqlite3.Connection | None = None
        self._wanted = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._kicked = 0.0  # loop time of the last kick

    def kick(self) -> None:
        loop = asyncio.get_running_loop()
        self._kicked = loop.time()
        self._wanted.set()
        if self._task is None:
            self._task = loop.create_task(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wanted.wait()
            self._wanted.clear()
            await asyncio.sleep(self.DELAY)
            try:
                while True:
                    busy = self.QUIET - (loop.time() - self._kicked)
                    if busy > 0 and await self._backlog() < self.BACKLOG:
                        await asyncio.sleep(busy)  # deliveries still coming: later
                        continue
                    # A full batch means a backlog: go on. A partial one took everything
                    # queued; texts delivered since have kicked again and wait for the
                    # next round instead of being chased one or two per transaction.
                    if await self.step() < self.BATCH:
                        break
                    await asyncio.sleep(0)
            except Exception:
                # Searches stay exact without the index (pending texts are checked).
                log.exception("indexing new messages failed; they are searched by scanning")

    async def _backlog(self) -> int:
        def count(conn: sqlite3.Connection) -> int:
            return int(conn.execute("SELECT count(*) FROM fts_pending").fetchone()[0])

        return await self._executor.read(count)

    async def step(self) -> int:
        """One batch; returns its size (0: nothing queued, or the index is unusable)."""
        limit = self.BATCH
        batch = await self._executor.read(lambda conn: take(conn, limit))
        if not batch.usable:
            if batch.forget:
                await self._executor.write(_disable)
            return 0
        if not len(batch):
            return 0
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._thread, self._apply, batch)
        except Exception as exc:
            if not is_corruption(exc):
                raise
            log.error(
                "full-text index corrupt (%s): disabled; searches scan until `buzon index rebuild`",
                exc,
            )
            await self._executor.write(_disable)
            return 0
        return await self._executor.write(lambda conn: finish(conn, batch))

    def _apply(self, batch: Batch) -> None:
        if self._fts is None:
            self._fts = connect_fts(self._dir)
            _lower_priority()
        apply(self._fts, batch)

    def _close(self) -> None:
        if self._fts is not None:
            self._fts.close()
            self._fts = None

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await asyncio.get_running_loop().run_in_executor(self._thread, self._close)
        self._thread.shutdown()
