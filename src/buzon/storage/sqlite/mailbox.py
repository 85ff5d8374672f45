"""`SqliteMailbox`: one mailbox's messages, flags, modseqs and changes.

Each method is one job on the DB executor (one transaction), then, for writes, a
`MailboxChanged` notice on the bus after commit. A handle names a mailbox row by id; if
that mailbox was deleted (or became a placeholder) since, every method raises NotFound.
"""

from __future__ import annotations

import asyncio
import bisect
import sqlite3
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from buzon.mime import Envelope, ParsedMessage, load_envelope
from buzon.storage.api import (
    AppendRequest,
    Changes,
    Checkpoint,
    CopyResult,
    FlagOp,
    FlagRow,
    Mailbox,
    MailboxChanged,
    MailboxInfo,
    MailboxStatus,
    MessageFlags,
    MessageMeta,
    MetaItem,
    ModSeq,
    NoSelect,
    NotFound,
    ReadOnly,
    SearchResult,
    Snapshot,
    SortFields,
    SortOrder,
    StorageError,
    StoreResult,
    Temporary,
    ThreadRow,
    Uid,
)
from buzon.storage.names import normalize_mailbox_name
from buzon.storage.query import Query
from buzon.storage.sqlite import (
    appending,
    envelopes,
    ordering,
    previews,
    quota,
    replacing,
    search,
    txn,
)
from buzon.storage.sqlite import flags as fl
from buzon.storage.sqlite.context import Backend


@dataclass(frozen=True, slots=True)
class _Written:
    result: CopyResult
    notices: tuple[tuple[int, int], ...]  # (mailbox id, modseq) to publish
    trashed: int = 0


