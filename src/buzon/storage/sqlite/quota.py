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
"""

from __future__ import annotations

import sqlite3

from buzon.storage.api import OverQuota, QuotaUsage


def limits(conn: sqlite3.Connection, user: int) -> tuple[int | None, int | None]:
    """(storage limit in octets, message limit); None where unlimited."""
    row = conn.execute(
        "SELECT storage_limit, message_limit FROM quotas WHERE user_id = ?", (user,)
    ).fetchone()
    if row is None:
        return None, None
    return (None if row[0] is None else int(row[0]), None if row[1] is None else int(row[1]))


def usage(conn: sqlite3.Connection, user: int) -> tuple[int, int]:
    """(octets, messages) of every mailbox of the user."""
    size, count = conn.execute(
        "SELECT coalesce(sum(size), 0), coalesce(sum(messages), 0) FROM mailboxes"
        " WHERE user_id = ?",
        (user,),
    ).fetchone()
    return int(size), int(count)


def read(conn: sqlite3.Connection, user: int) -> QuotaUsage:
    storage_limit, message_limit = limits(conn, user)
    size, count = usage(conn, user)
    return QuotaUsage(size, count, storage_limit, message_limit)


def check(conn: sqlite3.Connection, user: int, add_messages: int, add_octets: int) -> None:
    """Raise OverQuota if adding this much would pass a limit (RFC 9208 §4.3.1)."""
    storage_limit, message_limit = limits(conn, user)
    if storage_limit is None and message_limit is None:
        return
    size, count = usage(conn, user)
    if message_limit is not None and add_messages > 0 and count + add_messages > message_limit:
        raise OverQuota(f"quota exceeded: {count} of {message_limit} messages in use")
    if storage_limit is not None and add_octets > 0 and size + add_octets > storage_limit:
        raise OverQuota(f"quota exceeded: {size} of {storage_limit} octets in use")


def set_limits(
    conn: sqlite3.Connection, user: int, storage: int | None, messages: int | None
) -> QuotaUsage:
    """Replace both limits (RFC 9208 §4.1.3: limits not given are removed)."""
    if storage is None and messages is None:
        conn.execute("DELETE FROM quotas WHERE user_id = ?", (user,))
    else:
        conn.execute(
            "INSERT INTO quotas (user_id, storage_limit, message_limit) VALUES (?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET storage_limit = excluded.storage_limit,"
            " message_limit = excluded.message_limit",
            (user, storage, messages),
        )
    return read(conn, user)
