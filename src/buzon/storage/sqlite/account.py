"""`SqliteAccount`: one user's mailbox tree and subscriptions.

Tree invariant: every ancestor of an existing mailbox exists, selectable or as a
placeholder (`selectable = 0`). CREATE and RENAME create missing ancestors as selectable
mailboxes (RFC 3501 §6.3.3); DELETE of a mailbox with children turns it into a
placeholder (RFC 3501 §6.3.4). A placeholder is a new row: handles opened on the old
mailbox see NotFound and its UIDVALIDITY is never reused.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence

from buzon.storage.api import (
    INBOX,
    AlreadyExists,
    AppendRequest,
    CopyResult,
    HasChildren,
    InvalidName,
    MailboxChanged,
    MailboxInfo,
    MailboxListChanged,
    MailboxStatus,
    MetadataChanged,
    MetadataEntry,
    ModSeq,
    NoPermission,
    NoSelect,
    NotFound,
    QuotaUsage,
    SubscriptionChanged,
)
from buzon.storage.names import child_range, is_descendant, normalize_mailbox_name, parents
from buzon.storage.sqlite import appending, metadata, objectid, quota, txn, urlauth
from buzon.storage.sqlite.context import Backend
from buzon.storage.sqlite.mailbox import SqliteMailbox


def create_in(
    conn: sqlite3.Connection, user: int, name: str, special_use: frozenset[str]
) -> tuple[int, bool]:
    """Create `name` and its missing parents; return (id, created). Caller validated `name`."""
    for parent in parents(name):
        if txn.mailbox_by_name(conn, user, parent) is None:
            txn.insert_mailbox(conn, user, parent, frozenset())
    existing = txn.mailbox_by_name(conn, user, name)
    if existing is None:
        return txn.insert_mailbox(conn, user, name, special_use), True
    if existing.selectable:
        raise AlreadyExists(f"mailbox {name!r} already exists")
    # Over a placeholder: it becomes a real mailbox with a fresh UIDVALIDITY, and so a
    # fresh MAILBOXID (RFC 8474 §4: a new mailbox under an old name gets a new id).
    conn.execute(
        "UPDATE mailboxes SET selectable = 1, uidvalidity = ?, special_use = ?, objectid = ?"
        " WHERE id = ?",
        (
            txn.next_uidvalidity(conn),
            " ".join(sorted(special_use)),
            objectid.new_id("F"),
            existing.id,
        ),
    )
    return existing.id, True


def _has_children(conn: sqlite3.Connection, user: int, name: str) -> bool:
    lo, hi = child_range(name)
    row = conn.execute(
        "SELECT 1 FROM mailboxes WHERE user_id = ? AND name >= ? AND name < ? LIMIT 1",
        (user, lo, hi),
    ).fetchone()
    return row is not None


class SqliteAccount:
    """`Account` on SQLite."""

    def __init__(self, backend: Backend, name: str, user_id: int) -> None:
        self._b = backend
        self._name = name
        self._user = user_id

    @property
    def name(self) -> str:
        return self._name

    def _list_changed(self) -> None:
        self._b.bus.publish(MailboxListChanged(self._name))

    async def list_mailboxes(self) -> list[MailboxInfo]:
        def job(conn: sqlite3.Connection) -> list[MailboxInfo]:
            return [
                txn.MailboxRow.from_row(r).info()
                for r in conn.execute(
                    f"SELECT {txn.MAILBOX_COLUMNS} FROM mailboxes WHERE user_id = ? ORDER BY name",
                    (self._user,),
                )
            ]

        return await self._b.executor.read(job)

    async def create_mailbox(
        self, name: str, *, special_use: frozenset[str] = frozenset()
    ) -> MailboxInfo:
        canon = normalize_mailbox_name(name)

        def job(conn: sqlite3.Connection) -> MailboxInfo:
            txn.require_user(conn, self._user)
            before = quota.mailbox_count(conn, self._user)
            mailbox_id, _ = create_in(conn, self._user, canon, special_use)
            quota.check_mailboxes(conn, self._user, before)  # RFC 9208 §5.3
            return txn.mailbox_by_id(conn, mailbox_id).info()

        info = await self._b.executor.write(job)
        self._list_changed()
        return info

    async def delete_mailbox(self, name: str) -> None:
        """RFC 3501 §6.3.4 (see the module docstring); INBOX cannot be deleted."""
        canon = normalize_mailbox_name(name)
        if canon == INBOX:
            raise NoPermission("INBOX cannot be deleted")

        def job(conn: sqlite3.Connection) -> tuple[int, int, int]:
            mb = txn.mailbox_by_name(conn, self._user, canon)
            if mb is None:
                raise NotFound(f"mailbox {canon!r} does not exist")
            children = _has_children(conn, self._user, canon)
            if children and not mb.selectable:
                raise HasChildren(f"mailbox {canon!r} has children and is not selectable")
            trashed = txn.drop_mailbox_rows(conn, mb.id)
            if children:
                conn.execute(
                    "INSERT INTO mailboxes (user_id, name, selectable, uidvalidity)"
                    " VALUES (?, ?, 0, 0)",
                    (self._user, canon),
                )
            return mb.id, mb.highest_modseq + 1, trashed

        old_id, modseq, trashed = await self._b.executor.write(job)
        self._list_changed()
        # Sessions that had it selected learn it is gone when they pull changes.
        self._b.bus.publish(MailboxChanged(self._name, str(old_id), ModSeq(modseq)))
        if trashed:
            await self._b.sweep()

    async def rename_mailbox(self, old: str, new: str) -> None:
        """RFC 3501 §6.3.5 / RFC 9051 §6.3.6.

        Children move with the mailbox and every mailbox keeps its UIDVALIDITY. Renaming
        INBOX moves its messages (new UIDs) into a new mailbox and leaves INBOX empty,
        its children untouched. Subscriptions are not changed (RFC 9051 §6.3.6 notes that
        RENAME does not update them).
        """
        src = normalize_mailbox_name(old)
        dst = normalize_mailbox_name(new)
        if dst in (src, INBOX):
            raise AlreadyExists(f"mailbox {dst!r} already exists")
        # INBOX stays where it is when renamed, so "INBOX/old" is a fine target for it.
        if is_descendant(dst, src) and src != INBOX:
            raise InvalidName("cannot rename a mailbox into its own child")

        def job(conn: sqlite3.Connection) -> tuple[int, int] | None:
            mb = txn.mailbox_by_name(conn, self._user, src)
            if mb is None:
                raise NotFound(f"mailbox {src!r} does not exist")
            if txn.mailbox_by_name(conn, self._user, dst) is not None:
                raise AlreadyExists(f"mailbox {dst!r} already exists")
            if src == INBOX:
                before = quota.mailbox_count(conn, self._user)
                moved = self._rename_inbox(conn, mb, dst)
                quota.check_mailboxes(conn, self._user, before)  # RFC 9208 §5.3
                return moved
            lo, hi = child_range(src)
            targets = [dst] + [
                dst + str(r[0])[len(src) :]
                for r in conn.execute(
                    "SELECT name FROM mailboxes WHERE user_id = ? AND name >= ? AND name < ?",
                    (self._user, lo, hi),
                )
            ]
            for target in targets:
                normalize_mailbox_name(target)  # a child may become too long
                if txn.mailbox_by_name(conn, self._user, target) is not None:
                    raise AlreadyExists(f"mailbox {target!r} already exists")
            before = quota.mailbox_count(conn, self._user)
            for parent in parents(dst):
                if txn.mailbox_by_name(conn, self._user, parent) is None:
                    txn.insert_mailbox(conn, self._user, parent, frozenset())
            quota.check_mailboxes(conn, self._user, before)  # new parents: RFC 9208 §5.3
            conn.execute(
                "UPDATE mailboxes SET name = ? || substr(name, ?)"
                " WHERE user_id = ? AND (name = ? OR (name >= ? AND name < ?))",
                (dst, len(src) + 1, self._user, src, lo, hi),
            )
            return None

        inbox_change = await self._b.executor.write(job)
        self._list_changed()
        if inbox_change is not None:
            mailbox_id, modseq = inbox_change
            self._b.bus.publish(MailboxChanged(self._name, str(mailbox_id), ModSeq(modseq)))

    def _rename_inbox(
        self, conn: sqlite3.Connection, inbox: txn.MailboxRow, dst: str
    ) -> tuple[int, int] | None:
        """RFC 3501 §6.3.5: move all INBOX messages to a new mailbox `dst`."""
        new_id, _ = create_in(conn, self._user, dst, frozenset())
        metadata.copy_all(conn, inbox.id, new_id)
        target = txn.mailbox_by_id(conn, new_id)
        conn.execute(
            "INSERT INTO mailbox_keywords (mailbox_id, folded, keyword)"
            " SELECT ?, folded, keyword FROM mailbox_keywords WHERE mailbox_id = ?",
            (new_id, inbox.id),
        )
        rows = conn.execute(
            "SELECT m.uid, m.content_id, c.size, m.sysflags, m.keywords, m.internal_date,"
            " m.save_date, m.thread FROM messages m JOIN contents c ON c.id = m.content_id"
            " WHERE m.mailbox_id = ? ORDER BY m.uid",
            (inbox.id,),
        ).fetchall()
        if not rows:
            return None
        new = [
            txn.NewMessage(int(r[1]), int(r[2]), int(r[3]), str(r[4]).split(), r[5], r[6], r[7])
            for r in rows
        ]
        txn.insert_messages(conn, target, new)
        # The references move with the rows: no refcount change.
        _, modseq, _ = txn.remove_messages(conn, inbox, [int(r[0]) for r in rows], release=False)
        return inbox.id, modseq

    async def subscribe(self, name: str) -> None:
        """RFC 9051 §6.3.7: the name need not exist."""
        canon = normalize_mailbox_name(name)

        def job(conn: sqlite3.Connection) -> None:
            txn.require_user(conn, self._user)
            conn.execute(
                "INSERT OR IGNORE INTO subscriptions (user_id, name) VALUES (?, ?)",
                (self._user, canon),
            )

        await self._b.executor.write(job)
        self._b.bus.publish(SubscriptionChanged(self._name, canon))

    async def unsubscribe(self, name: str) -> None:
        """Removing a name that is not subscribed is not an error."""
        canon = normalize_mailbox_name(name)

        def job(conn: sqlite3.Connection) -> None:
            conn.execute(
                "DELETE FROM subscriptions WHERE user_id = ? AND name = ?", (self._user, canon)
            )

        await self._b.executor.write(job)
        self._b.bus.publish(SubscriptionChanged(self._name, canon))

    async def subscriptions(self) -> list[str]:
        def job(conn: sqlite3.Connection) -> list[str]:
            return [
                str(r[0])
                for r in conn.execute(
                    "SELECT name FROM subscriptions WHERE user_id = ? ORDER BY name", (self._user,)
                )
            ]

        return await self._b.executor.read(job)

    def _selectable(self, conn: sqlite3.Connection, canon: str) -> txn.MailboxRow:
        mb = txn.mailbox_by_name(conn, self._user, canon)
        if mb is None:
            raise NotFound(f"mailbox {canon!r} does not exist")
        if not mb.selectable:
            raise NoSelect(f"mailbox {canon!r} is not selectable")
        return mb

    async def open_mailbox(self, name: str, *, read_only: bool = False) -> SqliteMailbox:
        """NotFound if missing; NoSelect (a NotFound) for a placeholder."""
        canon = normalize_mailbox_name(name)
        row = await self._b.executor.read(lambda conn: self._selectable(conn, canon))
        return SqliteMailbox(self._b, self._name, self._user, row, read_only=read_only)

    async def append(self, name: str, messages: Sequence[AppendRequest]) -> CopyResult:
        """The lookup (a reader) runs while the messages are parsed (`appending.prepare`)."""
        if not messages:
            return await (await self.open_mailbox(name)).append(messages)
        canon = normalize_mailbox_name(name)
        lookup = asyncio.ensure_future(
            self._b.executor.read(lambda conn: self._selectable(conn, canon))
        )
        try:
            prepared = await appending.prepare_soon(self._b, messages)
        except BaseException:
            lookup.cancel()
            # Its outcome no longer matters; retrieved so that asyncio does not log it.
            lookup.add_done_callback(lambda f: f.cancelled() or f.exception())
            raise
        try:
            row = await lookup
        except BaseException:
            await appending.forget_files(self._b, prepared)
            raise
        mailbox = SqliteMailbox(self._b, self._name, self._user, row, read_only=False)
        return await mailbox.append_prepared(prepared)

    async def import_position(self, source: str) -> str | None:
        def job(conn: sqlite3.Connection) -> str | None:
            row = conn.execute(
                "SELECT position FROM import_positions WHERE user_id = ? AND source = ?",
                (self._user, source),
            ).fetchone()
            return None if row is None else str(row[0])

        return await self._b.executor.read(job)

    async def mailbox_status(self, name: str) -> MailboxStatus:
        canon = normalize_mailbox_name(name)

        def job(conn: sqlite3.Connection) -> MailboxStatus:
            return txn.status_of(conn, self._selectable(conn, canon))

        return await self._b.executor.read(job)

    # --- quota (RFC 9208) and annotations (RFC 5464): see quota.py and metadata.py ---------

    async def quota(self) -> QuotaUsage:
        return await self._b.executor.read(lambda conn: quota.read(conn, self._user))

    async def set_quota(
        self, *, storage: int | None, messages: int | None, mailboxes: int | None = None
    ) -> QuotaUsage:
        def job(conn: sqlite3.Connection) -> QuotaUsage:
            txn.require_user(conn, self._user)
            return quota.set_limits(conn, self._user, storage, messages, mailboxes)

        return await self._b.executor.write(job)

    async def get_metadata(
        self, mailbox: str, entries: Sequence[str], depth: int | None
    ) -> list[MetadataEntry]:
        canon = normalize_mailbox_name(mailbox) if mailbox else ""
        return await self._b.executor.read(
            lambda conn: metadata.get(conn, self._user, canon, entries, depth)
        )

    async def set_metadata(
        self, mailbox: str, values: Sequence[tuple[str, bytes | None]], *, max_entries: int
    ) -> None:
        canon = normalize_mailbox_name(mailbox) if mailbox else ""
        await self._b.executor.write(
            lambda conn: metadata.put(conn, self._user, canon, values, max_entries)
        )
        # RFC 5465 §5.6, §5.7: NOTIFY sessions learn of it; a /shared server entry is
        # everyone's (RFC 5464 §3.3), the rest this account's only.
        names = tuple(dict.fromkeys(name for name, _ in values))
        shared = tuple(n for n in names if n.lower().startswith("/shared/"))
        private = tuple(n for n in names if not n.lower().startswith("/shared/"))
        if canon == "" and shared:
            self._b.bus.publish(MetadataChanged(self._name, canon, shared, everyone=True))
            names = private
        if names:
            self._b.bus.publish(MetadataChanged(self._name, canon, names))

    # --- URLAUTH access keys (RFC 4467): see urlauth.py --------------------------------------

    async def urlauth_key(self, mailbox: str, *, create: bool) -> bytes | None:
        canon = normalize_mailbox_name(mailbox)
        if create:
            return await self._b.executor.write(
                lambda conn: urlauth.ensure_key(conn, self._user, canon)
            )
        return await self._b.executor.read(lambda conn: urlauth.get_key(conn, self._user, canon))

    async def reset_urlauth_keys(self, mailbox: str | None) -> None:
        canon = None if mailbox is None else normalize_mailbox_name(mailbox)
        await self._b.executor.write(lambda conn: urlauth.reset_keys(conn, self._user, canon))
