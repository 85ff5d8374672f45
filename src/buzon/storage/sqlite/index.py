"""The per-content search fields and the FTS5 trigram index: writing, backfill, rebuild.

Theory of operation
-------------------
`msg_fields` (sort and date keys) and `msg_text` (folded header and body text) hold one
row per stored content, written in the transaction that inserts the content (`store`), so
COPY, which shares the content, costs nothing. `msg_fts` is an external-content FTS5
table over `msg_text` with the trigram tokenizer; triggers keep it in step with
`msg_text`, and a trigger on `contents` drops both rows when the last reference goes.

The index is an accelerator only: every match it reports is checked exactly against
`msg_text` (`search.py`). `meta.fts_ok` says whether it may be used: `rebuild` clears it
while it works and sets it when done; a search that finds the index missing or corrupt
logs once and scans instead.

A corrupt index must not break writes either: FTS5 reports corruption of its shadow tables
as SQLITE_CORRUPT_VTAB, from an expunge's 'delete' trigger, from the indexer, or only at
COMMIT when it merges segments. The writer (`executor.py`) then calls `disable_if_corrupt`
in a transaction of its own, which clears `meta.fts_ok` and replaces the delete trigger by
one that leaves `msg_fts` alone, and runs the failed writes again. Searches scan from then
on (exact, only slower), the indexer stops feeding the index, and `rebuild` restores the
index and its triggers.

`backfill` fills the rows of contents stored before these tables existed (at open, after
the migration); `rebuild` recomputes the rows of one user's contents (or all) from the
stored bytes and structure, then rebuilds the FTS index: `buzon index rebuild [USER]`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import sqlite3
from collections.abc import Awaitable, Callable

from buzon.mime import ParsedMessage
from buzon.storage.fields import MessageFields, compute
from buzon.storage.sqlite.blobs import BlobStore

__all__ = ["backfill", "disable_if_corrupt", "fts_ok", "rebuild", "store"]

log = logging.getLogger("buzon.storage.index")

# `msg_fields.sent_key`: the Date: header in microseconds since the epoch (migration 10).
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)

Progress = Callable[[int, int], None]


def store(conn: sqlite3.Connection, content_id: int, f: MessageFields) -> None:
    """Write the fields of a newly inserted content (inside its transaction)."""
    conn.execute(
        "INSERT OR REPLACE INTO msg_fields (content_id, sent, sent_key, sent_day, base_subject,"
        " is_reply, from_mailbox, from_display, to_mailbox, to_display, cc_mailbox, message_id,"
        " refs) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            content_id,
            None if f.sent is None else f.sent.isoformat(),
            None if f.sent is None else (f.sent - _EPOCH) // _MICROSECOND,
            None if f.sent_day is None else f.sent_day.isoformat(),
            f.base_subject,
            int(f.is_reply),
            f.from_mailbox,
            f.from_display,
            f.to_mailbox,
            f.to_display,
            f.cc_mailbox,
            f.message_id,
            " ".join(f.references),
        ),
    )
    conn.execute("DELETE FROM msg_text WHERE content_id = ?", (content_id,))
    conn.execute(
        "INSERT INTO msg_text (content_id, headers, body) VALUES (?, ?, ?)",
        (content_id, searchable(f.headers), searchable(f.body)),
    )


def searchable(text: str) -> str:
    """`text` as stored for search: NUL (excluded from `text` by RFC 5322 §3.5, obsolete
    by §4.1) becomes U+FFFD, as undecodable bytes do, because FTS5's trigram tokenizer stops at
    NUL and would leave the rest of the text unindexed. Searches use the index's answer
    as the result (search.py), so the index must hold all the text the scan tests."""
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


def fts_ok(conn: sqlite3.Connection) -> bool:
    """Whether the FTS index is complete and may be used."""
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'fts_ok'").fetchone()
    except sqlite3.DatabaseError:
        return False
    return row is None or int(row[0]) == 1  # absent: never broken since the migration


def _set_fts_ok(conn: sqlite3.Connection, ok: bool) -> None:
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('fts_ok', ?)", (int(ok),))


SQLITE_CORRUPT_VTAB = 267  # SQLITE_CORRUPT | (1 << 8): "content in the virtual table is corrupt"

# While the index is disabled, removing a text only forgets that it was pending.
_DISABLED_DELETE = (
    "CREATE TRIGGER msg_text_delete AFTER DELETE ON msg_text BEGIN"
    " DELETE FROM fts_pending WHERE content_id = old.content_id; END"
)


def is_fts_corruption(exc: BaseException) -> bool:
    """Whether `exc` is FTS5 reporting a corrupt index (msg_fts is the only virtual table)."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    return code == SQLITE_CORRUPT_VTAB or "fts5" in str(exc).lower()


