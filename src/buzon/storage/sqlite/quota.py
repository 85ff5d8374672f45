"""Per-user quota limits and exact usage, inside the transaction that changes messages.

Theory of operation
-------------------
A user has one quota root (RFC 9208 §3). Its limits are a row of `quotas` (no row, or a
NULL column: unlimited). Its usage is not a counter of its own but the sum of the
`mailboxes.messages` and `mailboxes.size` counters of the user's mailboxes, which change
in the same transaction as the message rows: usage is exact after expunge, copy, move,
delete and a crash, and nothing ever recounts it. `check` runs inside the write
transaction that adds messages, before any row changes, so with the single writer two
concurrent appends can never both pass the limit.

The MAILBOX resource (RFC 9208 §5.3) counts the user's selectable mailboxes (the
placeholders DELETE leaves for the children of a deleted parent hold no messages and do
not count). A CREATE or RENAME may add several (missing parents are created too), so
`check_mailboxes` runs after the rows changed, in the same transaction: when the count
grew past the limit it raises and the transaction's savepoint undoes the change.
"""

from __future__ import annotations

import sqlite3

from buzon.storage.api import OverQuota, QuotaUsage

Limits = tuple[int | None, int | None, int | None]


def limits(conn: sqlite3.Connection, user: int) -> Limits:
    """(storage limit in octets, message limit, mailbox limit); None where unlimited."""
    row = conn.execute(
        "SELECT storage_limit, message_limit, mailbox_limit FROM quotas WHERE user_id = ?",
        (user,),
    ).fetchone()
    if row is None:
        return None, None, None
    storage, messages, mailboxes = (None if v is None else int(v) for v in row)
    return storage, messages, mailboxes


def usage(conn: sqlite3.Connection, user: int) -> tuple[int, int]:
    """(octets, messages) of every mailbox of the user."""
    size, count = conn.execute(
        "SELECT coalesce(sum(size), 0), coalesce(sum(messages), 0) FROM mailboxes"
        " WHERE user_id = ?",
        (user,),
    ).fetchone()
    return int(size), int(count)


def mailbox_count(conn: sqlite3.Connection, user: int) -> int:
    """The user's selectable mailboxes (RFC 9208 §5.3 usage)."""
    (count,) = conn.execute(
        "SELECT count(*) FROM mailboxes WHERE user_id = ? AND selectable = 1", (user,)
    ).fetchone()
    return int(count)


def read(conn: sqlite3.Connection, user: int) -> QuotaUsage:
    storage_limit, message_limit, mailbox_limit = limits(conn, user)
    size, count = usage(conn, user)
    return QuotaUsage(
        size, count, storage_limit, message_limit, mailbox_count(conn, user), mailbox_limit
    )


def check(conn: sqlite3.Connection, user: int, add_messages: int, add_octets: int) -> None:
    """Raise OverQuota if adding this much would pass a limit (RFC 9208 §4.3.1)."""
    storage_limit, message_limit, _ = limits(conn, user)
    if storage_limit is None and message_limit is None:
        return
    size, count = usage(conn, user)
    if message_limit is not None and add_messages > 0 and count + add_messages > message_limit:
        raise OverQuota(f"quota exceeded: {count} of {message_limit} messages in use")
    if storage_limit is not None and add_octets > 0 and size + add_octets > storage_limit:
        raise OverQuota(f"quota exceeded: {size} of {storage_limit} octets in use")


def check_mailboxes(conn: sqlite3.Connection, user: int, before: int) -> None:
    """After a change that may have created mailboxes: raise OverQuota if the count grew
    past the limit (RFC 9208 §5.3); the caller's transaction then undoes the change."""
    _, _, mailbox_limit = limits(conn, user)
    if mailbox_limit is None:
        return
    after = mailbox_count(conn, user)
    if after > before and after > mailbox_limit:
        raise OverQuota(f"quota exceeded: {before} of {mailbox_limit} mailboxes in use")


def set_limits(
    conn: sqlite3.Connection,
    user: int,
    storage: int | None,
    messages: int | None,
    mailboxes: int | None = None,
) -> QuotaUsage:
    """Replace all limits (RFC 9208 §4.1.3: limits not given are removed)."""
    if storage is None and messages is None and mailboxes is None:
        conn.execute("DELETE FROM quotas WHERE user_id = ?", (user,))
    else:
        conn.execute(
            "INSERT INTO quotas (user_id, storage_limit, message_limit, mailbox_limit)"
            " VALUES (?, ?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET storage_limit = excluded.storage_limit,"
            " message_limit = excluded.message_limit, mailbox_limit = excluded.mailbox_limit",
            (user, storage, messages, mailboxes),
        )
    return read(conn, user)
