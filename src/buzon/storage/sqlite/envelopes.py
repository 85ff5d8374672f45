"""Envelopes as the server last rendered them, and message bytes read a batch at a time.

Theory of operation
-------------------
`FETCH 1:* (ENVELOPE)` on a large mailbox used to rebuild every envelope from the stored
MIME structure (`contents.structure`, parsed back with `load_envelope`) and render it
again: about 70 µs a message. The rendering depends on the content alone, and contents
are immutable, so the server keeps it (migration 9): table `envelopes` holds, by content
id, the bytes the imap layer rendered the first time a client fetched the envelope,
opaque to the storage, which does not import the imap layer (ARCHITECTURE.md, layering).
A UID names one content for ever (UIDs are never reused in a mailbox incarnation,
contents never change, content ids are never reused), so a kept rendering is never
stale; it goes with its content (ON DELETE CASCADE). Keeping one is a cache write, not a
change of the mailbox, allowed on read-only handles (as `previews.py` does). A table of
its own rather than a column of `contents`: its rows are small to read, and keeping one
does not rewrite a contents row with its inline message bytes.

`read_messages` is `Mailbox.read_message` for a batch: one query for the batch, the files
of the large ones read in the same reader job. One round trip to the reader pool per
batch instead of one per message; the caller bounds the batch (`cmd_fetch`).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Mapping, Sequence

from buzon.mime import Envelope, ParsedMessage, load_envelope
from buzon.storage.api import StorageError, Uid
from buzon.storage.sqlite import txn
from buzon.storage.sqlite.blobs import BlobStore
from buzon.storage.sqlite.context import Backend

__all__ = ["envelopes", "keep_envelopes", "read_headers", "read_messages"]


async def envelopes(
    backend: Backend, mailbox_id: int, uids: Sequence[Uid]
) -> dict[Uid, bytes | Envelope]:
    """The kept rendering of each existing message among `uids`, else its Envelope."""

    def job(conn: sqlite3.Connection) -> dict[Uid, bytes | Envelope]:
        txn.mailbox_by_id(conn, mailbox_id)
        clause, params = txn.uid_clause("m.uid", uids)
        rows = conn.execute(
            "SELECT m.uid, e.data, CASE WHEN e.data IS NULL THEN"
            " (SELECT structure FROM contents WHERE id = m.content_id) END"
            " FROM messages m LEFT JOIN envelopes e ON e.content_id = m.content_id"
            f" WHERE m.mailbox_id = ? AND {clause}",
            (mailbox_id, *params),
        )
        out: dict[Uid, bytes | Envelope] = {}
        for uid, kept, structure in rows:
            if kept is not None:
                out[uid] = kept
            elif structure is not None:
                out[uid] = load_envelope(structure)
        return out

    return await backend.executor.read(job)


async def keep_envelopes(backend: Backend, mailbox_id: int, rendered: Mapping[Uid, bytes]) -> None:
    """Keep renderings for later `envelopes` calls; best effort (a cache)."""
    if not rendered:
        return
    rows = [(data, mailbox_id, uid) for uid, data in rendered.items()]

    def job(conn: sqlite3.Connection) -> None:
        conn.executemany(
            "INSERT OR IGNORE INTO envelopes (content_id, data)"
            " SELECT content_id, ? FROM messages WHERE mailbox_id = ? AND uid = ?",
            rows,
        )

    with contextlib.suppress(StorageError):  # the next FETCH renders them again
        await backend.executor.write(job)


async def read_messages(backend: Backend, mailbox_id: int, uids: Sequence[Uid]) -> dict[Uid, bytes]:
    """The bytes of each existing message among `uids` (absent: expunged)."""
    blobs = backend.blobs

    def job(conn: sqlite3.Connection) -> dict[Uid, bytes]:
        txn.mailbox_by_id(conn, mailbox_id)
        clause, params = txn.uid_clause("m.uid", uids)
        rows = conn.execute(
            "SELECT m.uid, c.sha256, c.inline FROM messages m JOIN contents c"
            f" ON c.id = m.content_id WHERE m.mailbox_id = ? AND {clause}",
            (mailbox_id, *params),
        ).fetchall()
        out: dict[Uid, bytes] = {}
        for uid, digest, inline in rows:
            data = _stored(blobs, digest, inline)
            if data is not None:
                out[uid] = data
        return out

    return await backend.executor.read(job)


def _stored(blobs: BlobStore, digest: bytes, inline: bytes | None) -> bytes | None:
    """A content's bytes, kept in the database or in its file; None when the file is
    gone (expunged and swept by another session after our snapshot)."""
    if inline is not None:
        return inline
    try:
        return blobs.read(digest)
    except FileNotFoundError:
        return None


async def read_headers(
    backend: Backend, mailbox_id: int, uids: Sequence[Uid]
) -> dict[Uid, tuple[bytes, bool]]:
    """Each existing message's header (blank line included) and whether its body is empty,
    from `msg_headers` (absent: expunged). A content stored before that table gets its
    row now, from its bytes and structure: the first such FETCH reads the files, later
    ones do not."""
    blobs = backend.blobs
    found: list[tuple[int, bytes, int]] = []  # rows for msg_headers, made here

    def job(conn: sqlite3.Connection) -> dict[Uid, tuple[bytes, bool]]:
        txn.mailbox_by_id(conn, mailbox_id)
        clause, params = txn.uid_clause("m.uid", uids)
        # The content's bytes and structure only where no header is kept.
        rows = conn.execute(
            "SELECT m.uid, h.header, h.body_empty, m.content_id, c.sha256,"
            " CASE WHEN h.header IS NULL THEN c.inline END,"
            " CASE WHEN h.header IS NULL THEN c.structure END"
            " FROM messages m JOIN contents c ON c.id = m.content_id"
            " LEFT JOIN msg_headers h ON h.content_id = m.content_id"
            f" WHERE m.mailbox_id = ? AND {clause}",
            (mailbox_id, *params),
        ).fetchall()
        out: dict[Uid, tuple[bytes, bool]] = {}
        for uid, kept, body_empty, content_id, digest, inline, structure in rows:
            if kept is not None:
                out[uid] = (kept, bool(body_empty))
                continue
            data = _stored(blobs, digest, inline)
            if data is None:
                continue
            root = ParsedMessage.loads(structure).root
            header = data[root.header_start : root.body_start]
            empty = root.body_start >= root.body_end
            out[uid] = (header, empty)
            found.append((content_id, header, int(empty)))
        return out

    def keep(conn: sqlite3.Connection) -> None:
        # OR IGNORE: the content may be gone, or kept by a concurrent FETCH, meanwhile.
        conn.executemany(
            "INSERT OR IGNORE INTO msg_headers (content_id, header, body_empty)"
            " SELECT id, ?, ? FROM contents WHERE id = ?",
            [(header, empty, content_id) for content_id, header, empty in found],
        )

    result = await backend.executor.read(job)
    if found:
        with contextlib.suppress(StorageError):  # a later FETCH keeps them
            await backend.executor.write(keep)
    return result