def disable_if_corrupt(conn: sqlite3.Connection, exc: BaseException) -> bool:
    """Take a corrupt FTS index out of every write path; True when something changed.

    Run by the writer in a transaction of its own after a write failed with `exc`
    (`executor.py`); the failed writes are then retried. Until `rebuild`, searches scan.
    """
    if not is_fts_corruption(exc):
        return False
    row = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'msg_text_delete'"
    ).fetchone()
    feeds_index = row is not None and "msg_fts" in str(row[0])
    if not feeds_index and not fts_ok(conn):
        return False  # already disabled: the failure is something else
    log.error(
        "full-text index corrupt (%s): disabled; searches scan until `buzon index rebuild`", exc
    )
    _set_fts_ok(conn, False)
    conn.execute("DROP TRIGGER IF EXISTS msg_text_delete")
    conn.execute(_DISABLED_DELETE)
    return True


def _fields_of(conn: sqlite3.Connection, blobs: BlobStore, content_id: int) -> MessageFields:
    sha, inline, structure = conn.execute(
        "SELECT sha256, inline, structure FROM contents WHERE id = ?", (content_id,)
    ).fetchone()
    raw = bytes(inline) if inline is not None else blobs.read(bytes(sha))
    return compute(raw, ParsedMessage.loads(bytes(structure)))


def _fill(
    conn: sqlite3.Connection, blobs: BlobStore, ids: list[int], progress: Progress | None
) -> int:
    done = 0
    for cid in ids:
        try:
            fields = _fields_of(conn, blobs, cid)
        except (OSError, ValueError) as exc:
            log.warning("cannot index content %d: %s", cid, exc)
            continue
        store(conn, cid, fields)
        done += 1
        if progress is not None:
            progress(done, len(ids))
    return done


def _ensure_index(conn: sqlite3.Connection) -> None:
    """A missing FTS table is recreated empty and marked unusable until `rebuild`.

    Its delete trigger goes too (a 'delete' of a row the index never held would corrupt
    it), so deliveries and expunges keep working; `rebuild` restores both.
    """
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'msg_fts'").fetchone():
        return
    log.warning("full-text index missing; searches scan until `buzon index rebuild`")
    conn.execute("DROP TRIGGER IF EXISTS msg_text_delete")
    conn.execute(
        "CREATE VIRTUAL TABLE msg_fts USING fts5(headers, body, content='msg_text',"
        " content_rowid='content_id', tokenize='trigram case_sensitive 1')"
    )
    _set_fts_ok(conn, False)


def backfill(conn: sqlite3.Connection, blobs: BlobStore) -> int:
    """Compute the missing rows (contents stored before migration 4); in a transaction."""
    _ensure_index(conn)
    ids = [
        int(r[0])
        for r in conn.execute(
            "SELECT c.id FROM contents c LEFT JOIN msg_fields f ON f.content_id = c.id"
            " WHERE f.content_id IS NULL ORDER BY c.id"
        )
    ]
    if ids:
        log.info("indexing %d stored messages for search", len(ids))
    return _fill(conn, blobs, ids, None)


def rebuild(
    conn: sqlite3.Connection,
    blobs: BlobStore,
    user: str | None = None,
    progress: Progress | None = None,
) -> int:
    """Recompute the fields of `user`'s contents (all when None) and rebuild the FTS index.

    Runs in one write transaction; returns how many contents were indexed. The FTS index is
    dropped and recreated from `msg_text`, which also mends a corrupt index.
    """
    if user is None:
        rows = conn.execute("SELECT id FROM contents ORDER BY id")
    else:
        rows = conn.execute(
            "SELECT DISTINCT m.content_id FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id"
            " JOIN users u ON u.id = b.user_id WHERE u.name = ? ORDER BY m.content_id",
            (user,),
        )
    ids = [int(r[0]) for r in rows]
    _set_fts_ok(conn, False)
    # Without the index and its triggers while the text is rewritten: a 'delete' sent to
    # an index that never held the row would corrupt it.
    for trigger in _TRIGGERS:
        conn.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    _drop_index(conn)
    done = _fill(conn, blobs, ids, progress)
    conn.execute(
        "CREATE VIRTUAL TABLE msg_fts USING fts5(headers, body, content='msg_text',"
        " content_rowid='content_id', tokenize='trigram case_sensitive 1')"
    )
    for sql in _TRIGGERS.values():
        conn.execute(sql)
    conn.execute("INSERT INTO msg_fts (msg_fts) VALUES ('rebuild')")
    conn.execute("DELETE FROM fts_pending")  # 'rebuild' indexed every text
    _set_fts_ok(conn, True)
    return done


