"""Contract: bulk import with kept UIDs, checkpoints and adopted UIDVALIDITY (every backend)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest

from buzon.storage import INBOX, AppendRequest, MetaItem, StorageError, Store, Uid
from buzon.storage.api import Checkpoint

StoreOpener = Callable[[], AbstractAsyncContextManager[Store]]


def msg(i: int) -> AppendRequest:
    return AppendRequest(b"Subject: m%d\r\n\r\nbody %d\r\n" % (i, i), frozenset({"\\Seen"}))


def test_kept_uids_checkpoint_and_uidnext(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            await store.create_user("alice", "s")
            account = await store.open_account("alice")
            await account.create_mailbox("Old")
            mailbox = await account.open_mailbox("Old")
            assert await account.import_position("src") is None
            result = await mailbox.import_messages(
                [msg(1), msg(2), msg(3)],
                uids=[Uid(5), Uid(9), Uid(10)],
                checkpoint=Checkpoint("src", "3"),
            )
            assert result.dest_uids == (5, 9, 10)
            assert await account.import_position("src") == "3"
            # A wanted UID below UIDNEXT cannot be kept: the message gets UIDNEXT.
            result = await mailbox.import_messages(
                [msg(4), msg(5)], uids=[Uid(7), Uid(20)], uidnext=Uid(40)
            )
            assert result.dest_uids == (11, 20)
            status = await mailbox.status()
            assert (status.uidnext, status.messages) == (40, 5)
            # Without messages: only the checkpoint and UIDNEXT move, no modseq.
            await mailbox.import_messages([], uidnext=Uid(50), checkpoint=Checkpoint("src", "e"))
            again = await mailbox.status()
            assert again.uidnext == 50
            assert again.highest_modseq == status.highest_modseq
            assert await account.import_position("src") == "e"
            # Plain append continues after the raised UIDNEXT.
            assert (await mailbox.append([msg(6)])).dest_uids == (50,)
            metas = await mailbox.fetch_meta([Uid(5)], frozenset({MetaItem.SIZE}))
            assert metas[0].flags == frozenset({"\\Seen"})
        async with open_store() as store:  # checkpoints are durable and per account
            account = await store.open_account("alice")
            assert await account.import_position("src") == "e"
            await store.create_user("bob", "s")
            assert await (await store.open_account("bob")).import_position("src") is None

    asyncio.run(body())


def test_a_failed_batch_records_no_checkpoint_and_stops_later_ones(
    open_store: StoreOpener,
) -> None:
    async def body() -> None:
        async with open_store() as store:
            await store.create_user("alice", "s")
            account = await store.open_account("alice")
            inbox = await account.open_mailbox(INBOX)
            await inbox.import_messages([msg(1)], checkpoint=Checkpoint("src", "1"))
            # Started together: the second commits only after the first, and fails with it.
            bad = inbox.import_messages(
                [msg(2)], uids=[Uid(2**32)], checkpoint=Checkpoint("src", "2")
            )
            later = inbox.import_messages([msg(3)], checkpoint=Checkpoint("src", "3"))
            outcomes = await asyncio.gather(bad, later, return_exceptions=True)
            assert all(isinstance(o, StorageError) for o in outcomes)
            assert await account.import_position("src") == "1"
            assert (await inbox.status()).messages == 1
            # Even a call started after the failure fails; a new handle goes on.
            with pytest.raises(StorageError):
                await inbox.import_messages([msg(4)], checkpoint=Checkpoint("src", "4"))
            inbox = await account.open_mailbox(INBOX)
            await inbox.import_messages([msg(4)], checkpoint=Checkpoint("src", "4"))
            assert await account.import_position("src") == "4"

    asyncio.run(body())


def test_concurrent_calls_commit_in_call_order(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            await store.create_user("alice", "s")
            account = await store.open_account("alice")
            inbox = await account.open_mailbox(INBOX)
            big = [msg(i) for i in range(300)]  # parsed longer than the small one after it
            results = await asyncio.gather(
                inbox.import_messages(big, checkpoint=Checkpoint("s", "a")),
                inbox.import_messages([msg(999)], checkpoint=Checkpoint("s", "b")),
            )
            assert results[0].dest_uids == tuple(range(1, 301))
            assert results[1].dest_uids == (301,)
            assert await account.import_position("s") == "b"

    asyncio.run(body())


def test_adopt_uidvalidity_only_while_never_used(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            await store.create_user("alice", "s")
            account = await store.open_account("alice")
            inbox = await account.open_mailbox(INBOX)
            assert await inbox.adopt_uidvalidity(1234)
            assert (await inbox.status()).uidvalidity == 1234
            await inbox.import_messages([msg(1)], uids=[Uid(1)], checkpoint=None)  # UIDNEXT moves
            assert not await inbox.adopt_uidvalidity(99)
            assert (await inbox.status()).uidvalidity == 1234
            with pytest.raises(ValueError, match="non-zero"):
                await inbox.adopt_uidvalidity(0)
            assert (await inbox.snapshot(claim_recent=False)).uidvalidity == 1234
            with pytest.raises(ValueError, match="one UID per message"):
                await inbox.import_messages([msg(1)], uids=[])
            when = dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
            res = await inbox.import_messages([AppendRequest(b"S: x\r\n\r\n", internal_date=when)])
            metas = await inbox.fetch_meta(res.dest_uids, frozenset({MetaItem.INTERNAL_DATE}))
            assert metas[0].internal_date == when

    asyncio.run(body())
