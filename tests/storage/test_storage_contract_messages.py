"""Contract: messages, flags, modseqs, \\Recent, copy and move (every backend)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest

from buzon.storage import (
    INBOX,
    AppendRequest,
    FlagOp,
    InvalidName,
    Mailbox,
    MailboxChanged,
    MetaItem,
    ModSeq,
    NoSelect,
    NotFound,
    ReadOnly,
    Store,
    Uid,
)

StoreOpener = Callable[[], AbstractAsyncContextManager[Store]]

SMALL = b"From: a@example.org\r\nSubject: small\r\n\r\nhello\r\n"
LARGE = b"Subject: large\r\n\r\n" + b"0123456789abcdef\r\n" * 500  # over the 1024 inline limit


def msg(i: int) -> bytes:
    return b"Subject: message %d\r\n\r\nbody %d\r\n" % (i, i)


async def inbox_of(store: Store, user: str = "alice") -> Mailbox:
    if user not in await store.list_users():
        await store.create_user(user, "s")
    account = await store.open_account(user)
    return await account.open_mailbox(INBOX)


def test_append_byte_exact_and_metadata(open_store: StoreOpener) -> None:
    when = dt.datetime(2024, 3, 1, 12, 30, 5, tzinfo=dt.timezone(dt.timedelta(hours=-5)))

    async def body() -> None:
        async with open_store() as store:
            inbox = await inbox_of(store)
            before = dt.datetime.now(dt.UTC)
            raw = b"Subject: crlf\r\n\r\nline\r\nno-eol \x00\xff"
            result = await inbox.append(
                [
                    AppendRequest(SMALL, frozenset({"\\Seen", "\\Recent", "$Label"}), when),
                    AppendRequest(LARGE),
                    AppendRequest(raw),
                ]
            )
            assert result.source_uids == ()
            assert result.dest_uids == (Uid(1), Uid(2), Uid(3))
            status = await inbox.status()
            assert result.uidvalidity == status.uidvalidity
            assert await inbox.read_message(Uid(1)) == SMALL
            assert await inbox.read_message(Uid(2)) == LARGE
            assert await inbox.read_message(Uid(3)) == raw
            metas = await inbox.fetch_meta([Uid(1), Uid(2), Uid(3), Uid(99)], frozenset(MetaItem))
            assert [m.uid for m in metas] == [1, 2, 3]
            first, second, _ = metas
            assert first.flags == frozenset({"\\Seen", "$Label"})  # \Recent never stored
            assert first.internal_date == when
            assert first.size == len(SMALL)
            assert second.size == len(LARGE)
            assert second.internal_date is not None
            assert second.internal_date.tzinfo is not None
            assert second.internal_date >= before - dt.timedelta(seconds=1)
            assert first.structure is not None
            assert first.structure.envelope.subject == b"small"
            assert first.save_date is not None
            bare = await inbox.fetch_meta([Uid(1)], frozenset())
            assert bare[0].size is None
            assert bare[0].structure is None
            assert bare[0].internal_date is None
            with pytest.raises(NotFound):
                await inbox.read_message(Uid(99))

    asyncio.run(body())


def test_status_counters(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            inbox = await inbox_of(store)
            await inbox.append(
                [
                    AppendRequest(msg(1), frozenset({"\\Seen"})),
                    AppendRequest(msg(2), frozenset({"\\Deleted"})),
                    AppendRequest(msg(3)),
                ]
            )
            status = await inbox.status()
            assert status.messages == 3
            assert status.unseen == 2
            assert status.deleted == 1
            assert status.size == len(msg(1)) + len(msg(2)) + len(msg(3))
            assert status.recent == 3
            assert status.uidnext == 4
            await inbox.store_flags([Uid(1), Uid(3)], FlagOp.REPLACE, frozenset({"\\Deleted"}))
            status = await inbox.status()
            assert (status.unseen, status.deleted) == (3, 3)
            assert await inbox.expunge([Uid(1), Uid(2)]) == (Uid(1), Uid(2))
            status = await inbox.status()
            assert (status.messages, status.unseen, status.deleted) == (1, 1, 1)
            assert status.size == len(msg(3))

    asyncio.run(body())


def test_uids_never_reused_across_expunge_and_reopen(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            inbox = await inbox_of(store)
            await inbox.append([AppendRequest(msg(i)) for i in range(3)])
            await inbox.store_flags([Uid(2), Uid(3)], FlagOp.ADD, frozenset({"\\Deleted"}))
            assert await inbox.expunge() == (Uid(2), Uid(3))
        async with open_store() as store:
            inbox = await inbox_of(store)
            status = await inbox.status()
            assert status.uidnext == 4
            result = await inbox.append([AppendRequest(msg(9))])
            assert result.dest_uids == (Uid(4),)
            assert (await inbox.snapshot(claim_recent=False)).uids == (Uid(1), Uid(4))

    asyncio.run(body())


def test_reopen_preserves_everything(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            inbox = await inbox_of(store)
            await inbox.append([AppendRequest(SMALL, frozenset({"$A"})), AppendRequest(LARGE)])
            await inbox.store_flags([Uid(2)], FlagOp.ADD, frozenset({"\\Flagged"}))
            account = await store.open_account("alice")
            await account.create_mailbox("Box/Sub")
            await account.subscribe("Box/Sub")
            snap1 = await inbox.snapshot(claim_recent=True)
            status1 = await inbox.status()
            meta1 = await inbox.fetch_meta([Uid(1), Uid(2)], frozenset(MetaItem))
            boxes1 = await account.list_mailboxes()
        async with open_store() as store:
            inbox = await inbox_of(store)
            account = await store.open_account("alice")
            assert await inbox.status() == status1
            snap2 = await inbox.snapshot(claim_recent=True)
            assert snap2.uids == snap1.uids
            assert snap2.recent == ()  # claimed before the restart
            assert snap2.keywords == frozenset({"$A"})
            assert await inbox.fetch_meta([Uid(1), Uid(2)], frozenset(MetaItem)) == meta1
            assert await account.list_mailboxes() == boxes1
            assert "Box/Sub" in await account.subscriptions()
            assert await inbox.read_message(Uid(2)) == LARGE

    asyncio.run(body())


def test_store_flags_ops_and_modseq(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            inbox = await inbox_of(store)
            await inbox.append([AppendRequest(msg(1)), AppendRequest(msg(2), frozenset({"$X"}))])
            base = (await inbox.status()).highest_modseq
            r = await inbox.store_flags([Uid(1), Uid(2), Uid(7)], FlagOp.ADD, frozenset({"\\SEEN"}))
            assert [u.uid for u in r.updated] == [1, 2]
            assert all(u.modseq == base + 1 for u in r.updated)
            assert r.updated[1].flags == frozenset({"\\Seen", "$X"})
            # Keywords are case-insensitive: the mailbox keeps its first spelling.
            r = await inbox.store_flags([Uid(1)], FlagOp.ADD, frozenset({"$x"}))
            assert r.updated[0].flags == frozenset({"\\Seen", "$X"})
            r = await inbox.store_flags([Uid(2)], FlagOp.REMOVE, frozenset({"$x", "\\Seen"}))
            assert r.updated[0].flags == frozenset()
            r = await inbox.store_flags(
                [Uid(1)], FlagOp.REPLACE, frozenset({"\\Draft", "\\Recent"})
            )
            assert r.updated[0].flags == frozenset({"\\Draft"})
            high = (await inbox.status()).highest_modseq
            assert high == base + 4
            # RFC 7162: a STORE that changes nothing does not move the modseq.
            r = await inbox.store_flags([Uid(1)], FlagOp.ADD, frozenset({"\\Draft"}))
            assert r.updated[0].modseq == high
            assert (await inbox.status()).highest_modseq == high
            with pytest.raises(InvalidName):
                await inbox.store_flags([Uid(1)], FlagOp.ADD, frozenset({"bad flag"}))

    asyncio.run(body())


def test_unchanged_since(open_store: StoreOpener) -> None:
    """RFC 7162 §3.1.3."""

    async def body() -> None:
        async with open_store() as store:
            inbox = await inbox_of(store)
            await inbox.append([AppendRequest(msg(i)) for i in range(3)])
            snap = await inbox.snapshot(claim_recent=False)
            await inbox.store_flags([Uid(2)], FlagOp.ADD, frozenset({"$Mine"}))
            r = await inbox.store_flags(
                [Uid(1), Uid(2), Uid(3)],
                FlagOp.ADD,
                frozenset({"\\Seen"}),
                unchanged_since=snap.highest_modseq,
            )
            assert r.modified == (Uid(2),)
            assert [u.uid for u in r.updated] == [1, 3]
            metas = await inbox.fetch_meta([Uid(2)], frozenset())
            assert metas[0].flags == frozenset({"$Mine"})
            r = await inbox.store_flags(
                [Uid(1)], FlagOp.ADD, frozenset({"\\Seen"}), unchanged_since=ModSeq(0)
            )
            assert r.modified == (Uid(1),)
            assert r.updated == ()

    asyncio.run(body())


def test_expunge_only_deleted(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            inbox = await inbox_of(store)
            await inbox.append([AppendRequest(msg(i)) for i in range(5)])
            assert await inbox.expunge() == ()
            before = (await inbox.status()).highest_modseq
            await inbox.store_flags([Uid(1), Uid(3), Uid(5)], FlagOp.ADD, frozenset({"\\Deleted"}))
            assert await inbox.expunge([Uid(3), Uid(4), Uid(5), Uid(42)]) == (Uid(3), Uid(5))
            assert await inbox.expunge() == (Uid(1),)
            assert (await inbox.snapshot(claim_recent=False)).uids == (Uid(2), Uid(4))
            changes = await inbox.changes_since(before)
            assert changes.expunged == (Uid(1), Uid(3), Uid(5))
            assert [u.uid for u in changes.updated] == []
            assert changes.highest_modseq == before + 3

    asyncio.run(body())


def test_recent_is_claimed_once(open_store: StoreOpener) -> None:
    """RFC 3501 §2.3.2: each message is recent in exactly one session."""

    async def body() -> None:
        async with open_store() as store:
            inbox = await inbox_of(store)
            account = await store.open_account("alice")
            other = await account.open_mailbox(INBOX)
            await inbox.append([AppendRequest(msg(i)) for i in range(20)])
            assert (await account.mailbox_status(INBOX)).recent == 20
            snaps = await asyncio.gather(
                *(m.snapshot(claim_recent=True) for m in [inbox, other] * 4)
            )
            claimed = [u for s in snaps for u in s.recent]
            assert sorted(claimed) == list(range(1, 21))
            assert (await account.mailbox_status(INBOX)).recent == 0
            # New arrivals seen while selected are claimed by whoever asks first.
            result = await inbox.append([AppendRequest(msg(i)) for i in range(3)])
            assert (await inbox.status()).recent == 3
            got = await asyncio.gather(
                other.claim_recent(result.dest_uids), inbox.claim_recent(result.dest_uids)
            )
            assert sorted(got[0] + got[1]) == list(result.dest_uids)
            assert not set(got[0]) & set(got[1])
            assert await other.claim_recent(result.dest_uids) == ()
            examine = await account.open_mailbox(INBOX, read_only=True)
            await inbox.append([AppendRequest(msg(99))])
            snap = await examine.snapshot(claim_recent=False)
            # EXAMINE sees the unclaimed message as recent without taking it (RFC 3501 §6.3.2).
            assert snap.recent == (snap.uids[-1],)
            with pytest.raises(ReadOnly):
                await examine.snapshot(claim_recent=True)
            assert (await examine.status()).recent == 1
            assert (await inbox.snapshot(claim_recent=True)).recent == (snap.uids[-1],)

    asyncio.run(body())


def test_read_only_handle_refuses_writes(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            inbox = await inbox_of(store)
            await inbox.append([AppendRequest(msg(1), frozenset({"\\Deleted"}))])
            account = await store.open_account("alice")
            ro = await account.open_mailbox(INBOX, read_only=True)
            assert ro.read_only
            with pytest.raises(ReadOnly):
                await ro.append([AppendRequest(msg(2))])
            with pytest.raises(ReadOnly):
                await ro.store_flags([Uid(1)], FlagOp.ADD, frozenset({"\\Seen"}))
            with pytest.raises(ReadOnly):
                await ro.expunge()
            with pytest.raises(ReadOnly):
                await ro.move([Uid(1)], "Trash")
            # COPY from a read-only mailbox is allowed (the source does not change).
            assert (await ro.copy([Uid(1)], "Trash")).dest_uids == (Uid(1),)
            assert (await ro.status()).messages == 1

    asyncio.run(body())


def test_copy_preserves_flags_and_dates(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            inbox = await inbox_of(store)
            account = await store.open_account("alice")
            when = dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
            await inbox.append(
                [
                    AppendRequest(msg(1), frozenset({"\\Seen", "$K"}), when),
                    AppendRequest(LARGE, frozenset({"\\Flagged"}), when),
                    AppendRequest(msg(3)),
                ]
            )
            trash = await account.open_mailbox("Trash")
            await trash.append([AppendRequest(msg(0))])
            result = await inbox.copy([Uid(3), Uid(1), Uid(2), Uid(50)], "trash".title())
            assert result.source_uids == (Uid(1), Uid(2), Uid(3))
            assert result.dest_uids == (Uid(2), Uid(3), Uid(4))
            assert result.uidvalidity == (await trash.status()).uidvalidity
            metas = await trash.fetch_meta(list(result.dest_uids), frozenset(MetaItem))
            assert [m.flags for m in metas] == [
                frozenset({"\\Seen", "$K"}),
                frozenset({"\\Flagged"}),
                frozenset(),
            ]
            assert metas[0].internal_date == when
            assert await trash.read_message(Uid(3)) == LARGE
            assert (await trash.status()).recent == 4
            assert "$K" in (await trash.snapshot(claim_recent=False)).keywords
            # The source is unchanged.
            assert (await inbox.status()).messages == 3
            empty = await inbox.copy([Uid(77)], "Trash")
            assert empty.dest_uids == ()
            with pytest.raises(NotFound):
                await inbox.copy([Uid(1)], "Nowhere")
            await account.create_mailbox("P/C")
            await account.delete_mailbox("P")
            with pytest.raises(NoSelect):
                await inbox.copy([Uid(1)], "P")
            # Copy into the same mailbox gives new UIDs.
            again = await inbox.copy([Uid(1)], INBOX)
            assert again.dest_uids == (Uid(4),)

    asyncio.run(body())


def test_move_is_atomic_and_advances_both_modseqs(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            inbox = await inbox_of(store)
            account = await store.open_account("alice")
            trash = await account.open_mailbox("Trash")
            await inbox.append([AppendRequest(msg(i), frozenset({"\\Seen"})) for i in range(4)])
            src_before = (await inbox.status()).highest_modseq
            dst_before = (await trash.status()).highest_modseq
            result = await inbox.move([Uid(2), Uid(4)], "Trash")
            assert result.source_uids == (Uid(2), Uid(4))
            assert result.dest_uids == (Uid(1), Uid(2))
            src = await inbox.status()
            dst = await trash.status()
            assert src.highest_modseq > src_before
            assert dst.highest_modseq > dst_before
            assert (src.messages, dst.messages) == (2, 2)
            changes = await inbox.changes_since(src_before)
            assert changes.expunged == (Uid(2), Uid(4))
            assert [m.flags for m in await trash.fetch_meta([Uid(1)], frozenset())] == [
                frozenset({"\\Seen"})
            ]
            assert await trash.read_message(Uid(2)) == msg(3)
            # A failing move changes nothing.
            with pytest.raises(NotFound):
                await inbox.move([Uid(1)], "Missing")
            assert (await inbox.status()).messages == 2
            assert (await inbox.status()).highest_modseq == src.highest_modseq
            # Move within the same mailbox.
            same = await inbox.move([Uid(1)], INBOX)
            assert same.dest_uids == (Uid(5),)
            assert (await inbox.snapshot(claim_recent=False)).uids == (Uid(3), Uid(5))

    asyncio.run(body())


def test_changed_notices_after_commit(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            inbox = await inbox_of(store)
            got: list[object] = []
            sub = store.bus.subscribe("alice", got.append)
            result = await inbox.append([AppendRequest(msg(1))])
            status = await inbox.status()
            mid = inbox.info.mailbox_id
            assert got == [MailboxChanged("alice", mid, status.highest_modseq)]
            await inbox.store_flags(list(result.dest_uids), FlagOp.ADD, frozenset({"\\Seen"}))
            await inbox.store_flags(list(result.dest_uids), FlagOp.ADD, frozenset({"\\Seen"}))
            assert len(got) == 2  # the no-op STORE publishes nothing
            await inbox.move(list(result.dest_uids), "Trash")
            trash_id = next(
                m.mailbox_id
                for m in await (await store.open_account("alice")).list_mailboxes()
                if m.name == "Trash"
            )
            assert {n.mailbox_id for n in got[2:] if isinstance(n, MailboxChanged)} == {
                mid,
                trash_id,
            }
            sub.cancel()

    asyncio.run(body())


def test_fetch_meta_many_uids(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            inbox = await inbox_of(store)
            reqs = [AppendRequest(msg(i)) for i in range(5000)]
            await inbox.append(reqs)
            uids = [Uid(u) for u in range(1, 5001)]
            metas = await inbox.fetch_meta(uids, frozenset({MetaItem.SIZE, MetaItem.STRUCTURE}))
            assert [m.uid for m in metas] == uids
            assert metas[4999].size == len(msg(4999))
            odd = await inbox.fetch_meta(uids[::-2], frozenset())
            assert [m.uid for m in odd] == sorted(uids[::-2])
            snap = await inbox.snapshot(claim_recent=False)
            assert len(snap.uids) == 5000
            assert snap.first_unseen == Uid(1)

    asyncio.run(body())


def test_concurrent_appends(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            inbox = await inbox_of(store)

            async def one(i: int) -> tuple[Uid, ...]:
                batch = [AppendRequest(msg(i * 10 + j)) for j in range(3)]
                return (await inbox.append(batch)).dest_uids

            results = await asyncio.gather(*(one(i) for i in range(40)))
            flat = [u for r in results for u in r]
            assert sorted(flat) == list(range(1, 121))
            for r in results:  # each batch got consecutive UIDs
                assert list(r) == list(range(r[0], r[0] + 3))
            status = await inbox.status()
            assert status.messages == 120
            assert status.uidnext == 121

    asyncio.run(body())


def test_first_unseen_and_keywords(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            inbox = await inbox_of(store)
            snap = await inbox.snapshot(claim_recent=False)
            assert snap.uids == ()
            assert snap.first_unseen is None
            assert snap.uidnext == 1
            await inbox.append(
                [
                    AppendRequest(msg(1), frozenset({"\\Seen"})),
                    AppendRequest(msg(2), frozenset({"\\Seen", "$a"})),
                    AppendRequest(msg(3), frozenset({"$b"})),
                ]
            )
            snap = await inbox.snapshot(claim_recent=False)
            assert snap.first_unseen == Uid(3)
            assert snap.keywords == frozenset({"$a", "$b"})
            # Listed as unclaimed, not claimed: a second look still sees them.
            assert snap.recent == (Uid(1), Uid(2), Uid(3))
            assert (await inbox.snapshot(claim_recent=False)).recent == snap.recent

    asyncio.run(body())


def test_empty_requests_change_nothing(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            inbox = await inbox_of(store)
            await inbox.append([AppendRequest(msg(1), frozenset({"\\Deleted"}))])
            before = await inbox.status()
            assert (await inbox.append([])).dest_uids == ()
            assert await inbox.fetch_meta([], frozenset(MetaItem)) == []
            result = await inbox.store_flags([], FlagOp.ADD, frozenset({"\\Seen"}))
            assert (result.updated, result.modified) == ((), ())
            assert await inbox.expunge([]) == ()
            assert (await inbox.copy([], "Trash")).dest_uids == ()
            assert (await inbox.move([], "Trash")).dest_uids == ()
            assert await inbox.claim_recent([]) == ()
            assert await inbox.status() == before

    asyncio.run(body())