def _drop_index(conn: sqlite3.Connection) -> None:
    """Drop `msg_fts`, also when it is too corrupt for FTS5 to open it."""
    try:
        conn.execute("DROP TABLE IF EXISTS msg_fts")
    except sqlite3.DatabaseError as exc:
        # FTS5 reads its structure record to open (and so to drop) the table: give it the
        # records of a new empty index, taken from a blank twin.
        log.warning("full-text index unreadable (%s): blanking it before dropping it", exc)
        conn.execute("DROP TABLE IF EXISTS msg_fts_blank")
        conn.execute(f"CREATE VIRTUAL TABLE msg_fts_blank USING {_FTS_ARGS}")
        conn.execute("DELETE FROM msg_fts_data")
        conn.execute("DELETE FROM msg_fts_idx")
        conn.execute("INSERT INTO msg_fts_data SELECT * FROM msg_fts_blank_data")
        conn.execute("DROP TABLE msg_fts_blank")
        conn.execute("DROP TABLE msg_fts")


_FTS_ARGS = (
    "fts5(headers, body, content='msg_text', content_rowid='content_id',"
    " tokenize='trigram case_sensitive 1')"
)


# The same triggers as migration 5 (schema.py) creates.
_TRIGGERS = {
    "msg_text_insert": "CREATE TRIGGER msg_text_insert AFTER INSERT ON msg_text BEGIN"
    " INSERT OR IGNORE INTO fts_pending (content_id) VALUES (new.content_id); END",
    "msg_text_delete": "CREATE TRIGGER msg_text_delete AFTER DELETE ON msg_text BEGIN"
    " INSERT INTO msg_fts (msg_fts, rowid, headers, body)"
    " SELECT 'delete', old.content_id, old.headers, old.body"
    " WHERE NOT EXISTS (SELECT 1 FROM fts_pending WHERE content_id = old.content_id);"
    " DELETE FROM fts_pending WHERE content_id = old.content_id; END",
}


def pending(conn: sqlite3.Connection) -> set[int]:
    """Contents whose text is not in the FTS index yet: search checks them all."""
    return {int(r[0]) for r in conn.execute("SELECT content_id FROM fts_pending")}


def index_pending(conn: sqlite3.Connection, limit: int) -> int:
    """Move up to `limit` pending texts into the FTS index (in a write transaction)."""
    if not fts_ok(conn):
        return 0  # an index being rebuilt or unusable is not fed; rebuild indexes all
    rows = conn.execute(
        "SELECT p.content_id, t.headers, t.body FROM fts_pending p"
        " JOIN msg_text t ON t.content_id = p.content_id ORDER BY p.content_id LIMIT ?",
        (limit,),
    ).fetchall()
    if rows:
        conn.executemany("INSERT INTO msg_fts (rowid, headers, body) VALUES (?, ?, ?)", rows)
        conn.executemany("DELETE FROM fts_pending WHERE content_id = ?", [(r[0],) for r in rows])
    return len(rows)


class Indexer:
    """Feeds the FTS index after deliveries, in batches, off the delivering transaction.

    Indexing each message in the transaction that stores it made single-client APPEND
    four times slower (docs/performance.md, runs A and B): FTS5 writes a segment per
    transaction. Deliveries `kick` the indexer; it waits a moment so that a burst of
    deliveries is indexed in a few large batches, then drains `fts_pending` in small batches.
    """

    # Small enough that a delivery queued behind a batch waits a fraction of a second.
    BATCH = 100
    DELAY = 0.2

    def __init__(self, write: Callable[[Callable[[sqlite3.Connection], int]], Awaitable[int]]):
        self._write = write
        self._wanted = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def kick(self) -> None:
        self._wanted.set()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            await self._wanted.wait()
            self._wanted.clear()
            await asyncio.sleep(self.DELAY)
            try:
                # A full batch means a backlog: go on. A partial one took everything that
                # was pending; texts delivered since have kicked again, so they wait for
                # the next DELAY instead of being chased one or two per transaction (each
                # FTS5 transaction adds a segment and a commit's fsync; with one client
                # appending, 300 APPENDs now take ~5 index transactions instead of ~35).
                while await self._write(lambda conn: index_pending(conn, self.BATCH)) >= self.BATCH:
                    await asyncio.sleep(0)  # let queued deliveries and commands go first
            except Exception:
                # Searches stay exact without the index (pending texts are scanned).
                log.exception("indexing new messages failed; they are searched by scanning")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
