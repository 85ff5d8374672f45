"""Object ids (RFC 8474), save dates (RFC 8514) and previews (RFC 8970) in storage."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import re
import sqlite3
from collections.abc import Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

from buzon.mime import parse
from buzon.storage import INBOX, AppendRequest, Mailbox, MetaItem, Store, Uid
from buzon.storage.query import EmailIdIs, ThreadIdIs
from buzon.storage.sqlite import SqliteStore, schema

StoreOpener = Callable[[], AbstractAsyncContextManager[Store]]

OBJECTID = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,254}")
IDS = frozenset({MetaItem.EMAILID, MetaItem.THREADID, MetaItem.SAVE_DATE, MetaItem.PREVIEW})


def mail(n: int, refs: str = "", *, msgid: str | None = None, body: str = "hello") -> bytes:
    head = f"From: a@x\r\nSubject: m{n}\r\n"
    ident = f"<m{n}@x>" if msgid is None else msgid
    if ident:
        head += f"Message-ID: {ident}\r\n"
    if refs:
        head += f"References: {refs}\r\n"
    return (head + f"\r\n{body} {n}\r\n").encode()


def run(coro: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(coro())


async def inbox_of(store: Store, user: str = "alice") -> Mailbox:
    if user not in await store.list_users():
        await store.create_user(user, "s")
    return await (await store.open_account(user)).open_mailbox(INBOX)


async def ids(mailbox: Mailbox) -> dict[int, tuple[str, str]]:
    metas = await mailbox.fetch_meta([Uid(u) for u in range(1, 100)], IDS)
    out = {}
    for m in metas:
        assert m.emailid is not None
        assert m.threadid is not None
        assert OBJECTID.fullmatch(m.emailid)
        assert OBJECTID.fullmatch(m.threadid)
        out[int(m.uid)] = (m.emailid, m.threadid)
    return out


def test_emailid_shared_by_copy_and_move(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            inbox = await inbox_of(store)
            await inbox.append([AppendRequest(mail(1)), AppendRequest(mail(2))])
            account = await store.open_account("alice")
            await account.create_mailbox("Other")
            await inbox.copy([Uid(1)], "Other")
            await inbox.move([Uid(2)], "Other")
            other = await account.open_mailbox("Other")
            before = await ids(inbox)
            after = await ids(other)
            assert set(before) == {1}
            assert after[1] == before[1]  # COPYUID pair 1 -> 1
            assert after[2][0] != after[1][0]  # another content, another EMAILID
            assert not {e for e, _ in after.values()} & {t for _, t in after.values()}
            found = await other.search(EmailIdIs(after[2][0]))
            assert found.uids == (Uid(2),)
            assert (await other.search(EmailIdIs(after[2][0].upper()))).uids == ()

    run(body)


def test_mailboxid_survives_rename_and_is_new_for_a_recreated_name(
    open_store: StoreOpener,
) -> None:
    async def body() -> None:
        async with open_store() as store:
            await store.create_user("alice", "s")
            account = await store.open_account("alice")
            made = await account.create_mailbox("A/B")
            assert OBJECTID.fullmatch(made.objectid)
            assert made.objectid.startswith("F")
            status = await account.mailbox_status("A/B")
            assert status.objectid == made.objectid
            parent = (await account.mailbox_status("A")).objectid
            await account.rename_mailbox("A", "C")
            assert (await account.mailbox_status("C/B")).objectid == made.objectid
            assert (await account.mailbox_status("C")).objectid == parent
            again = await account.create_mailbox("A/B")
            assert again.objectid not in (made.objectid, parent, "")
            # A placeholder made a mailbox again is a new incarnation (RFC 8474 §4).
            await account.delete_mailbox("C")
            recreated = await account.create_mailbox("C")
            assert recreated.objectid != parent
            # RFC 8474 §8.2: RENAME INBOX makes a new mailbox; INBOX keeps its id.
            inbox_id = (await account.mailbox_status(INBOX)).objectid
            await account.rename_mailbox(INBOX, "Old")
            assert (await account.mailbox_status(INBOX)).objectid == inbox_id
            assert (await account.mailbox_status("Old")).objectid != inbox_id
            listed = {m.name: m.objectid for m in await account.list_mailboxes()}
            assert listed["C/B"] == made.objectid

    run(body)


def test_threadid_of_a_reply_is_its_parents(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            inbox = await inbox_of(store)
            await inbox.append(
                [
                    AppendRequest(mail(1)),
                    AppendRequest(mail(2, "<m1@x>")),  # reply to 1
                    AppendRequest(mail(3)),  # unrelated
                    AppendRequest(mail(5, "<m4@x>")),  # reply to 4, which comes later
                ]
            )
            # a later batch: a reply to a reply, 4 itself, and an In-Reply-To only
            await inbox.append([AppendRequest(mail(6, "<m1@x> <m2@x>")), AppendRequest(mail(4))])
            await inbox.append(
                [AppendRequest(b"Message-ID: <m7@x>\r\nIn-Reply-To: <m3@x>\r\n\r\nx\r\n")]
            )
            got = await ids(inbox)
            thread = {uid: t for uid, (_, t) in got.items()}
            assert thread[1] == thread[2] == thread[5]  # uid 5 is m6
            assert thread[4] == thread[6]  # m5 and m4: the parent joined its reply
            assert thread[3] == thread[7]
            assert len({thread[1], thread[3], thread[4]}) == 3
            found = await inbox.search(ThreadIdIs(thread[1]))
            assert found.uids == (Uid(1), Uid(2), Uid(5))
            # The same thread in another mailbox of the account, and for a copy.
            account = await store.open_account("alice")
            await account.create_mailbox("Out")
            sent = await account.open_mailbox("Out")
            await sent.append([AppendRequest(mail(8, "<m6@x>"))])
            await inbox.copy([Uid(3)], "Out")
            sent_threads = {u: t for u, (_, t) in (await ids(sent)).items()}
            assert sent_threads == {1: thread[1], 2: thread[3]}
            # Another user's threads are their own.
            bobs = await inbox_of(store, "bob")
            await bobs.append([AppendRequest(mail(1))])
            assert (await ids(bobs))[1][1] != thread[1]

    run(body)


def test_same_emailid_same_threadid_without_message_id(open_store: StoreOpener) -> None:
    """RFC 8474 §5.2: one THREADID for all messages with the same EMAILID."""

    async def body() -> None:
        async with open_store() as store:
            inbox = await inbox_of(store)
            raw = mail(1, msgid="")
            await inbox.append([AppendRequest(raw)])
            await inbox.append([AppendRequest(raw), AppendRequest(mail(2, msgid=""))])
            got = await ids(inbox)
            assert got[1] == got[2]
            assert got[3][1] != got[1][1]

    run(body)


def test_save_date_and_preview_at_delivery(open_store: StoreOpener) -> None:
    async def body() -> None:
        async with open_store() as store:
            inbox = await inbox_of(store)
            old = dt.datetime(2001, 2, 3, tzinfo=dt.UTC)
            before = dt.datetime.now(dt.UTC).replace(microsecond=0)
            await inbox.append(
                [AppendRequest(mail(1, body="  Hi\r\n\r\n there "), frozenset(), old)]
            )
            (meta,) = await inbox.fetch_meta([Uid(1)], IDS | {MetaItem.INTERNAL_DATE})
            assert meta.internal_date == old
            assert meta.save_date is not None
            assert meta.save_date >= before
            assert meta.preview == "Hi there 1"

    run(body)


def test_old_messages_get_threads_at_open_and_previews_on_demand(tmp_path: Path) -> None:
    """Rows as migration 7 leaves them: no thread, no preview; see objectid.py."""
    data = tmp_path / "data"

    async def fill() -> None:
        store = await SqliteStore.open(data, synchronous_full=False)
        try:
            inbox = await inbox_of(store)
            await inbox.append([AppendRequest(mail(1)), AppendRequest(mail(2, "<m1@x>"))])
            await inbox.append([AppendRequest(mail(3))])
        finally:
            await store.close()

    async def check() -> None:
        store = await SqliteStore.open(data, synchronous_full=False)
        try:
            inbox = await inbox_of(store)
            got = await ids(inbox)
            assert got[1][1] == got[2][1] != got[3][1]
            metas = await inbox.fetch_meta([Uid(1), Uid(2)], frozenset({MetaItem.PREVIEW}))
            assert [m.preview for m in metas] == [None, None]  # what LAZY returns
            assert await inbox.previews([Uid(1), Uid(2)]) == {1: "hello 1", 2: "hello 2"}
            metas = await inbox.fetch_meta([Uid(1)], frozenset({MetaItem.PREVIEW}))
            assert metas[0].preview == "hello 1"  # stored by `previews`
        finally:
            await store.close()

    asyncio.run(fill())
    db = sqlite3.connect(data / "buzon.db")
    with db:
        db.execute("UPDATE messages SET thread = NULL")
        db.execute("UPDATE contents SET preview = NULL")
        db.execute("DELETE FROM thread_keys")
        db.execute("UPDATE meta SET value = 0 WHERE key = 'threads_done'")
    db.close()
    asyncio.run(check())


def test_migration_from_version_6(tmp_path: Path) -> None:
    """A store written before migration 7: every id is filled in, previews on demand."""
    data = tmp_path / "data"
    data.mkdir()
    db = sqlite3.connect(data / "buzon.db", isolation_level=None)
    db.execute("BEGIN")
    db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for script in schema.MIGRATIONS[:6]:
        for stmt in schema._statements(script):
            db.execute(stmt)
    db.execute("INSERT INTO schema_version (version) VALUES (6)")
    db.execute("INSERT INTO users (name, secret) VALUES ('alice', 's')")
    db.execute(
        "INSERT INTO mailboxes (user_id, name, selectable, uidvalidity, uidnext, messages,"
        " unseen) VALUES (1, 'INBOX', 1, 7, 3, 2, 2)"
    )
    for uid, raw in ((1, mail(1)), (2, mail(2, "<m1@x>"))):
        cur = db.execute(
            "INSERT INTO contents (sha256, size, inline, structure, refcount)"
            " VALUES (?, ?, ?, ?, 1)",
            (hashlib.sha256(raw).digest(), len(raw), raw, parse(raw).dumps()),
        )
        db.execute(
            "INSERT INTO messages VALUES (1, ?, ?, 0, '', 1, ?, ?)",
            (uid, cur.lastrowid, "2020-01-01T00:00:00+00:00", "2020-01-02T00:00:00+00:00"),
        )
    db.execute("COMMIT")
    db.close()

    async def check() -> None:
        store = await SqliteStore.open(data, synchronous_full=False)
        try:
            inbox = await (await store.open_account("alice")).open_mailbox(INBOX)
            assert OBJECTID.fullmatch(inbox.info.objectid)
            got = await ids(inbox)
            assert got[1][0] != got[2][0]
            assert got[1][1] == got[2][1]
            (meta,) = await inbox.fetch_meta([Uid(2)], IDS)
            assert meta.save_date == dt.datetime(2020, 1, 2, tzinfo=dt.UTC)
            assert meta.preview is None
            assert await inbox.previews([Uid(2)]) == {2: "hello 2"}
        finally:
            await store.close()

    asyncio.run(check())
