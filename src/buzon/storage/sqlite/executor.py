"""Runs SQLite work off the event loop: one writer thread, a small pool of reader threads.

Theory of operation
-------------------
Every connection is opened in autocommit mode (`isolation_level=None`) and transactions
are explicit. The writer is a single thread owning one connection; write jobs of this
process queue up in order. The writer takes the first queued job plus any others already
waiting (group commit), runs them in one `BEGIN IMMEDIATE ... COMMIT` (which also takes
SQLite's file lock against other processes; busy_timeout makes them wait instead of
failing), each inside its own SAVEPOINT: a job that fails is rolled back alone and the
others commit together, sharing one fsync. A job's caller learns its outcome only after
COMMIT. Readers each own a connection (thread-local) and run inside `BEGIN ... COMMIT`,
so a job sees one consistent WAL snapshot (of each database, taken when the job first
reads it: a store may `attach` further database files to the readers' connections).

A job is a plain function `fn(conn) -> T`. Errors are translated here, once:
`sqlite3.OperationalError` ("database is locked", "disk I/O error", "database or disk is
full") and `OSError` become `Temporary`; other sqlite errors become `StorageError`;
`StorageError`s raised by the job pass through. The transaction is rolled back on any
error, so a request is all-or-nothing.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Generic, TypeVar

from buzon.storage.api import StorageError, Temporary

T = TypeVar("T")

BUSY_TIMEOUT_MS = 10_000
MAX_GROUP = 64  # write jobs sharing one transaction at most


def connect(path: Path, *, synchronous_full: bool) -> sqlite3.Connection:
    """Open a connection with Buzón's pragmas (WAL, busy timeout, foreign keys)."""
    conn = sqlite3.connect(
        str(path), isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
    )
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    # FULL: an acknowledged commit survives power loss. NORMAL in WAL mode still survives
    # a crash of the process (kill -9), only the last commits may be lost on power loss.
    conn.execute(f"PRAGMA synchronous = {'FULL' if synchronous_full else 'NORMAL'}")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def translate(exc: BaseException) -> StorageError:
    """Map a low-level failure to the StorageError the API promises."""
    if isinstance(exc, StorageError):
        return exc
    if isinstance(exc, sqlite3.OperationalError):
        return Temporary(f"database temporarily unavailable: {exc}")
    if isinstance(exc, OSError):
        return Temporary(f"storage I/O error: {exc.strerror or exc}")
    return StorageError(f"database error: {exc}")


def run_in_transaction(
    conn: sqlite3.Connection, begin: str, fn: Callable[[sqlite3.Connection], T]
) -> T:
    """Run `fn` between `begin` and COMMIT, rolling back on any error."""
    conn.execute(begin)
    try:
        result = fn(conn)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return result


class _WriteJob(Generic[T]):
    __slots__ = ("exclusive", "fn", "future")

    def __init__(self, fn: Callable[[sqlite3.Connection], T], exclusive: bool) -> None:
        self.fn = fn
        self.exclusive = exclusive
        self.future: Future[T] = Future()


# (job, value, the exception it raised) per job of a group, and the group's own failure.
_Outcomes = list[tuple[_WriteJob[Any], object, BaseException | None]]


