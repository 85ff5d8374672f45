"""REPLACE's one transaction (RFC 8508 §3.4), for `SqliteMailbox.replace`.

The old message leaves first, its bytes still referenced, so the quota check of the
append (`appending.append_rows`) sees only the net change ("the quota implications of APPEND are
evaluated within the context of the pending EXPUNGE"); its reference is dropped after the
append, so identical new bytes share the old content row instead of losing it. Any
failure rolls the whole transaction back: both mailboxes stay as they were.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from typing import TYPE_CHECKING

from buzon.storage.api import AppendRequest, CopyResult, NotFound, StorageError, Uid
from buzon.storage.sqlite import appending, txn

if TYPE_CHECKING:
    from buzon.storage.sqlite.mailbox import SqliteMailbox

# The job's outcome: the result, (mailbox id, modseq) notices to publish, files trashed.
_Outcome = tuple[CopyResult, tuple[tuple[int, int], ...], int]


async def replace(
    source: SqliteMailbox, uid: Uid, dest: SqliteMailbox, message: AppendRequest
) -> CopyResult:
    """Expunge `uid` from `source` and append `message` to `dest`, atomically."""
    source._writable()
    dest._writable()
    backend = source._b
    prepared = await appending.prepare_soon(backend, [message])

    def job(conn: sqlite3.Connection) -> _Outcome:
        src = txn.mailbox_by_id(conn, source._id)
        row = conn.execute(
            "SELECT content_id FROM messages WHERE mailbox_id = ? AND uid = ?", (src.id, uid)
        ).fetchone()
        if row is None:
            raise NotFound(f"message {uid} is gone")
        gone, modseq, _ = txn.remove_messages(conn, src, [uid], release=False)
        added = appending.append_rows(conn, backend, dest._id, dest._user, prepared)
        trashed = txn.release_contents(conn, Counter({int(row[0]): 1}))
        result = CopyResult(added.result.uidvalidity, tuple(gone), added.result.dest_uids)
        return result, ((src.id, modseq), *added.notices), trashed

    try:
        result, notices, trashed = await backend.executor.write(job)
    except StorageError:
        await appending.forget_files(backend, prepared)
        raise
    source._publish(notices)
    backend.indexer.kick()
    if trashed:
        await backend.sweep()
    return result
