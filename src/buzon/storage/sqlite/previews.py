"""RFC 8970 previews of messages stored before previews existed (migration 7).

New contents get their preview at delivery (`SqliteMailbox._prepare`). An older content
has `contents.preview` NULL: FETCH PREVIEW (LAZY) answers NIL for it, FETCH PREVIEW
computes it here from the stored bytes and structure and stores it, so each is computed
once, when a client first wants it, rather than all at open (which would read every
message file of the store).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from functools import partial

from buzon.mime import ParsedMessage
from buzon.mime.preview import preview
from buzon.storage.api import NotFound, StorageError, Uid
from buzon.storage.sqlite import txn
from buzon.storage.sqlite.context import Backend

__all__ = ["previews"]


async def previews(
    backend: Backend,
    mailbox_id: int,
    uids: Sequence[Uid],
    read_message: Callable[[Uid], Awaitable[bytes]],
) -> dict[Uid, str]:
    """Stored previews of the existing messages among `uids`; missing ones computed."""

    def read(conn: sqlite3.Connection) -> list[tuple[int, int, str | None, bytes | None]]:
        txn.mailbox_by_id(conn, mailbox_id)
        clause, params = txn.uid_clause("m.uid", uids)
        rows: list[tuple[int, int, str | None, bytes | None]] = conn.execute(
            "SELECT m.uid, m.content_id, c.preview, CASE WHEN c.preview IS NULL"
            " THEN c.structure END FROM messages m JOIN contents c ON c.id = m.content_id"
            f" WHERE m.mailbox_id = ? AND {clause}",
            (mailbox_id, *params),
        ).fetchall()
        return rows

    rows = await backend.executor.read(read)
    out = {Uid(uid): text for uid, _, text, _ in rows if text is not None}
    computed: list[tuple[str, int]] = []
    for uid, content_id, text, structure in rows:
        if text is not None or structure is None:
            continue
        try:
            raw = await read_message(Uid(uid))
        except NotFound:
            continue  # expunged meanwhile
        parsed = ParsedMessage.loads(bytes(structure))
        made = await backend.executor.io(partial(preview, raw, parsed))
        out[Uid(uid)] = made
        computed.append((made, content_id))
    if computed:
        # A cache of the content, not a change of the mailbox: read-only handles too.
        def store(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "UPDATE contents SET preview = ? WHERE id = ? AND preview IS NULL", computed
            )

        with contextlib.suppress(StorageError):  # only a cache: the next FETCH recomputes
            await backend.executor.write(store)
    return out
