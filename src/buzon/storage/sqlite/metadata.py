"""Annotations of RFC 5464 (METADATA) in the `metadata` table.

Theory of operation
-------------------
A row is keyed by (mailbox_id, owner, folded name): `mailbox_id` 0 holds server
annotations, `owner` 0 a /shared entry and a user id a /private one, so private entries
are per user (RFC 5464 §3.3) and shared ones belong to the mailbox. Names compare
case-insensitively (RFC 5464 §3.2) through `folded`; `name` keeps the first spelling for
answers. Rows follow their mailbox on RENAME because the id does not change; a DELETE
drops them with the mailbox (`txn.drop_mailbox_rows`). Entry syntax is the caller's
business (the server answers BAD); this module only stores.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from buzon.storage.api import MetadataEntry, NotFound, TooMany
from buzon.storage.sqlite import txn

SERVER = 0  # the mailbox_id of server annotations
SHARED = 0  # the owner of /shared entries


def owner_of(folded: str, user: int) -> int:
    return user if folded.startswith("/private") else SHARED


def mailbox_id(conn: sqlite3.Connection, user: int, canon: str) -> int:
    """The row id for `canon` ("" is the server); placeholders have annotations too."""
    if canon == "":
        return SERVER
    row = txn.mailbox_by_name(conn, user, canon)
    if row is None:
        raise NotFound(f"mailbox {canon!r} does not exist")
    return row.id


def get(
    conn: sqlite3.Connection,
    user: int,
    canon: str,
    entries: Sequence[str],
    depth: int | None,
) -> list[MetadataEntry]:
    """RFC 5464 §4.2.2: each entry and its descendants up to `depth` levels (None: all)."""
    box = mailbox_id(conn, user, canon)
    out: list[MetadataEntry] = []
    seen: set[str] = set()
    for entry in entries:
        folded = entry.lower()
        owner = owner_of(folded, user)
        sql = "SELECT folded, name, value FROM metadata WHERE mailbox_id = ? AND owner = ? AND "
        if depth == 0:
            rows = conn.execute(sql + "folded = ?", (box, owner, folded)).fetchall()
        else:
            # "/" is 0x2F and "0" 0x30: the range holds exactly the names below `folded`.
            rows = conn.execute(
                sql + "(folded = ? OR (folded >= ? AND folded < ?)) ORDER BY folded",
                (box, owner, folded, folded + "/", folded + "0"),
            ).fetchall()
        for row_folded, name, value in rows:
            below = str(row_folded)[len(folded) :].count("/")
            if row_folded in seen or (depth is not None and below > depth):
                continue
            seen.add(str(row_folded))
            out.append(MetadataEntry(str(name), bytes(value)))
    return out


def put(
    conn: sqlite3.Connection,
    user: int,
    canon: str,
    values: Sequence[tuple[str, bytes | None]],
    max_entries: int,
) -> None:
    """Set or remove every value; TooMany (after which the job rolls back) past the limit."""
    box = mailbox_id(conn, user, canon)
    owners = {owner_of(name.lower(), user) for name, _ in values}
    before = {owner: _count(conn, box, owner) for owner in owners}
    for name, value in values:
        folded = name.lower()
        owner = owner_of(folded, user)
        if value is None:
            conn.execute(
                "DELETE FROM metadata WHERE mailbox_id = ? AND owner = ? AND folded = ?",
                (box, owner, folded),
            )
        else:
            conn.execute(
                "INSERT INTO metadata (mailbox_id, owner, folded, name, value)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (mailbox_id, owner, folded)"
                " DO UPDATE SET value = excluded.value",
                (box, owner, folded, name, value),
            )
    for owner in owners:
        after = _count(conn, box, owner)
        # A mailbox already past a lowered limit may still change its existing entries.
        if after > max_entries and after > before[owner]:
            raise TooMany(f"at most {max_entries} annotations per mailbox")


def _count(conn: sqlite3.Connection, box: int, owner: int) -> int:
    (n,) = conn.execute(
        "SELECT count(*) FROM metadata WHERE mailbox_id = ? AND owner = ?", (box, owner)
    ).fetchone()
    return int(n)


def copy_all(conn: sqlite3.Connection, source: int, dest: int) -> None:
    """RFC 5464 §4.1: a renamed INBOX keeps its annotations and the new mailbox gets a copy."""
    conn.execute(
        "INSERT OR REPLACE INTO metadata (mailbox_id, owner, folded, name, value)"
        " SELECT ?, owner, folded, name, value FROM metadata WHERE mailbox_id = ?",
        (dest, source),
    )
