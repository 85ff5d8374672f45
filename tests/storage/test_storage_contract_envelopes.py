"""Contract: batched message reads and kept ENVELOPE renderings (every backend)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from buzon.mime import Envelope
from buzon.storage import INBOX, AppendRequest, FlagOp, Mailbox, Store, Uid

StoreOpener = Callable[[], AbstractAsyncContextManager[Store]]

SMALL = b"From: a@example.org\r\nSubject: small\r\n\r\nhello\r\n"
LARGE = b"Subject: large\r\n\r\n" + b"0123456789abcdef\r\n" * 500  # over the 1024 inline limit
OTHER = b"Subject: other\r\n\r\nother\r\n"


async def _inbox(store: Store, *, read_only: bool = False) -> Mailbox:
    if "alice" not in await store.list_users():
        await store.create_user("alice", "s")
    account = await store.open_account("alice")
    return await account.open_mailbox(INBOX, read_only=read_only)


async def _expunge(mailbox: Mailbox, uids: list[Uid]) -> None:
    await mailbox.store_flags(uids, FlagOp.ADD, frozenset({"\\Deleted"}))
    await mailbox.expunge(uids)


def test_read_messages_small_large_and_expunged(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            inbox = await _inbox(store)
            await inbox.append([AppendRequest(SMALL), AppendRequest(LARGE), AppendRequest(OTHER)])
            got = await inbox.read_messages([Uid(1), Uid(2), Uid(3), Uid(9)])
            assert got == {Uid(1): SMALL, Uid(2): LARGE, Uid(3): OTHER}
            await _expunge(inbox, [Uid(2)])
            assert await inbox.read_messages([Uid(1), Uid(2), Uid(3)]) == {
                Uid(1): SMALL,
                Uid(3): OTHER,
            }
            assert await inbox.read_messages([]) == {}

    asyncio.run(body())


def test_kept_renderings_belong_to_contents(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            inbox = await _inbox(store)
            await inbox.append([AppendRequest(SMALL), AppendRequest(SMALL), AppendRequest(OTHER)])
            found = await inbox.envelopes([Uid(1), Uid(2), Uid(3)])
            assert all(isinstance(v, Envelope) for v in found.values())
            small = found[Uid(1)]
            assert isinstance(small, Envelope)
            assert small.subject == b"small"
            # A read-only handle may keep them (a cache, not a change of the mailbox).
            reader = await _inbox(store, read_only=True)
            await reader.keep_envelopes({Uid(1): b"(rendered small)"})
            found = await inbox.envelopes([Uid(1), Uid(2), Uid(3)])
            # UID 2 has the same content as UID 1: the same rendering.
            assert found[Uid(1)] == found[Uid(2)] == b"(rendered small)"
            assert isinstance(found[Uid(3)], Envelope)
            # What is kept is not replaced; expunged or unknown UIDs are ignored.
            await inbox.keep_envelopes({Uid(2): b"(other)", Uid(3): b"(rendered other)"})
            await inbox.keep_envelopes({Uid(99): b"(nobody)"})
            found = await inbox.envelopes([Uid(1), Uid(2), Uid(3), Uid(99)])
            assert found == {
                Uid(1): b"(rendered small)",
                Uid(2): b"(rendered small)",
                Uid(3): b"(rendered other)",
            }
            # A new message with a new content starts without a rendering.
            await _expunge(inbox, [Uid(1), Uid(2), Uid(3)])
            await inbox.append([AppendRequest(LARGE)])
            await inbox.keep_envelopes({Uid(3): b"(late)"})  # expunged: ignored
            found = await inbox.envelopes([Uid(1), Uid(2), Uid(3), Uid(4)])
            assert list(found) == [Uid(4)]
            assert isinstance(found[Uid(4)], Envelope)

    asyncio.run(body())


def test_kept_renderings_survive_a_restart(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            inbox = await _inbox(store)
            await inbox.append([AppendRequest(SMALL)])
            await inbox.keep_envelopes({Uid(1): b"(kept)"})
        async with open_store() as store:
            inbox = await _inbox(store)
            assert await inbox.envelopes([Uid(1)]) == {Uid(1): b"(kept)"}

    asyncio.run(body())
