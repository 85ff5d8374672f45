"""Building blocks that run inside one SQLite transaction (on a DB thread).

Every function here takes the connection of a transaction already begun by
`DbExecutor`; none commits. Invariants they keep together:
- `mailboxes.uidnext`, `highest_modseq` and the counters (messages, unseen, deleted,
  size) change in the same transaction as the message rows;
- one operation takes one new modseq per mailbox (`highest_modseq + 1`), shared by the
  messages it changes;
- `contents.refcount` equals the number of message rows pointing at the content.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from buzon.storage.api import (
    INBOX,
    MailboxInfo,
    MailboxStatus,
    ModSeq,
    NotFound,
    StorageError,
    Uid,
)
from buzon.storage.sqlite import flags as fl
from buzon.storage.sqlite import objectid
from buzon.storage.sqlite.blobs import BlobStore

MAX_UIDVALIDITY = 2**32 - 1

MAILBOX_COLUMNS = (
    "id, user_id, name, selectable, special_use, uidvalidity, uidnext, highest_modseq,"
    " recent_mark, messages, unseen, deleted, size, objectid"
)


@dataclass(frozen=True, slots=True)
class MailboxRow:
    id: int
    user_id: int
    name: str
    selectable: bool
    special_use: frozenset[str]
    uidvalidity: int
    uidnext: int
    highest_modseq: int
    recent_mark: int
    messages: int
    unseen: int
    deleted: int
    size: int
    objectid: str  # RFC 8474 MAILBOXID (objectid.py); "" for a placeholder

    @classmethod
    def from_row(
        cls, r: tuple[int, int, str, int, str, int, int, int, int, int, int, int, int, str | None]
    ) -> MailboxRow:
        return cls(
            id=r[0],
            user_id=r[1],
            name=r[2],
            selectable=bool(r[3]),
            special_use=frozenset(r[4].split()),
            uidvalidity=r[5],
            uidnext=r[6],
            highest_modseq=r[7],
            recent_mark=r[8],
            messages=r[9],
            unseen=r[10],
            deleted=r[11],
            size=r[12],
            objectid=r[13] or "",
        )

    def info(self) -> MailboxInfo:
        return MailboxInfo(
            name=self.name,
            mailbox_id=str(self.id),
            selectable=self.selectable,
            special_use=self.special_use,
            objectid=self.objectid,
        )


# --- time and identifiers ------------------------------------------------------------------


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def encode_date(value: dt.datetime) -> str:
    if value.tzinfo is None:
        # Lenient: a naive date is taken as UTC rather than refused.
        value = value.replace(tzinfo=dt.UTC)
    return value.isoformat()


def decode_date(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def next_uidvalidity(conn: sqlite3.Connection) -> int:
    """A store-wide strictly increasing UIDVALIDITY seeded from the clock (RFC 9051 §2.3.1.1)."""
    (last,) = conn.execute("SELECT value FROM meta WHERE key = 'uidvalidity'").fetchone()
    value = max(int(last) + 1, int(time.time()))
    if value > MAX_UIDVALIDITY:
        value = int(last) + 1
    conn.execute("UPDATE meta SET value = ? WHERE key = 'uidvalidity'", (value,))
    return value


def uid_json(uids: Iterable[int]) -> str:
    """A JSON array parameter for `IN (SELECT value FROM json_each(?))`.

    One bound parameter whatever the number of UIDs: no SQLite variable limit, one query.
    """
    return json.dumps(sorted({int(u) for u in uids}))


MAX_RANGES = 8


def uid_clause(column: str, uids: Iterable[int]) -> tuple[str, list[int | str]]:
    """A WHERE term selecting `uids` in `column`, and its parameters.

    A few ranges (the usual "1:*" or "100:200") become BETWEEN terms the primary key
    serves directly; anything else is one JSON array parameter.
    """
    ordered = sorted({int(u) for u in uids})
    ranges: list[list[int]] = []
    for uid in ordered:
        if ranges and ranges[-1][1] == uid - 1:
            ranges[-1][1] = uid
        else:
            ranges.append([uid, uid])
            if len(ranges) > MAX_RANGES:
                return f"{column} IN (SELECT value FROM json_each(?))", [json.dumps(ordered)]
    if not ranges:
        return "0", []
    terms = " OR ".join(f"{column} BETWEEN ? AND ?" for _ in ranges)
    return f"({terms})", [bound for pair in ranges for bound in pair]


# --- users and mailboxes ---------------------------------------------------------------------


def user_id(conn: sqlite3.Connection, name: str) -> int | None:
    row = conn.execute("SELECT id FROM users WHERE name = ?", (name,)).fetchone()
    return None if row is None else int(row[0])


def require_user(conn: sqlite3.Connection, uid: int) -> None:
    if conn.execute("SELECT 1 FROM users WHERE id = ?", (uid,)).fetchone() is None:
        raise NotFound("the account no longer exists")


def mailbox_by_id(conn: sqlite3.Connection, mailbox_id: int) -> MailboxRow:
    """The selectable mailbox `mailbox_id`, or NotFound (deleted, or now a placeholder)."""
    row = conn.execute(
        f"SELECT {MAILBOX_COLUMNS} FROM mailboxes WHERE id = ? AND selectable = 1", (mailbox_id,)
    ).fetchone()
    if row is None:
        raise NotFound("the mailbox no longer exists")
    return MailboxRow.from_row(row)


def mailbox_by_name(conn: sqlite3.Connection, user: int, name: str) -> MailboxRow | None:
    row = conn.execute(
        f"SELECT {MAILBOX_COLUMNS} FROM mailboxes WHERE user_id = ? AND name = ?", (user, name)
    ).fetchone()
    return None if row is None else MailboxRow.from_row(row)


def insert_mailbox(
    conn: sqlite3.Connection, user: int, name: str, special_use: frozenset[str]
) -> int:
    cur = conn.execute(
        "INSERT INTO mailboxes (user_id, name, selectable, special_use, uidvalidity, objectid)"
        " VALUES (?, ?, 1, ?, ?, ?)",
        (user, name, " ".join(sorted(special_use)), next_uidvalidity(conn), objectid.new_id("F")),
    )
    assert cur.lastrowid is not None
    return cur.lastrowid


def all_uids(conn: sqlite3.Connection, mailbox_id: int) -> list[Uid]:
    """Every UID of a mailbox, ascending; one row back instead of one per message."""
    (text,) = conn.execute(
        "SELECT group_concat(uid) FROM messages WHERE mailbox_id = ?", (mailbox_id,)
    ).fetchone()
    if not text:
        return []
    uids: list[Uid] = list(map(Uid, map(int, text.split(","))))
    uids.sort()  # group_concat's order is not guaranteed; timsort on sorted input is O(n)
    return uids


def recent_count(conn: sqlite3.Connection, mb: MailboxRow) -> int:
    (n,) = conn.execute(
        "SELECT count(*) FROM messages WHERE mailbox_id = ? AND uid > ?", (mb.id, mb.recent_mark)
    ).fetchone()
    return int(n)


def deleted_size(conn: sqlite3.Connection, mb: MailboxRow) -> int:
    """Octets of the \\Deleted messages (RFC 9208 §4.1.4 DELETED-STORAGE)."""
    if mb.deleted == 0:
        return 0
    (n,) = conn.execute(
        "SELECT coalesce(sum(c.size), 0) FROM messages m JOIN contents c ON c.id = m.content_id"
        " WHERE m.mailbox_id = ? AND (m.sysflags & 8) != 0",
        (mb.id,),
    ).fetchone()
    return int(n)


def status_of(conn: sqlite3.Connection, mb: MailboxRow) -> MailboxStatus:
    return MailboxStatus(
        messages=mb.messages,
        recent=recent_count(conn, mb),
        unseen=mb.unseen,
        deleted=mb.deleted,
        size=mb.size,
        uidnext=Uid(mb.uidnext),
        uidvalidity=mb.uidvalidity,
        highest_modseq=ModSeq(mb.highest_modseq),
        deleted_size=deleted_size(conn, mb),
        objectid=mb.objectid,
    )


def canonical_keywords(
    conn: sqlite3.Connection, mailbox_id: int, keywords: Iterable[str], cache: dict[str, str]
) -> list[str]:
    """Map keywords to the mailbox's first spelling, registering new ones (for FLAGS)."""
    out: list[str] = []
    for kw in keywords:
        folded = fl.fold(kw)
        canon = cache.get(folded)
        if canon is None:
            row = conn.execute(
                "SELECT keyword FROM mailbox_keywords WHERE mailbox_id = ? AND folded = ?",
                (mailbox_id, folded),
            ).fetchone()
            if row is None:
                conn.execute(
                    "INSERT INTO mailbox_keywords (mailbox_id, folded, keyword) VALUES (?, ?, ?)",
                    (mailbox_id, folded, kw),
                )
                canon = kw
            else:
                canon = str(row[0])
            cache[folded] = canon
        out.append(canon)
    return out


