"""Object ids (RFC 8474) on SQLite: MAILBOXID, EMAILID and THREADID.

Theory of operation
-------------------
Every id is a letter and 24 random lower-case hex digits (RFC 8474 §8.1: a letter
prefix, no case-only differences, never "NIL"); they say nothing about counts or order.

- MAILBOXID ("F...") is `mailboxes.objectid`, set when a row is created and when a
  placeholder becomes a mailbox again (a new incarnation, with a new UIDVALIDITY).
  RENAME updates the name of the row, so the id survives it (RFC 8474 §4); RENAME of
  INBOX creates a new mailbox for the messages, with a new id (RFC 8474 §8.2).
- EMAILID ("M...") is `contents.emailid`: a content row is shared by every message with
  the same bytes (COPY, MOVE, a delivery to several recipients, an identical APPEND), so
  they share the id (RFC 8474 §5.1: MUST for COPY/MOVE, MAY for an identical APPEND).
- THREADID ("T...") is `messages.thread`, fixed when the message arrives and carried by
  COPY and MOVE. `thread_keys` maps, per user, message ids to threads: a new message
  takes the thread of its own key if known (the same Message-ID seen before, or for a
  message without one the same EMAILID: RFC 8474 §5.2 wants one THREADID per EMAILID),
  else of the first of its References (In-Reply-To) already known, else a new thread;
  then its own key and its references are recorded with that thread. A reply so joins
  its parent's thread as THREAD=REFERENCES links them (RFC 5256), and a parent arriving
  after its reply joins the reply's. Threads never merge later: RFC 8474 §5.2 forbids
  changing a THREADID once reported.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Sequence

__all__ = ["ThreadResolver", "backfill_threads", "new_id"]


def new_id(prefix: str) -> str:
    """A fresh object id: `prefix` (one letter) and 24 random hex digits."""
    return prefix + secrets.token_hex(12)


def own_key(message_id: str | None, emailid: str) -> str:
    """The key a message is known by: its Message-ID, else " " and its EMAILID.

    Normalised message ids never contain a space (`fields.message_ids`), so the two kinds
    of key cannot collide.
    """
    return message_id if message_id else " " + emailid


class ThreadResolver:
    """Assigns threads to one user's new messages inside one write transaction.

    `preload` fetches the known keys of a whole batch in one query; `assign` decides per
    message (in arrival order, so a later message of the batch sees the earlier ones);
    `flush` records the new keys in one statement.
    """

    def __init__(self, conn: sqlite3.Connection, user_id: int) -> None:
        self._conn = conn
        self._user = user_id
        self._known: dict[str, str] = {}
        self._new: dict[str, str] = {}

    def preload(self, keys: Sequence[str]) -> None:
        wanted = sorted({k for k in keys if k not in self._known})
        if not wanted:
            return
        for key, thread in self._conn.execute(
            "SELECT key, thread FROM thread_keys WHERE user_id = ?"
            " AND key IN (SELECT value FROM json_each(?))",
            (self._user, json.dumps(wanted)),
        ):
            self._known[str(key)] = str(thread)

    def assign(self, own: str, references: Sequence[str], *, look_up_own: bool = False) -> str:
        """The thread of a new message with key `own` and parent ids `references`.

        `look_up_own` asks the database for `own` when it was not preloaded (a message
        without Message-ID whose content existed before).
        """
        if look_up_own and own not in self._known:
            self.preload([own])
        thread = self._known.get(own)
        if thread is None:
            thread = next((self._known[r] for r in references if r in self._known), None)
        if thread is None:
            thread = new_id("T")
        for key in (own, *references):
            if key not in self._known:
                self._known[key] = thread
                self._new[key] = thread
        return thread

    def flush(self) -> None:
        if self._new:
            self._conn.executemany(
                "INSERT OR IGNORE INTO thread_keys (user_id, key, thread) VALUES (?, ?, ?)",
                [(self._user, k, t) for k, t in self._new.items()],
            )
            self._new.clear()


def backfill_threads(conn: sqlite3.Connection) -> int:
    """Give a thread to every message stored before threads existed; return how many.

    Runs at open in a write transaction, once: `meta.threads_done` records that it ran.
    Messages are taken per user in order of arrival, so a parent usually comes first.
    """
    row = conn.execute("SELECT value FROM meta WHERE key = 'threads_done'").fetchone()
    if row is None or int(row[0]) == 1:
        return 0
    rows = conn.execute(
        "SELECT b.user_id, m.mailbox_id, m.uid, f.message_id, f.refs, c.emailid"
        " FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id"
        " JOIN contents c ON c.id = m.content_id"
        " LEFT JOIN msg_fields f ON f.content_id = m.content_id"
        " WHERE m.thread IS NULL ORDER BY b.user_id, m.internal_date, m.mailbox_id, m.uid"
    ).fetchall()
    resolver: ThreadResolver | None = None
    current = -1
    updates: list[tuple[str, int, int]] = []
    for user, mailbox_id, uid, message_id, refs, emailid in rows:
        if user != current:
            if resolver is not None:
                resolver.flush()
            resolver = ThreadResolver(conn, int(user))
            current = int(user)
        assert resolver is not None
        references = (refs or "").split()
        own = own_key(message_id, str(emailid))
        resolver.preload([own, *references])
        updates.append((resolver.assign(own, references), int(mailbox_id), int(uid)))
    if resolver is not None:
        resolver.flush()
    conn.executemany("UPDATE messages SET thread = ? WHERE mailbox_id = ? AND uid = ?", updates)
    conn.execute("UPDATE meta SET value = 1 WHERE key = 'threads_done'")
    return len(updates)
