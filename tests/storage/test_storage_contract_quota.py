"""Contract: quota usage is exact and limits hold; annotations follow their mailbox."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest

from buzon.storage import (
    INBOX,
    AppendRequest,
    FlagOp,
    MetaItem,
    NotFound,
    OverQuota,
    Store,
    Uid,
)
from buzon.storage.api import Account, QuotaUsage, TooMany

StoreOpener = Callable[[], AbstractAsyncContextManager[Store]]


def msg(i: int, pad: int = 0) -> bytes:
    return b"Subject: message %d\r\n\r\nbody %d\r\n" % (i, i) + b"x" * pad


async def account_of(store: Store, user: str = "alice") -> Account:
    if user not in await store.list_users():
        await store.create_user(user, "s")
    return await store.open_account(user)


async def _true_usage(account: Account) -> tuple[int, int]:
    """Recount from the messages themselves, the way a background job would."""
    size = count = 0
    for info in await account.list_mailboxes():
        if not info.selectable:
            continue
        box = await account.open_mailbox(info.name)
        snap = await box.snapshot(claim_recent=False)
        meta = await box.fetch_meta(list(snap.uids), frozenset({MetaItem.SIZE}))
        size += sum(m.size or 0 for m in meta)
        count += len(meta)
    return size, count


async def _assert_exact(account: Account) -> QuotaUsage:
    usage = await account.quota()
    assert (usage.storage, usage.messages) == await _true_usage(account)
    return usage


def test_usage_exact_after_append_copy_move_expunge_delete(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            account = await account_of(store)
            await account.create_mailbox("Box")
            inbox = await account.open_mailbox(INBOX)
            await inbox.append([AppendRequest(msg(i, pad=100 * i)) for i in range(1, 6)])
            usage = await _assert_exact(account)
            assert usage.messages == 5
            await inbox.copy([Uid(1), Uid(2)], "Box")  # the bytes are shared, counted twice
            assert (await _assert_exact(account)).messages == 7
            await inbox.move([Uid(3)], "Trash")
            assert (await _assert_exact(account)).messages == 7
            await inbox.store_flags([Uid(4), Uid(5)], FlagOp.ADD, frozenset({"\\Deleted"}))
            status = await account.mailbox_status(INBOX)
            assert status.deleted_size == len(msg(4, 400)) + len(msg(5, 500))
            await inbox.expunge()
            assert (await _assert_exact(account)).messages == 5
            await account.delete_mailbox("Box")
            assert (await _assert_exact(account)).messages == 3
            await account.rename_mailbox(INBOX, "Old")
            assert (await _assert_exact(account)).messages == 3
        async with open_store() as store:  # a restart recounts nothing and loses nothing
            assert (await _assert_exact(await store.open_account("alice"))).messages == 3

    asyncio.run(body())


def test_over_quota_changes_nothing(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            account = await account_of(store)
            inbox = await account.open_mailbox(INBOX)
            await inbox.append([AppendRequest(msg(1)), AppendRequest(msg(2))])
            await store.set_user_quota("alice", storage=None, messages=3)
            before = await account.mailbox_status(INBOX)
            with pytest.raises(OverQuota):  # MULTIAPPEND: all or nothing
                await inbox.append([AppendRequest(msg(3)), AppendRequest(msg(4))])
            with pytest.raises(OverQuota):
                await inbox.copy([Uid(1), Uid(2)], "Trash")
            assert await account.mailbox_status(INBOX) == before
            assert (await account.mailbox_status("Trash")).messages == 0
            used = (await account.quota()).storage
            await store.set_user_quota("alice", storage=used + 10, messages=None)
            with pytest.raises(OverQuota):
                await inbox.append([AppendRequest(msg(3, pad=20))])
            await inbox.append([AppendRequest(b"tiny")])  # 4 octets still fit
            assert (await account.quota()).storage == used + 4
            # Moving within the one quota root changes no usage, so it is never refused.
            await store.set_user_quota("alice", storage=None, messages=3)
            await inbox.move([Uid(1)], "Trash")
            assert (await _assert_exact(account)).messages == 3
            removed = await account.set_quota(storage=None, messages=None)
            assert (removed.storage_limit, removed.message_limit) == (None, None)

    asyncio.run(body())


def test_concurrent_appenders_never_exceed(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            account = await account_of(store)
            await store.set_user_quota("alice", storage=None, messages=7)
            boxes = [await account.open_mailbox(INBOX) for _ in range(20)]

            async def one(i: int) -> bool:
                try:
                    await boxes[i].append([AppendRequest(msg(i))])
                except OverQuota:
                    return False
                return True

            results = await asyncio.gather(*(one(i) for i in range(20)))
            assert sum(results) == 7
            assert (await _assert_exact(account)).messages == 7

    asyncio.run(body())


def test_quota_of_missing_user(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            with pytest.raises(NotFound):
                await store.set_user_quota("nobody", storage=1, messages=None)

    asyncio.run(body())


def test_metadata_scopes_limits_and_lifecycle(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            alice = await account_of(store)
            bob = await account_of(store, "bob")
            await alice.set_metadata(
                INBOX, [("/private/comment", b"a"), ("/shared/comment", b"s")], max_entries=5
            )
            await alice.set_metadata("", [("/private/x/y", b"1")], max_entries=5)
            assert await bob.get_metadata("", ["/private/x/y"], 0) == []
            got = await alice.get_metadata(INBOX, ["/private", "/shared"], None)
            assert [(e.name, e.value) for e in got] == [
                ("/private/comment", b"a"),
                ("/shared/comment", b"s"),
            ]
            # All or nothing past the limit; updating existing entries is always allowed.
            with pytest.raises(TooMany):
                await alice.set_metadata(
                    INBOX, [("/private/a", b"1"), ("/private/b", b"2")], max_entries=2
                )
            assert len(await alice.get_metadata(INBOX, ["/private"], None)) == 1
            await alice.set_metadata(INBOX, [("/private/comment", b"b")], max_entries=0)
            # RFC 5464 §4.1: INBOX keeps its annotations when renamed; the new one gets a copy.
            await alice.rename_mailbox(INBOX, "Old")
            for name in (INBOX, "Old"):
                values = await alice.get_metadata(name, ["/private/comment"], 0)
                assert [e.value for e in values] == [b"b"]
            await alice.delete_mailbox("Old")
            await alice.create_mailbox("Old")
            assert await alice.get_metadata("Old", ["/private/comment"], 0) == []
            with pytest.raises(NotFound):
                await alice.get_metadata("Nowhere", ["/private/comment"], 0)
            await store.delete_user("alice")
            assert await bob.get_metadata("", ["/private"], None) == []

    asyncio.run(body())