# --- messages -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message row to insert: content already referenced (refcount counted by caller)."""

    content_id: int
    size: int
    sysflags: int
    keywords: list[str]
    internal_date: str
    save_date: str
    thread: str | None = None  # RFC 8474 THREADID (objectid.py)


def insert_messages(
    conn: sqlite3.Connection,
    mb: MailboxRow,
    new: Sequence[NewMessage],
    *,
    wanted: Sequence[int] | None = None,
) -> tuple[list[Uid], int]:
    """Add messages with fresh UIDs and one new modseq; return (uids, modseq).

    `wanted` (an import keeping UIDs): a message takes its wanted UID when that is at
    least the next free UID, else the next free UID.
    """
    if not new:
        return [], mb.highest_modseq
    modseq = mb.highest_modseq + 1
    cache: dict[str, str] = {}
    rows = []
    uids: list[Uid] = []
    unseen = deleted = size = 0
    next_uid = mb.uidnext
    for i, msg in enumerate(new):
        uid = next_uid
        if wanted is not None and wanted[i] > uid:
            uid = wanted[i]
        if uid > MAX_UIDVALIDITY:  # UIDs are 32-bit like UIDVALIDITY (RFC 9051 §2.3.1.1)
            raise StorageError("no UID left in this mailbox")
        next_uid = uid + 1
        uids.append(Uid(uid))
        kws = fl.join_keywords(canonical_keywords(conn, mb.id, msg.keywords, cache))
        rows.append(
            (
                mb.id,
                uid,
                msg.content_id,
                msg.sysflags,
                kws,
                modseq,
                msg.internal_date,
                msg.save_date,
                msg.thread,
            )
        )
        unseen += not msg.sysflags & fl.SEEN
        deleted += bool(msg.sysflags & fl.DELETED)
        size += msg.size
    conn.executemany(
        "INSERT INTO messages (mailbox_id, uid, content_id, sysflags, keywords, modseq,"
        " internal_date, save_date, thread) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.execute(
        "UPDATE mailboxes SET uidnext = ?, highest_modseq = ?, messages = messages + ?,"
        " unseen = unseen + ?, deleted = deleted + ?, size = size + ? WHERE id = ?",
        (next_uid, modseq, len(new), unseen, deleted, size, mb.id),
    )
    return uids, modseq