class _Writer:
    """The writer thread: a queue of jobs, committed in groups."""

    def __init__(self, open_conn: Callable[[], sqlite3.Connection]) -> None:
        self._open = open_conn
        self._queue: queue.SimpleQueue[_WriteJob[Any] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="buzon-db-writer", daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[[sqlite3.Connection], T], exclusive: bool) -> Future[T]:
        job = _WriteJob(fn, exclusive)
        self._queue.put(job)
        return job.future

    def stop(self) -> None:
        """Finish the queued jobs, then end the thread."""
        self._queue.put(None)
        self._thread.join()

    def _next_group(
        self, first: _WriteJob[Any]
    ) -> tuple[list[_WriteJob[Any]], _WriteJob[Any] | None, bool]:
        """`first` plus jobs already waiting; returns (group, held-over job, stop seen)."""
        group = [first]
        if first.exclusive:
            return group, None, False
        while len(group) < MAX_GROUP:
            try:
                more = self._queue.get_nowait()
            except queue.Empty:
                break
            if more is None:
                return group, None, True
            if more.exclusive:
                return group, more, False
            group.append(more)
        return group, None, False

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        held: _WriteJob[Any] | None = None
        stopping = False
        while True:
            if held is not None:
                first: _WriteJob[Any] | None = held
            elif stopping:
                break
            else:
                first = self._queue.get()
            if first is None:
                break
            group, held, stop_seen = self._next_group(first)
            stopping = stopping or stop_seen
            jobs = [j for j in group if j.future.set_running_or_notify_cancel()]
            if not jobs:
                continue
            try:
                if conn is None:
                    conn = self._open()
            except BaseException as exc:
                for job in jobs:
                    job.future.set_exception(translate(exc))
                continue
            self._run_group(conn, jobs)
        if conn is not None:
            conn.close()

    @staticmethod
    def _attempt(
        conn: sqlite3.Connection, jobs: list[_WriteJob[Any]]
    ) -> tuple[_Outcomes, BaseException | None]:
        """Run `jobs` in one transaction; a group failure means nothing was committed."""
        outcomes: _Outcomes = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for job in jobs:
                conn.execute("SAVEPOINT job")
                try:
                    value = job.fn(conn)
                except Exception as exc:
                    if not conn.in_transaction:
                        return [], exc  # SQLite rolled everything back (corruption, I/O)
                    conn.execute("ROLLBACK TO job")
                    conn.execute("RELEASE job")
                    outcomes.append((job, None, exc))
                else:
                    conn.execute("RELEASE job")
                    outcomes.append((job, value, None))
            conn.execute("COMMIT")
        except BaseException as exc:
            # BEGIN, a savepoint or COMMIT failed (lock timeout, disk full, I/O error,
            # a corrupt index merging at COMMIT): nothing of the group was committed.
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            return [], exc
        return outcomes, None

    def _run_group(self, conn: sqlite3.Connection, jobs: list[_WriteJob[Any]]) -> None:
        outcomes, failure = self._attempt(conn, jobs)
        if failure is not None:
            error = translate(failure)
            for job in jobs:
                job.future.set_exception(error)
            return
        for job, value, exc in outcomes:
            if exc is None:
                job.future.set_result(value)
            else:
                job.future.set_exception(translate(exc))


class DbExecutor:
    """Owns the connections and threads of one store."""

    def __init__(
        self,
        db_path: Path,
        *,
        synchronous_full: bool,
        readers: int = 3,
        attach: Mapping[str, Path] | None = None,
    ) -> None:
        self._path = db_path
        self._sync_full = synchronous_full
        self._attach = dict(attach or {})
        self._writer = _Writer(lambda: connect(db_path, synchronous_full=synchronous_full))
        self._reader_pool = ThreadPoolExecutor(readers, thread_name_prefix="buzon-db-reader")
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self._path, synchronous_full=self._sync_full)
            for name, path in self._attach.items():  # readers also read these databases
                conn.execute("ATTACH DATABASE ? AS ?", (str(path), name))
            self._local.conn = conn
            with self._lock:
                self._conns.append(conn)
        return conn

    def _read_job(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        try:
            return run_in_transaction(self._conn(), "BEGIN", fn)
        except BaseException as exc:
            raise translate(exc) from exc

    def _plain_job(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except BaseException as exc:
            raise translate(exc) from exc

    async def write(self, fn: Callable[[sqlite3.Connection], T], *, exclusive: bool = False) -> T:
        """Run `fn` in a write transaction on the writer thread; return after COMMIT.

        `fn` may share its transaction with other jobs queued at the same moment (inside
        its own savepoint), so it must not commit or depend on running alone. With
        `exclusive` it runs alone: for jobs with effects outside the database (unlinking
        files) that must only act on state committed by earlier transactions.
        """
        if self._closed:
            raise Temporary("store is closed")
        future = self._writer.submit(fn, exclusive)
        return await asyncio.wrap_future(future)

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` in a read transaction on a reader thread."""
        if self._closed:
            raise Temporary("store is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._reader_pool, self._read_job, fn)

    async def io(self, fn: Callable[[], T]) -> T:
        """Run blocking non-database work (parsing, writing files) off the loop.

        It uses the loop's default executor so that parsing a large message does not hold
        up the database threads.
        """
        if self._closed:
            raise Temporary("store is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self._plain_job, fn)

    def close(self) -> None:
        """Wait for queued jobs, then close every connection."""
        if self._closed:
            return
        self._closed = True
        self._writer.stop()
        self._reader_pool.shutdown(wait=True)
        with self._lock:
            for conn in self._conns:
                conn.close()
            self._conns.clear()