class SqliteMailbox:
    """`Mailbox` on SQLite."""

    def __init__(
        self, backend: Backend, account: str, user_id: int, row: txn.MailboxRow, *, read_only: bool
    ) -> None:
        self._b = backend
        self._account = account
        self._user = user_id
        self._id = row.id
        self._info = row.info()
        self._read_only = read_only
        # The last import_messages call's outcome: calls commit in call order, and none
        # after a failed one (see import_messages).
        self._import_tail: asyncio.Future[bool] | None = None
        self._import_failed = False

    @property
    def info(self) -> MailboxInfo:
        return self._info

    @property
    def read_only(self) -> bool:
        return self._read_only

    def _writable(self) -> None:
        if self._read_only:
            raise ReadOnly("mailbox is open read-only")

    def _publish(self, notices: Sequence[tuple[int, int]]) -> None:
        for mailbox_id, modseq in notices:
            self._b.bus.publish(MailboxChanged(self._account, str(mailbox_id), ModSeq(modseq)))

    # --- reading -------------------------------------------------------------------------

    async def status(self) -> MailboxStatus:
        def job(conn: sqlite3.Connection) -> MailboxStatus:
            return txn.status_of(conn, txn.mailbox_by_id(conn, self._id))

        return await self._b.executor.read(job)

    async def snapshot(self, *, claim_recent: bool) -> Snapshot:
        """RFC 3501 §2.3.2: claiming \\Recent is one transaction, so two sessions never share."""
        if claim_recent:
            self._writable()  # RFC 3501 §6.3.2: EXAMINE must not take \Recent away

        def job(conn: sqlite3.Connection) -> Snapshot:
            mb = txn.mailbox_by_id(conn, self._id)
            uids = txn.all_uids(conn, mb.id)
            keywords = frozenset(
                str(r[0])
                for r in conn.execute(
                    "SELECT keyword FROM mailbox_keywords WHERE mailbox_id = ?", (mb.id,)
                )
            )
            row = conn.execute(
                "SELECT uid FROM messages WHERE mailbox_id = ? AND (sysflags & 1) = 0"
                " ORDER BY uid LIMIT 1",
                (mb.id,),
            ).fetchone()
            recent = tuple(uids[bisect.bisect_right(uids, mb.recent_mark) :])
            if claim_recent and mb.recent_mark < mb.uidnext - 1:
                conn.execute(
                    "UPDATE mailboxes SET recent_mark = ? WHERE id = ?",
                    (mb.uidnext - 1, mb.id),
                )
            return Snapshot(
                uids=tuple(uids),
                uidnext=Uid(mb.uidnext),
                uidvalidity=mb.uidvalidity,
                highest_modseq=ModSeq(mb.highest_modseq),
                keywords=keywords,
                first_unseen=None if row is None else Uid(row[0]),
                recent=recent,
            )

        if claim_recent:
            return await self._b.executor.write(job)
        return await self._b.executor.read(job)

    async def claim_recent(self, uids: Sequence[Uid]) -> tuple[Uid, ...]:
        self._writable()

        def job(conn: sqlite3.Connection) -> tuple[Uid, ...]:
            mb = txn.mailbox_by_id(conn, self._id)
            wanted = [u for u in uids if u > mb.recent_mark]
            if not wanted:
                return ()
            claimed = tuple(
                Uid(r[0])
                for r in conn.execute(
                    "SELECT uid FROM messages WHERE mailbox_id = ?"
                    " AND uid IN (SELECT value FROM json_each(?)) ORDER BY uid",
                    (mb.id, txn.uid_json(wanted)),
                )
            )
            if claimed:
                conn.execute(
                    "UPDATE mailboxes SET recent_mark = ? WHERE id = ?", (claimed[-1], mb.id)
                )
            return claimed

        return await self._b.executor.write(job)

    async def changes_since(self, modseq: ModSeq) -> Changes:
        def job(conn: sqlite3.Connection) -> Changes:
            mb = txn.mailbox_by_id(conn, self._id)
            flag_sets = fl.FlagCache()
            updated = tuple(
                MessageFlags(Uid(uid), flag_sets(bits, kws), ModSeq(ms))
                for uid, bits, kws, ms in sorted(
                    conn.execute(
                        # The planner would rather walk the primary key to skip a sort,
                        # scanning the whole mailbox; a resync usually wants few rows.
                        "SELECT uid, sysflags, keywords, modseq FROM messages"
                        " INDEXED BY messages_modseq WHERE mailbox_id = ? AND modseq > ?",
                        (mb.id, modseq),
                    )
                )
            )
            expunged = tuple(
                Uid(r[0])
                for r in conn.execute(
                    "SELECT uid FROM expunged WHERE mailbox_id = ? AND modseq > ? ORDER BY uid",
                    (mb.id, modseq),
                )
            )
            return Changes(ModSeq(mb.highest_modseq), updated, expunged, Uid(mb.uidnext))

        return await self._b.executor.read(job)

    async def fetch_meta(
        self, uids: Sequence[Uid], items: frozenset[MetaItem]
    ) -> list[MessageMeta]:
        """One query whatever the number of UIDs (see `txn.uid_clause`); no file is opened."""
        want_date = MetaItem.INTERNAL_DATE in items
        want_size = MetaItem.SIZE in items
        want_structure = MetaItem.STRUCTURE in items
        want_envelope = MetaItem.ENVELOPE in items
        want_save = MetaItem.SAVE_DATE in items
        want_emailid = MetaItem.EMAILID in items
        want_preview = MetaItem.PREVIEW in items
        # Only the columns asked for: building 200,000 unused strings is not free.
        columns = ["m.uid", "m.sysflags", "m.keywords", "m.modseq"]
        columns.append("m.internal_date" if want_date else "NULL")
        columns.append("m.save_date" if want_save else "NULL")
        columns.append("c.size" if want_size else "NULL")
        columns.append("c.structure" if want_structure or want_envelope else "NULL")
        columns.append("c.emailid" if want_emailid else "NULL")
        columns.append("m.thread" if MetaItem.THREADID in items else "NULL")
        columns.append("c.preview" if want_preview else "NULL")
        source = (
            "messages m JOIN contents c ON c.id = m.content_id"
            if want_size or want_structure or want_envelope or want_emailid or want_preview
            else "messages m"
        )
        clause, params = txn.uid_clause("m.uid", uids)
        sql = (
            f"SELECT {', '.join(columns)} FROM {source}"
            f" WHERE m.mailbox_id = ? AND {clause} ORDER BY m.uid"
        )
        decode = txn.decode_date
        loads = ParsedMessage.loads

        def meta(row: tuple[Any, ...], flag_sets: fl.FlagCache) -> MessageMeta:
            uid, bits, kws, modseq, date, saved, size, structure, emailid, thread, text = row
            parsed = loads(structure) if want_structure and structure is not None else None
            envelope = None
            if want_envelope and structure is not None:
                envelope = parsed.envelope if parsed is not None else load_envelope(structure)
            return MessageMeta(
                uid=uid,
                flags=flag_sets(bits, kws),
                modseq=modseq,
                internal_date=None if date is None else decode(date),
                size=size,
                structure=parsed,
                save_date=None if saved is None else decode(saved),
                envelope=envelope,
                emailid=emailid,
                threadid=thread,
                preview=text,
            )

        def job(conn: sqlite3.Connection) -> list[MessageMeta]:
            txn.mailbox_by_id(conn, self._id)
            flag_sets = fl.FlagCache()
            return [meta(row, flag_sets) for row in conn.execute(sql, (self._id, *params))]

        return await self._b.executor.read(job)

    async def flag_rows(
        self, uids: Sequence[Uid], *, size: bool = False, internal_date: bool = False
    ) -> list[FlagRow]:
        """See `fetch_meta`. Flags and modseqs alone come from `flagindex`, a copy in
        memory kept exact by modseq; with size or date, from one lean query."""
        if not size and not internal_date:
            flag_index = self._b.flag_index

            def from_memory(conn: sqlite3.Connection) -> list[FlagRow]:
                return flag_index.rows(conn, txn.mailbox_by_id(conn, self._id), uids)

            return await self._b.executor.read(from_memory)
        columns = "m.uid, m.sysflags, m.keywords, m.modseq"
        columns += ", c.size" if size else ", NULL"
        columns += ", m.internal_date" if internal_date else ", NULL"
        source = "messages m JOIN contents c ON c.id = m.content_id" if size else "messages m"
        clause, params = txn.uid_clause("m.uid", uids)
        sql = f"SELECT {columns} FROM {source} WHERE m.mailbox_id = ? AND {clause} ORDER BY m.uid"
        decode = txn.decode_date

        def job(conn: sqlite3.Connection) -> list[FlagRow]:
            txn.mailbox_by_id(conn, self._id)
            flag_sets = fl.FlagCache()
            rows = conn.execute(sql, (self._id, *params))
            return [
                (u, flag_sets(b, k), m, s, None if d is None else decode(d))
                for u, b, k, m, s, d in rows
            ]

        return await self._b.executor.read(job)

    async def search(self, query: Query) -> SearchResult:
        """See `sqlite/search.py`: one SELECT, the FTS index for substrings, exact checks."""

        def job(conn: sqlite3.Connection) -> SearchResult:
            txn.mailbox_by_id(conn, self._id)
            hits = search.run_search(conn, self._id, query)
            return SearchResult(tuple(Uid(u) for u, _ in hits), tuple(ModSeq(m) for _, m in hits))

        return await self._b.executor.read(job)

    async def sort(self, query: Query, order: Sequence[SortOrder]) -> SearchResult:
        """See `sqlite/ordering.py`: SQL ORDER BY on the stored keys, ties by UID."""

        def job(conn: sqlite3.Connection) -> SearchResult:
            txn.mailbox_by_id(conn, self._id)
            return SearchResult(*ordering.sort(conn, self._id, query, order))

        return await self._b.executor.read(job)

    async def thread_rows(self, query: Query) -> list[ThreadRow]:
        def job(conn: sqlite3.Connection) -> list[ThreadRow]:
            txn.mailbox_by_id(conn, self._id)
            return ordering.thread_rows(conn, self._id, query)

        return await self._b.executor.read(job)

    async def sort_fields(self, uids: Sequence[Uid]) -> list[SortFields]:
        def job(conn: sqlite3.Connection) -> list[SortFields]:
            txn.mailbox_by_id(conn, self._id)
            return [
                SortFields(
                    uid=Uid(r[0]),
                    internal_date=txn.decode_date(r[1]),
                    size=r[2],
                    sent=None if r[3] is None else txn.decode_date(r[3]),
                    base_subject=r[4] or "",
                    is_reply=bool(r[5]),
                    from_mailbox=r[6] or "",
                    from_display=r[7] or "",
                    to_mailbox=r[8] or "",
                    to_display=r[9] or "",
                    cc_mailbox=r[10] or "",
                    message_id=r[11],
                    references=tuple((r[12] or "").split()),
                )
                for r in search.sort_rows(conn, self._id, uids)
            ]

        return await self._b.executor.read(job)

    async def previews(self, uids: Sequence[Uid]) -> dict[Uid, str]:
        """See `sqlite/previews.py`: those of older messages are computed and stored."""
        return await previews.previews(self._b, self._id, uids, self.read_message)

    async def read_messages(self, uids: Sequence[Uid]) -> dict[Uid, bytes]:
        return await envelopes.read_messages(self._b, self._id, uids)

    async def read_headers(self, uids: Sequence[Uid]) -> dict[Uid, tuple[bytes, bool]]:
        return await envelopes.read_headers(self._b, self._id, uids)

    async def envelopes(self, uids: Sequence[Uid]) -> dict[Uid, bytes | Envelope]:
        return await envelopes.envelopes(self._b, self._id, uids)

    async def keep_envelopes(self, rendered: dict[Uid, bytes]) -> None:
        await envelopes.keep_envelopes(self._b, self._id, rendered)

    async def read_message(self, uid: Uid) -> bytes:
        def job(conn: sqlite3.Connection) -> bytes:
            txn.mailbox_by_id(conn, self._id)
            row = conn.execute(
                "SELECT c.sha256, c.inline FROM messages m JOIN contents c ON c.id = m.content_id"
                " WHERE m.mailbox_id = ? AND m.uid = ?",
                (self._id, uid),
            ).fetchone()
            if row is None:
                raise NotFound(f"no message with UID {uid}")
            if row[1] is not None:
                return bytes(row[1])
            try:
                return self._b.blobs.read(bytes(row[0]))
            except FileNotFoundError:
                # Expunged (and swept) by another session after our snapshot.
                raise NotFound(f"message UID {uid} was expunged") from None

        return await self._b.executor.read(job)

    # --- writing -------------------------------------------------------------------------

    async def append(self, messages: Sequence[AppendRequest]) -> CopyResult:
        """RFC 3502: the whole batch in one transaction; files are durable before commit."""
        self._writable()
        if not messages:
            mb_status = await self.status()
            return CopyResult(mb_status.uidvalidity, (), ())
        prepared = await appending.prepare_soon(self._b, messages)
        return await self.append_prepared(prepared)

    async def append_prepared(self, prepared: list[appending.Prepared]) -> CopyResult:
        """The transaction of `append`, for messages `appending.prepare` has done."""
        self._writable()
        result = await self._append_rows(prepared)
        self._b.indexer.kick()
        return result

    async def _append_rows(
        self,
        prepared: list[appending.Prepared],
        *,
        wanted: list[int] | None = None,
        uidnext: int = 0,
        checkpoint: Checkpoint | None = None,
    ) -> CopyResult:
        """The write transaction of `append` and `import_messages`; the files of
        `prepared` are forgotten if it fails, its changes published if it commits."""
        job = partial(
            appending.append_rows,
            backend=self._b,
            mailbox_id=self._id,
            user_id=self._user,
            prepared=prepared,
            wanted=wanted,
            uidnext=uidnext,
            checkpoint=checkpoint,
        )
        try:
            written = await self._b.executor.write(job)
        except StorageError:
            await appending.forget_files(self._b, prepared)
            raise
        self._publish(written.notices)
        return written.result

    async def import_messages(
        self,
        messages: Sequence[AppendRequest],
        *,
        uids: Sequence[Uid] | None = None,
        uidnext: Uid | None = None,
        checkpoint: Checkpoint | None = None,
    ) -> CopyResult:
        """Like `append`, keeping UIDs where possible, with the checkpoint in the transaction.

        A caller may start the next call before this one returns: calls on one handle
        parse in parallel but commit in call order, and once a call failed every later
        call on the handle fails (Temporary), so a checkpoint never passes a batch that is
        not stored. To go on after a failure, open the mailbox again.
        """
        self._writable()
        if uids is not None and len(uids) != len(messages):
            raise ValueError("one UID per message")
        if self._import_failed:
            raise Temporary("an earlier import batch failed")
        previous = self._import_tail
        tail: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._import_tail = tail
        try:
            result = await self._import_in_order(messages, previous, uids, uidnext, checkpoint)
        except BaseException:
            self._import_failed = True
            tail.set_result(False)
            raise
        tail.set_result(True)
        return result

    async def _import_in_order(
        self,
        messages: Sequence[AppendRequest],
        previous: asyncio.Future[bool] | None,
        uids: Sequence[Uid] | None,
        uidnext: Uid | None,
        checkpoint: Checkpoint | None,
    ) -> CopyResult:
        prepared = (
            await self._b.executor.io(partial(appending.prepare, self._b, messages))
            if messages
            else []
        )
        if previous is not None and not await previous:
            raise Temporary("an earlier import batch failed")
        # A bulk import leaves its texts in fts_pending (search stays exact): the FTS
        # index costs more than the rest of a delivery, so the server's indexer builds
        # it after the import (kicked by the change watcher, or at its next start).
        return await self._append_rows(
            prepared,
            wanted=None if uids is None else [int(u) for u in uids],
            uidnext=0 if uidnext is None else int(uidnext),
            checkpoint=checkpoint,
        )

    async def adopt_uidvalidity(self, uidvalidity: int) -> bool:
        """Only while UIDNEXT is 1: no UID was ever handed out, so nothing can be cached."""
        self._writable()
        if not 0 < uidvalidity <= txn.MAX_UIDVALIDITY:
            raise ValueError("UIDVALIDITY is a non-zero 32-bit number (RFC 9051 §2.3.1.1)")

        def job(conn: sqlite3.Connection) -> bool:
            mb = txn.mailbox_by_id(conn, self._id)
            if mb.uidnext != 1 or mb.messages:
                return False
            conn.execute("UPDATE mailboxes SET uidvalidity = ? WHERE id = ?", (uidvalidity, mb.id))
            return True

        return await self._b.executor.write(job)

    async def store_flags(
        self,
        uids: Sequence[Uid],
        op: FlagOp,
        flags: frozenset[str],
        *,
        unchanged_since: ModSeq | None = None,
    ) -> StoreResult:
        """RFC 7162 §3.1.3: the modseq moves only for messages whose flags really change."""
        self._writable()
        bits, raw_keywords = fl.split_flags(flags)

        def job(conn: sqlite3.Connection) -> tuple[StoreResult, int | None]:
            mb = txn.mailbox_by_id(conn, self._id)
            cache: dict[str, str] = {}
            spelled: dict[str, str] = {}
            if op is FlagOp.REMOVE:
                keywords = {fl.fold(k) for k in raw_keywords}
            else:
                canon = txn.canonical_keywords(conn, mb.id, raw_keywords, cache)
                keywords = {fl.fold(k) for k in canon}
                spelled = {fl.fold(k): k for k in canon}
            modseq = mb.highest_modseq + 1
            updated: list[MessageFlags] = []
            modified: list[Uid] = []
            changes: list[tuple[int, str, int, int, int]] = []
            d_unseen = d_deleted = 0
            for uid, old_bits, old_kw, old_ms in conn.execute(
                "SELECT uid, sysflags, keywords, modseq FROM messages WHERE mailbox_id = ?"
                " AND uid IN (SELECT value FROM json_each(?)) ORDER BY uid",
                (mb.id, txn.uid_json(uids)),
            ).fetchall():
                if unchanged_since is not None and old_ms > unchanged_since:
                    modified.append(Uid(uid))
                    continue
                current = {fl.fold(k): k for k in fl.split_keywords(old_kw)}
                if op is FlagOp.REPLACE:
                    new_bits = bits
                    new_kw = dict(spelled)
                elif op is FlagOp.ADD:
                    new_bits = old_bits | bits
                    new_kw = {**spelled, **current}
                else:
                    new_bits = old_bits & ~bits
                    new_kw = {f: k for f, k in current.items() if f not in keywords}
                kw_text = fl.join_keywords(new_kw.values())
                if new_bits == old_bits and kw_text == old_kw:
                    updated.append(
                        MessageFlags(Uid(uid), fl.to_flags(old_bits, old_kw), ModSeq(old_ms))
                    )
                    continue
                changes.append((new_bits, kw_text, modseq, mb.id, uid))
                d_unseen += bool(old_bits & fl.SEEN) - bool(new_bits & fl.SEEN)
                d_deleted += bool(new_bits & fl.DELETED) - bool(old_bits & fl.DELETED)
                updated.append(
                    MessageFlags(Uid(uid), fl.to_flags(new_bits, kw_text), ModSeq(modseq))
                )
            if not changes:
                return StoreResult(tuple(updated), tuple(modified)), None
            conn.executemany(
                "UPDATE messages SET sysflags = ?, keywords = ?, modseq = ?"
                " WHERE mailbox_id = ? AND uid = ?",
                changes,
            )
            conn.execute(
                "UPDATE mailboxes SET highest_modseq = ?, unseen = unseen + ?,"
                " deleted = deleted + ? WHERE id = ?",
                (modseq, d_unseen, d_deleted, mb.id),
            )
            return StoreResult(tuple(updated), tuple(modified)), modseq

        result, modseq = await self._b.executor.write(job)
        if modseq is not None:
            self._publish([(self._id, modseq)])
        return result

    async def expunge(self, uids: Sequence[Uid] | None = None) -> tuple[Uid, ...]:
        """RFC 9051 §6.4.3 / RFC 4315 §2.1: remove \\Deleted messages (among `uids`)."""
        self._writable()

        def job(conn: sqlite3.Connection) -> _Written:
            mb = txn.mailbox_by_id(conn, self._id)
            if mb.deleted == 0:
                return _Written(CopyResult(mb.uidvalidity, (), ()), ())
            if uids is None:
                rows = conn.execute(
                    "SELECT uid FROM messages WHERE mailbox_id = ? AND (sysflags & 8) != 0",
                    (mb.id,),
                )
            else:
                rows = conn.execute(
                    "SELECT uid FROM messages WHERE mailbox_id = ? AND (sysflags & 8) != 0"
                    " AND uid IN (SELECT value FROM json_each(?))",
                    (mb.id, txn.uid_json(uids)),
                )
            victims = [int(r[0]) for r in rows]
            gone, modseq, trashed = txn.remove_messages(conn, mb, victims)
            notices = ((mb.id, modseq),) if gone else ()
            return _Written(CopyResult(mb.uidvalidity, tuple(gone), ()), notices, trashed)

        written = await self._b.executor.write(job)
        self._publish(written.notices)
        if written.trashed:
            await self._b.sweep()
        return written.result.source_uids

    def _copy_in(
        self, conn: sqlite3.Connection, uids: Sequence[Uid], dest: str, *, charge: bool = True
    ) -> tuple[txn.MailboxRow, list[Uid], CopyResult, tuple[int, int] | None]:
        src = txn.mailbox_by_id(conn, self._id)
        dst = txn.mailbox_by_name(conn, self._user, dest)
        if dst is None:
            raise NotFound(f"mailbox {dest!r} does not exist")
        if not dst.selectable:
            raise NoSelect(f"mailbox {dest!r} is not selectable")
        rows = conn.execute(
            "SELECT m.uid, m.content_id, c.size, m.sysflags, m.keywords, m.internal_date,"
            " m.thread FROM messages m JOIN contents c ON c.id = m.content_id"
            " WHERE m.mailbox_id = ? AND m.uid IN (SELECT value FROM json_each(?)) ORDER BY m.uid",
            (src.id, txn.uid_json(uids)),
        ).fetchall()
        if not rows:
            return src, [], CopyResult(dst.uidvalidity, (), ()), None
        if charge:
            # RFC 9208 §4.3.1: a copy counts in full (the shared bytes are an implementation
            # detail); a MOVE within the account's one quota root changes no usage.
            quota.check(conn, self._user, len(rows), sum(int(r[2]) for r in rows))
        refs: Counter[int] = Counter(int(r[1]) for r in rows)
        conn.executemany(
            "UPDATE contents SET refcount = refcount + ? WHERE id = ?",
            [(n, cid) for cid, n in refs.items()],
        )
        save = txn.encode_date(txn.now_utc())
        new = [
            # RFC 8514 §3: a copy gets a new save date; RFC 8474 §5.2: the same thread.
            txn.NewMessage(
                int(r[1]), int(r[2]), int(r[3]), fl.split_keywords(r[4]), r[5], save, r[6]
            )
            for r in rows
        ]
        dest_uids, modseq = txn.insert_messages(conn, dst, new)
        source = [Uid(int(r[0])) for r in rows]
        result = CopyResult(dst.uidvalidity, tuple(source), tuple(dest_uids))
        return src, source, result, (dst.id, modseq)

    async def copy(self, uids: Sequence[Uid], dest: str) -> CopyResult:
        """RFC 9051 §6.4.7: flags and internal date kept; the bytes are shared, not copied."""
        name = normalize_mailbox_name(dest)

        def job(conn: sqlite3.Connection) -> _Written:
            _, _, result, notice = self._copy_in(conn, uids, name)
            return _Written(result, () if notice is None else (notice,))

        written = await self._b.executor.write(job)
        self._publish(written.notices)
        return written.result

    async def move(self, uids: Sequence[Uid], dest: str) -> CopyResult:
        """RFC 6851 §3.3: copy and expunge in one transaction."""
        self._writable()
        name = normalize_mailbox_name(dest)

        def job(conn: sqlite3.Connection) -> _Written:
            src, source, result, notice = self._copy_in(conn, uids, name, charge=False)
            if notice is None:
                return _Written(result, ())
            src = txn.mailbox_by_id(conn, src.id)  # reload: dest may be this mailbox
            _, modseq, trashed = txn.remove_messages(conn, src, source)
            return _Written(result, (notice, (src.id, modseq)), trashed)

        written = await self._b.executor.write(job)
        self._publish(written.notices)
        return written.result

    async def replace(self, uid: Uid, dest: Mailbox, message: AppendRequest) -> CopyResult:
        """RFC 8508 §3.4: expunge `uid` and append `message` to `dest` in one transaction."""
        if not isinstance(dest, SqliteMailbox):
            raise TypeError("dest must be a mailbox of this store")
        return await replacing.replace(self, uid, dest, message)
