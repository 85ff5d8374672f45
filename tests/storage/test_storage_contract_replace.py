"""Contract: REPLACE (RFC 8508 §3.4) is one transaction; URLAUTH keys follow their mailbox."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest

from buzon.storage import INBOX, AppendRequest, NotFound, OverQuota, Store, Uid
from buzon.storage.api import Account

StoreOpener = Callable[[], AbstractAsyncContextManager[Store]]


def msg(i: int, pad: int = 0) -> bytes:
    return b"Subject: message %d\r\n\r\nbody %d\r\n" % (i, i) + b"x" * pad


async def account_of(store: Store) -> Account:
    await store.create_user("alice", "s")
    return await store.open_account("alice")


def test_replace_is_atomic_and_counts_the_net_change(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            account = await account_of(store)
            inbox = await account.open_mailbox(INBOX)
            drafts = await account.open_mailbox("Trash")
            await inbox.append([AppendRequest(msg(1, pad=100)), AppendRequest(msg(2))])
            used = (await account.quota()).storage
            # The new message is 50 octets larger than the old: it fits only net of the old.
            await store.set_user_quota("alice", storage=used + 60, messages=2)
            result = await inbox.replace(Uid(2), inbox, AppendRequest(msg(3, pad=50)))
            assert result.source_uids == (Uid(2),)
            assert result.dest_uids == (Uid(3),)
            assert (await inbox.snapshot(claim_recent=False)).uids == (Uid(1), Uid(3))
            # Too big even net: nothing changes, in either mailbox.
            before = (await account.mailbox_status(INBOX), await account.mailbox_status("Trash"))
            with pytest.raises(OverQuota):
                await inbox.replace(Uid(1), drafts, AppendRequest(msg(4, pad=400)))
            after = (await account.mailbox_status(INBOX), await account.mailbox_status("Trash"))
            assert after == before
            # A message that is gone: NotFound, and nothing is appended.
            with pytest.raises(NotFound):
                await inbox.replace(Uid(2), drafts, AppendRequest(msg(5)))
            assert (await account.mailbox_status("Trash")).messages == 0
            # Replacing with identical bytes keeps the shared content alive.
            again = await inbox.replace(Uid(3), drafts, AppendRequest(msg(3, pad=50)))
            assert await drafts.read_message(again.dest_uids[0]) == msg(3, pad=50)

    asyncio.run(body())


def test_urlauth_keys(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            account = await account_of(store)
            assert await account.urlauth_key(INBOX, create=False) is None
            key = await account.urlauth_key(INBOX, create=True)
            assert key is not None
            assert len(key) >= 16  # RFC 4467 §7: at least 128 bits
            assert await account.urlauth_key(INBOX, create=True) == key
            await account.reset_urlauth_keys(INBOX)
            new = await account.urlauth_key(INBOX, create=False)
            assert new is not None
            assert new != key
            await account.reset_urlauth_keys(None)
            assert await account.urlauth_key(INBOX, create=False) is None
            await account.create_mailbox("Box")
            old_box = await account.urlauth_key("Box", create=True)
            await account.delete_mailbox("Box")
            await account.create_mailbox("Box")  # a new incarnation has no key yet
            assert await account.urlauth_key("Box", create=False) is None
            assert old_box != await account.urlauth_key("Box", create=True)
            with pytest.raises(NotFound):
                await account.urlauth_key("Nowhere", create=True)

    asyncio.run(body())
