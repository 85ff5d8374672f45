"""URLAUTH mailbox access keys (RFC 4467 §3): one random key per mailbox, in `urlauth_keys`.

The key is what the INTERNAL mechanism's MAC is keyed with; replacing it (RESETKEY,
RFC 4467 §4.1) invalidates every URL authorized for that mailbox. A key row goes with
its mailbox (ON DELETE CASCADE), so a mailbox created again under the same name never
honours the old URLs.
"""

from __future__ import annotations

import secrets
import sqlite3

from buzon.storage.api import NoSelect, NotFound
from buzon.storage.sqlite import txn

KEY_BYTES = 32  # RFC 4467 §7: "at least 128 bits"


def _mailbox_id(conn: sqlite3.Connection, user: int, name: str) -> int:
    mb = txn.mailbox_by_name(conn, user, name)
    if mb is None:
        raise NotFound(f"mailbox {name!r} does not exist")
    if not mb.selectable:
        raise NoSelect(f"mailbox {name!r} is not selectable")
    return mb.id


def get_key(conn: sqlite3.Connection, user: int, name: str) -> bytes | None:
    """The mailbox's key, None when it has none yet."""
    row = conn.execute(
        "SELECT key FROM urlauth_keys WHERE mailbox_id = ?", (_mailbox_id(conn, user, name),)
    ).fetchone()
    return None if row is None else bytes(row[0])


def ensure_key(conn: sqlite3.Connection, user: int, name: str) -> bytes:
    """The mailbox's key, made when missing (GENURLAUTH, RFC 4467 §5)."""
    mailbox_id = _mailbox_id(conn, user, name)
    conn.execute(
        "INSERT OR IGNORE INTO urlauth_keys (mailbox_id, key) VALUES (?, ?)",
        (mailbox_id, secrets.token_bytes(KEY_BYTES)),
    )
    row = conn.execute("SELECT key FROM urlauth_keys WHERE mailbox_id = ?", (mailbox_id,))
    return bytes(row.fetchone()[0])


def reset_keys(conn: sqlite3.Connection, user: int, name: str | None) -> None:
    """RFC 4467 §4.1: a new key for one mailbox; without a name, drop all the user's keys."""
    if name is None:
        conn.execute(
            "DELETE FROM urlauth_keys WHERE mailbox_id IN"
            " (SELECT id FROM mailboxes WHERE user_id = ?)",
            (user,),
        )
        return
    conn.execute(
        "INSERT OR REPLACE INTO urlauth_keys (mailbox_id, key) VALUES (?, ?)",
        (_mailbox_id(conn, user, name), secrets.token_bytes(KEY_BYTES)),
    )
