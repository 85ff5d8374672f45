"""Appending messages: the work before the transaction, and the rows written in it.

Theory of operation
-------------------
An append is two steps. `prepare` runs outside any transaction (on a worker thread, or
on the loop itself for a few small messages: `prepare_soon`): it parses each message once
(`analyse.py`: MIME structure, search fields, preview), hashes it, and writes the files of
the messages too large to keep in the database (their fsyncs in parallel, `blobs.py`), so
that the files are durable before the commit that references them. `append_rows` runs
inside a write transaction: the quota check, one `contents` row per new content (a
content already stored is shared: its reference count grows), the search fields, the
thread of each message, and the message rows with their UIDs and modseq.
`SqliteMailbox.append`, `import_messages` and REPLACE use both steps;
`SqliteAccount.append` looks the mailbox up while `prepare` runs.

When the transaction fails, `forget_files` offers the files written for it to the sweep,
which removes those that no committed row references.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from buzon.storage.api import AppendRequest, Checkpoint, CopyResult, StorageError
from buzon.storage.fields import MessageFields
from buzon.storage.sqlite import flags as fl
from buzon.storage.sqlite import index, objectid, quota, txn
from buzon.storage.sqlite.context import Backend

__all__ = ["Appended", "Prepared", "append_rows", "forget_files", "prepare", "prepare_soon"]


@dataclass(frozen=True, slots=True)
class Prepared:
    """An AppendRequest parsed and hashed off the loop, its file written if large."""

    digest: bytes
    data: bytes
    inline: bool
    structure: bytes
    sysflags: int
    keywords: list[str]
    internal_date: str
    fields: MessageFields  # search and sort fields (storage/fields.py)
    preview: str  # RFC 8970 (mime/preview.py)
    header: bytes  # the header with its blank line, kept for FETCH of header fields
    body_empty: bool


@dataclass(frozen=True, slots=True)
class Appended:
    result: CopyResult
    notices: tuple[tuple[int, int], ...]  # (mailbox id, modseq) to publish


def prepare(backend: Backend, messages: Sequence[AppendRequest]) -> list[Prepared]:
    """Parse, hash and (for large messages) write the files: before the transaction."""
    out: list[Prepared] = []
    contents = [bytes(req.content) for req in messages]
    analyses = backend.analyser.run(contents)  # parse, fields, preview: analyse.py
    for req, data, found in zip(messages, contents, analyses, strict=True):
        bits, keywords = fl.split_flags(req.flags)
        date = req.internal_date if req.internal_date is not None else txn.now_utc()
        out.append(
            Prepared(
                digest=hashlib.sha256(data).digest(),
                data=data,
                inline=len(data) <= backend.inline_limit,
                structure=found.structure,
                sysflags=bits,
                keywords=keywords,
                internal_date=txn.encode_date(date),
                fields=found.fields,
                preview=found.preview,
                header=data[found.header[0] : found.header[1]],
                body_empty=found.body_empty,
            )
        )
    # The files of the whole batch, their fsyncs in parallel (blobs.py).
    backend.blobs.write_many([(p.digest, p.data) for p in out if not p.inline])
    return out


# Messages this small in all are parsed on the event loop: about a millisecond of CPU at
# most, less than the two thread switches of `executor.io` cost a single client, and no
# file is written for them (ARCHITECTURE.md: the loop never blocks on disk).
PARSE_ON_LOOP_BYTES = 65536


async def prepare_soon(backend: Backend, messages: Sequence[AppendRequest]) -> list[Prepared]:
    """`prepare`, on the loop for a few small messages, else on a worker thread."""
    sizes = [len(m.content) for m in messages]
    if sum(sizes) <= PARSE_ON_LOOP_BYTES and max(sizes, default=0) <= backend.inline_limit:
        await asyncio.sleep(0)  # first let a task started just before (a lookup) submit
        return prepare(backend, messages)
    return await backend.executor.io(partial(prepare, backend, messages))


def append_rows(
    conn: sqlite3.Connection,
    backend: Backend,
    mailbox_id: int,
    user_id: int,
    prepared: list[Prepared],
    *,
    wanted: Sequence[int] | None = None,
    uidnext: int = 0,
    checkpoint: Checkpoint | None = None,
) -> Appended:
    """Store `prepared` in the mailbox (inside the caller's write transaction)."""
    mb = txn.mailbox_by_id(conn, mailbox_id)
    # RFC 9208 §4.3.1: refused before anything changes, in the transaction that appends.
    quota.check(conn, user_id, len(prepared), sum(len(p.data) for p in prepared))
    if checkpoint is not None:
        conn.execute(
            "INSERT OR REPLACE INTO import_positions (user_id, source, position) VALUES (?, ?, ?)",
            (user_id, checkpoint.source, checkpoint.position),
        )
    save = txn.encode_date(txn.now_utc())
    new: list[txn.NewMessage] = []
    threads = objectid.ThreadResolver(conn, mb.user_id)
    threads.preload(
        [k for p in prepared for k in (p.fields.message_id or "", *p.fields.references) if k]
    )
    for p in prepared:
        row = conn.execute(
            "SELECT id, emailid FROM contents WHERE sha256 = ?", (p.digest,)
        ).fetchone()
        if row is not None:
            content_id = int(row[0])
            emailid = str(row[1])
            conn.execute("UPDATE contents SET refcount = refcount + 1 WHERE id = ?", (content_id,))
        else:
            if not p.inline:
                # Under the write lock: a sweep may have removed a file we found present.
                backend.blobs.ensure(p.digest, p.data)
            emailid = objectid.new_id("M")
            cur = conn.execute(
                "INSERT INTO contents (sha256, size, inline, structure, refcount, emailid,"
                " preview) VALUES (?, ?, ?, ?, 1, ?, ?)",
                (
                    p.digest,
                    len(p.data),
                    p.data if p.inline else None,
                    p.structure,
                    emailid,
                    p.preview,
                ),
            )
            assert cur.lastrowid is not None
            content_id = cur.lastrowid
            index.store(conn, content_id, p.fields)
            conn.execute(
                "INSERT INTO msg_headers (content_id, header, body_empty) VALUES (?, ?, ?)",
                (content_id, p.header, int(p.body_empty)),
            )
        own = objectid.own_key(p.fields.message_id, emailid)
        # Only a known content without Message-ID can have a key the preload missed.
        thread = threads.assign(
            own, p.fields.references, look_up_own=row is not None and not p.fields.message_id
        )
        new.append(
            txn.NewMessage(
                content_id, len(p.data), p.sysflags, p.keywords, p.internal_date, save, thread
            )
        )
    threads.flush()
    uids, modseq = txn.insert_messages(conn, mb, new, wanted=wanted)
    if uidnext:
        # Raising UIDNEXT alone changes no message, so it takes no modseq of its own.
        conn.execute(
            "UPDATE mailboxes SET uidnext = max(uidnext, ?) WHERE id = ?", (uidnext, mb.id)
        )
    notices = ((mb.id, modseq),) if uids else ()
    return Appended(CopyResult(mb.uidvalidity, (), tuple(uids)), notices)


async def forget_files(backend: Backend, prepared: Sequence[Prepared]) -> None:
    """After a failed transaction: let the sweep remove the files written for it."""
    files = [p.digest for p in prepared if not p.inline]
    if files:
        with contextlib.suppress(StorageError):  # an orphan file costs only space
            await backend.executor.write(
                partial(txn.sweep_candidates, blobs=backend.blobs, digests=files),
                exclusive=True,
            )
