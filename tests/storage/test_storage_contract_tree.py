"""Contract: users, mailbox names and the mailbox tree (every backend)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest

from buzon.storage import (
    INBOX,
    AlreadyExists,
    AppendRequest,
    FlagOp,
    HasChildren,
    InvalidName,
    MailboxListChanged,
    NoPermission,
    NoSelect,
    NotFound,
    StorageError,
    Store,
    Uid,
)

StoreOpener = Callable[[], AbstractAsyncContextManager[Store]]

MSG = b"Subject: hello\r\n\r\nbody\r\n"


def test_create_user_gets_default_mailboxes_subscribed(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            await store.create_user("alice", "secret")
            account = await store.open_account("alice")
            boxes = {m.name: m for m in await account.list_mailboxes()}
            assert set(boxes) == {"INBOX", "Sent", "Trash"}
            assert boxes["Sent"].special_use == frozenset({"\\Sent"})
            assert boxes["Trash"].special_use == frozenset({"\\Trash"})
            assert boxes["INBOX"].special_use == frozenset()
            assert all(m.selectable for m in boxes.values())
            assert await account.subscriptions() == ["INBOX", "Sent", "Trash"]
            assert await store.get_user_secret("alice") == "secret"
            with pytest.raises(AlreadyExists):
                await store.create_user("alice", "other")
            assert await store.get_user_secret("alice") == "secret"

    asyncio.run(body())


def test_user_names_are_exact_and_case_sensitive(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            await store.create_user("alice", "a")
            await store.create_user("Alice", "A")
            assert await store.list_users() == ["Alice", "alice"]
            assert await store.get_user_secret("ALICE") is None
            await store.set_user_secret("Alice", "B")
            assert await store.get_user_secret("Alice") == "B"
            assert await store.get_user_secret("alice") == "a"
            with pytest.raises(NotFound):
                await store.set_user_secret("nobody", "x")
            with pytest.raises(NotFound):
                await store.open_account("ALICE")

    asyncio.run(body())


@pytest.mark.parametrize(
    "name", ["", "a b", "a\tb", "a/b", "x\x00", "x\x7f", "x\x85", "a" * 256, "é" * 128, "\n"]
)
def test_invalid_user_names(open_store: StoreOpener, name: str) -> None:
    async def body() -> None:
        async with open_store() as store:
            with pytest.raises(InvalidName):
                await store.create_user(name, "s")
            assert await store.list_users() == []

    asyncio.run(body())


def test_delete_user_removes_everything(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            await store.create_user("alice", "s")
            await store.create_user("bob", "s")
            account = await store.open_account("alice")
            await account.create_mailbox("Work/2024")
            inbox = await account.open_mailbox(INBOX)
            await inbox.append([AppendRequest(MSG), AppendRequest(MSG * 200)])
            await store.delete_user("alice")
            assert await store.list_users() == ["bob"]
            with pytest.raises(NotFound):
                await store.open_account("alice")
            with pytest.raises(NotFound):
                await inbox.status()
            with pytest.raises(NotFound):
                await store.delete_user("alice")
            # A new user of the same name starts from scratch.
            await store.create_user("alice", "s2")
            again = await store.open_account("alice")
            assert [m.name for m in await again.list_mailboxes()] == ["INBOX", "Sent", "Trash"]
            assert (await again.mailbox_status(INBOX)).messages == 0

    asyncio.run(body())


@pytest.mark.parametrize(
    "name",
    [
        "",
        "/",
        "/a",
        "a/",
        "a//b",
        "a/./b",
        "a/../b",
        ".",
        "..",
        "a\x00b",
        "a\x1fb",
        "a\x7fb",
        "a\x9fb",
        "a\nb",
        "x" * 256,
        "é" * 128,  # 256 bytes in UTF-8
        "/".join(["abcdefghij"] * 100),  # 1099 characters
    ],
)
def test_invalid_mailbox_names(open_store: StoreOpener, name: str) -> None:
    async def body() -> None:
        async with open_store() as store:
            await store.create_user("alice", "s")
            account = await store.open_account("alice")
            with pytest.raises(InvalidName):
                await account.create_mailbox(name)
            with pytest.raises(InvalidName):
                await account.subscribe(name)
            with pytest.raises(InvalidName):
                await account.open_mailbox(name)
            assert len(await account.list_mailboxes()) == 3

    asyncio.run(body())


def test_inbox_is_case_insensitive_also_as_first_component(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            await store.create_user("alice", "s")
            account = await store.open_account("alice")
            with pytest.raises(AlreadyExists):
                await account.create_mailbox("inbox")
            info = await account.create_mailbox("iNbOx/Child")
            assert info.name == "INBOX/Child"
            box = await account.open_mailbox("inbox")
            assert box.info.name == INBOX
            await account.create_mailbox("Inboxes")  # not INBOX
            await account.create_mailbox("x/inbox")  # only the first component
            names = [m.name for m in await account.list_mailboxes()]
            assert names == sorted(names)
            assert "INBOX/Child" in names
            assert "Inboxes" in names
            assert "x/inbox" in names
            await account.subscribe("inbox/child")
            assert "INBOX/child" in await account.subscriptions()

    asyncio.run(body())


def test_unicode_names_round_trip(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            await store.create_user("alice", "s")
            account = await store.open_account("alice")
            await account.create_mailbox("Büro/日本語/😀")
            names = [m.name for m in await account.list_mailboxes()]
            assert {"Büro", "Büro/日本語", "Büro/日本語/😀"} <= set(names)

    asyncio.run(body())


def test_create_creates_parents_and_refuses_duplicates(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            await store.create_user("alice", "s")
            account = await store.open_account("alice")
            info = await account.create_mailbox("a/b/c", special_use=frozenset({"\\Archive"}))
            assert info.special_use == frozenset({"\\Archive"})
            boxes = {m.name: m for m in await account.list_mailboxes()}
            assert boxes["a"].selectable
            assert boxes["a/b"].selectable
            assert boxes["a/b/c"].special_use == frozenset({"\\Archive"})
            with pytest.raises(AlreadyExists):
                await account.create_mailbox("a/b")
            await (await account.open_mailbox("a/b")).status()

    asyncio.run(body())


def test_delete_rules(open_store: StoreOpener) -> None:
    """RFC 3501 §6.3.4, including its example."""

    async def body() -> None:
        async with open_store() as store:
            await store.create_user("alice", "s")
            account = await store.open_account("alice")
            with pytest.raises(NoPermission):
                await account.delete_mailbox("inbox")
            with pytest.raises(NotFound):
                await account.delete_mailbox("missing")
            await account.create_mailbox("foo/bar")
            foo = await account.open_mailbox("foo")
            await foo.append([AppendRequest(MSG)])
            old_validity = (await foo.status()).uidvalidity
            await account.delete_mailbox("foo")  # has children: becomes \Noselect
            boxes = {m.name: m for m in await account.list_mailboxes()}
            assert not boxes["foo"].selectable
            assert boxes["foo/bar"].selectable
            with pytest.raises(NotFound):
                await foo.status()  # the old handle sees its mailbox gone
            with pytest.raises(NoSelect):
                await account.open_mailbox("foo")
            with pytest.raises(NoSelect):
                await account.mailbox_status("foo")
            with pytest.raises(HasChildren):
                await account.delete_mailbox("foo")
            await account.delete_mailbox("foo/bar")
            await account.delete_mailbox("foo")  # placeholder without children
            assert "foo" not in {m.name for m in await account.list_mailboxes()}
            # Recreated: fresh UIDVALIDITY, empty.
            await account.create_mailbox("foo")
            status = await account.mailbox_status("foo")
            assert status.uidvalidity != old_validity
            assert status.messages == 0

    asyncio.run(body())


def test_create_over_placeholder_makes_it_selectable(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            await store.create_user("alice", "s")
            account = await store.open_account("alice")
            await account.create_mailbox("p/c")
            before = (await account.mailbox_status("p")).uidvalidity
            await account.delete_mailbox("p")
            info = await account.create_mailbox("p")
            assert info.selectable
            after = await account.mailbox_status("p")
            assert after.uidvalidity > before
            assert after.messages == 0

    asyncio.run(body())


def test_uidvalidity_never_reused_for_a_name(open_store: StoreOpener) -> None:
    async def body() -> None:
        seen: list[int] = []
        async with open_store() as store:
            await store.create_user("alice", "s")
            account = await store.open_account("alice")
            for _ in range(3):
                await account.create_mailbox("x")
                seen.append((await account.mailbox_status("x")).uidvalidity)
                await account.delete_mailbox("x")
        async with open_store() as store:
            account = await store.open_account("alice")
            await account.create_mailbox("x")
            seen.append((await account.mailbox_status("x")).uidvalidity)
            await store.delete_user("alice")
            await store.create_user("alice", "s")
            account = await store.open_account("alice")
            await account.create_mailbox("x")
            seen.append((await account.mailbox_status("x")).uidvalidity)
        assert seen == sorted(seen)
        assert len(set(seen)) == len(seen)
        assert all(0 < v < 2**32 for v in seen)

    asyncio.run(body())


def test_rename_keeps_identity_and_moves_children(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            await store.create_user("alice", "s")
            account = await store.open_account("alice")
            await account.create_mailbox("a/b/c")
            box = await account.open_mailbox("a")
            await box.append([AppendRequest(MSG)])
            before = {n: await account.mailbox_status(n) for n in ("a", "a/b", "a/b/c")}
            ids = {m.name: m.mailbox_id for m in await account.list_mailboxes()}
            await account.subscribe("a")
            await account.rename_mailbox("a", "x/y")
            boxes = {m.name: m for m in await account.list_mailboxes()}
            assert "a" not in boxes
            assert "a/b" not in boxes
            assert boxes["x"].selectable  # parent created
            for old, new in (("a", "x/y"), ("a/b", "x/y/b"), ("a/b/c", "x/y/b/c")):
                assert boxes[new].mailbox_id == ids[old]
                status = await account.mailbox_status(new)
                assert status.uidvalidity == before[old].uidvalidity
                assert status.messages == before[old].messages
            # The open handle still works on the renamed mailbox.
            assert (await box.status()).messages == 1
            # RFC 9051 §6.3.6: subscriptions are not changed by RENAME.
            assert "a" in await account.subscriptions()
            assert "x/y" not in await account.subscriptions()

    asyncio.run(body())


def test_rename_errors(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            await store.create_user("alice", "s")
            account = await store.open_account("alice")
            await account.create_mailbox("a/b")
            await account.create_mailbox("c")
            with pytest.raises(NotFound):
                await account.rename_mailbox("missing", "z")
            with pytest.raises(AlreadyExists):
                await account.rename_mailbox("a", "c")
            with pytest.raises(AlreadyExists):
                await account.rename_mailbox("c", "inbox")
            with pytest.raises(AlreadyExists):
                await account.rename_mailbox("a", "a")
            with pytest.raises(InvalidName):
                await account.rename_mailbox("a", "a/b/x")
            with pytest.raises(InvalidName):
                await account.rename_mailbox("a", "bad//name")
            names = [m.name for m in await account.list_mailboxes()]
            assert names == ["INBOX", "Sent", "Trash", "a", "a/b", "c"]

    asyncio.run(body())


def test_rename_inbox_moves_messages(open_store: StoreOpener) -> None:
    """RFC 3501 §6.3.5: INBOX stays, empty; its messages move; its children stay."""

    async def body() -> None:
        async with open_store() as store:
            await store.create_user("alice", "s")
            account = await store.open_account("alice")
            await account.create_mailbox("INBOX/kid")
            inbox = await account.open_mailbox(INBOX)
            await inbox.append(
                [AppendRequest(MSG, frozenset({"\\Seen", "$Work"})), AppendRequest(MSG + b"2")]
            )
            await inbox.store_flags([Uid(2)], FlagOp.ADD, frozenset({"\\Deleted"}))
            await inbox.expunge()
            await inbox.append([AppendRequest(MSG + b"3")])
            before = await inbox.status()
            await account.rename_mailbox("inbox", "Old")
            after = await inbox.status()
            assert after.messages == 0
            assert after.uidvalidity == before.uidvalidity
            assert after.uidnext == before.uidnext
            assert after.highest_modseq > before.highest_modseq
            changes = await inbox.changes_since(before.highest_modseq)
            assert changes.expunged == (Uid(1), Uid(3))
            old = await account.mailbox_status("Old")
            assert old.uidvalidity != before.uidvalidity
            assert old.messages == 2
            moved = await account.open_mailbox("Old")
            metas = await moved.fetch_meta([Uid(1), Uid(2)], frozenset())
            assert [m.flags for m in metas] == [frozenset({"\\Seen", "$Work"}), frozenset()]
            assert await moved.read_message(Uid(2)) == MSG + b"3"
            assert "$Work" in (await moved.snapshot(claim_recent=False)).keywords
            names = {m.name for m in await account.list_mailboxes()}
            assert {"INBOX", "INBOX/kid", "Old"} <= names

    asyncio.run(body())


def test_subscriptions_are_names(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            await store.create_user("alice", "s")
            account = await store.open_account("alice")
            await account.subscribe("does/not/exist")
            await account.subscribe("does/not/exist")
            await account.unsubscribe("never-subscribed")
            await account.unsubscribe("Trash")
            assert await account.subscriptions() == ["INBOX", "Sent", "does/not/exist"]
            names = {m.name for m in await account.list_mailboxes()}
            assert "does/not/exist" not in names

    asyncio.run(body())


def test_list_changed_notices(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            await store.create_user("alice", "s")
            account = await store.open_account("alice")
            got: list[object] = []
            sub = store.bus.subscribe("alice", got.append)
            await account.create_mailbox("a")
            await account.rename_mailbox("a", "b")
            await account.delete_mailbox("b")
            assert got.count(MailboxListChanged("alice")) == 3
            sub.cancel()
            sub.cancel()
            await account.create_mailbox("c")
            assert got.count(MailboxListChanged("alice")) == 3

    asyncio.run(body())


def test_errors_are_storage_errors(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            with pytest.raises(StorageError):
                await store.open_account("ghost")

    asyncio.run(body())


def test_rename_inbox_into_its_own_child(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            await store.create_user("alice", "s")
            account = await store.open_account("alice")
            inbox = await account.open_mailbox("INBOX")
            await inbox.append([AppendRequest(MSG)])
            await account.rename_mailbox("INBOX", "inbox/2024")
            assert (await account.mailbox_status("INBOX/2024")).messages == 1
            assert (await account.mailbox_status("INBOX")).messages == 0

    asyncio.run(body())