def remove_messages(
    conn: sqlite3.Connection, mb: MailboxRow, uids: Sequence[int], *, release: bool = True
) -> tuple[list[Uid], int, int]:
    """Expunge `uids` (existing ones), record them in `expunged`.

    Returns (removed uids, modseq, files queued for removal). Without `release` the
    content references are left to the caller (they were moved, not dropped).
    """
    rows = conn.execute(
        "SELECT m.uid, m.content_id, m.sysflags, c.size FROM messages m"
        " JOIN contents c ON c.id = m.content_id"
        " WHERE m.mailbox_id = ? AND m.uid IN (SELECT value FROM json_each(?)) ORDER BY m.uid",
        (mb.id, uid_json(uids)),
    ).fetchall()
    refs: Counter[int] = Counter()
    if not rows:
        return [], mb.highest_modseq, 0
    modseq = mb.highest_modseq + 1
    gone = [int(r[0]) for r in rows]
    unseen = sum(1 for r in rows if not int(r[2]) & fl.SEEN)
    deleted = sum(1 for r in rows if int(r[2]) & fl.DELETED)
    size = sum(int(r[3]) for r in rows)
    refs.update(int(r[1]) for r in rows)
    gone_json = json.dumps(gone)
    conn.execute(
        "DELETE FROM messages WHERE mailbox_id = ? AND uid IN (SELECT value FROM json_each(?))",
        (mb.id, gone_json),
    )
    conn.execute(
        "INSERT OR REPLACE INTO expunged (mailbox_id, uid, modseq)"
        " SELECT ?, value, ? FROM json_each(?)",
        (mb.id, modseq, gone_json),
    )
    conn.execute(
        "UPDATE mailboxes SET highest_modseq = ?, messages = messages - ?, unseen = unseen - ?,"
        " deleted = deleted - ?, size = size - ? WHERE id = ?",
        (modseq, len(gone), unseen, deleted, size, mb.id),
    )
    trashed = release_contents(conn, refs) if release else 0
    return [Uid(u) for u in gone], modseq, trashed


