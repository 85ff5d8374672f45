"""The per-content search fields: writing, backfill, recomputing.

Theory of operation
-------------------
`msg_fields` (sort and date keys) and `msg_text` (folded header and body text) hold one
row per stored content, written in the transaction that inserts the content (`store`), so
COPY, which shares the content, costs nothing. A trigger on `contents` drops both rows
when the last reference goes. Triggers on `msg_text` queue each new text for the trigram
full-text index and each removed one for taking out (`fts_pending`, `fts_forget`); the
index itself lives in a database file of its own, fed by its own thread (`ftsdb.py`).

The index is an accelerator only: searches check the texts it has not reached
(`search.py`). `meta.fts_ok` says whether it may be used; a search that finds the index
missing or corrupt logs once and scans instead.

`backfill` fills the rows of contents stored before these tables existed (at open, after
the migration); `recompute` recomputes the rows of one user's contents (or all) from the
stored bytes and structure: `buzon index rebuild [USER]`, which then rebuilds the index.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Callable

from buzon.mime import ParsedMessage
from buzon.storage.fields import MessageFields, compute
from buzon.storage.sqlite.blobs import BlobStore

__all__ = ["backfill", "fts_ok", "pending", "recompute", "store"]

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


def pending(conn: sqlite3.Connection) -> set[int]:
    """Contents whose text is not in the FTS index yet: search checks them all."""
    return {int(r[0]) for r in conn.execute("SELECT content_id FROM fts_pending")}


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


def backfill(conn: sqlite3.Connection, blobs: BlobStore) -> int:
    """Compute the missing rows (contents stored before migration 4); in a transaction."""
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


def recompute(
    conn: sqlite3.Connection,
    blobs: BlobStore,
    user: str | None = None,
    progress: Progress | None = None,
) -> int:
    """Recompute the fields of `user`'s contents (all when None), in a write transaction.

    Returns how many contents were done. The triggers queue the new texts for the index.
    """
    if user is None:
        rows = conn.execute("SELECT id FROM contents ORDER BY id")
    else:
        rows = conn.execute(
            "SELECT DISTINCT m.content_id FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id"
            " JOIN users u ON u.id = b.user_id WHERE u.name = ? ORDER BY m.content_id",
            (user,),
        )
    return _fill(conn, blobs, [int(r[0]) for r in rows], progress)