def release_contents(conn: sqlite3.Connection, refs: Counter[int]) -> int:
    """Drop references; delete contents nobody uses and queue their files for removal.

    Returns how many files were queued in `blob_trash` (sweep after commit when > 0).
    """
    if not refs:
        return 0
    conn.executemany(
        "UPDATE contents SET refcount = refcount - ? WHERE id = ?",
        [(n, cid) for cid, n in refs.items()],
    )
    ids = json.dumps(sorted(refs))
    cur = conn.execute(
        "INSERT OR IGNORE INTO blob_trash (sha256) SELECT sha256 FROM contents"
        " WHERE id IN (SELECT value FROM json_each(?)) AND refcount <= 0 AND inline IS NULL",
        (ids,),
    )
    trashed = cur.rowcount
    conn.execute(
        "DELETE FROM contents WHERE id IN (SELECT value FROM json_each(?)) AND refcount <= 0",
        (ids,),
    )
    return trashed


def drop_mailbox_rows(conn: sqlite3.Connection, mailbox_id: int) -> int:
    """Delete a mailbox and everything in it; return how many files went to `blob_trash`."""
    refs: Counter[int] = Counter()
    for cid, n in conn.execute(
        "SELECT content_id, count(*) FROM messages WHERE mailbox_id = ? GROUP BY content_id",
        (mailbox_id,),
    ):
        refs[int(cid)] = int(n)
    conn.execute("DELETE FROM messages WHERE mailbox_id = ?", (mailbox_id,))
    conn.execute("DELETE FROM expunged WHERE mailbox_id = ?", (mailbox_id,))
    conn.execute("DELETE FROM mailbox_keywords WHERE mailbox_id = ?", (mailbox_id,))
    # RFC 5464 §4.1: a deleted mailbox's annotations go with it.
    conn.execute("DELETE FROM metadata WHERE mailbox_id = ?", (mailbox_id,))
    conn.execute("DELETE FROM mailboxes WHERE id = ?", (mailbox_id,))
    return release_contents(conn, refs)


def sweep_trash(conn: sqlite3.Connection, blobs: BlobStore) -> int:
    """Unlink files of unreferenced contents. Call in a write transaction (holds the lock)."""
    removed = 0
    for (digest,) in conn.execute("SELECT sha256 FROM blob_trash").fetchall():
        if conn.execute("SELECT 1 FROM contents WHERE sha256 = ?", (digest,)).fetchone() is None:
            blobs.unlink(bytes(digest))
            removed += 1
    conn.execute("DELETE FROM blob_trash")
    return removed


def sweep_candidates(conn: sqlite3.Connection, blobs: BlobStore, digests: Iterable[bytes]) -> None:
    """Unlink files written for a request that failed, unless something references them."""
    for digest in digests:
        if conn.execute("SELECT 1 FROM contents WHERE sha256 = ?", (digest,)).fetchone() is None:
            blobs.unlink(digest)


def is_inbox(name: str) -> bool:
    return name == INBOX
