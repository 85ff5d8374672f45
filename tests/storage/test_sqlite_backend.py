"""SQLite-specific behaviour: blobs and reference counts, migrations, locking, query counts."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from buzon.storage import (
    INBOX,
    AppendRequest,
    CopyResult,
    DefaultMailbox,
    FlagOp,
    MetaItem,
    NoSelect,
    NotFound,
    StorageError,
    Store,
    Temporary,
    Uid,
)
from buzon.storage.sqlite import SqliteStore, appending, executor, schema
from buzon.storage.sqlite.context import Backend
from buzon.storage.sqlite.mailbox import SqliteMailbox

LARGE = b"Subject: big\r\n\r\n" + b"x" * 5000 + b"\r\n"
SMALL = b"Subject: small\r\n\r\nsmall\r\n"


def _conforms(store: SqliteStore) -> Store:
    """Type check: SqliteStore satisfies the Store protocol (mypy verifies this line)."""
    return store


async def open_store(path: Path, *, inline_limit: int = 1024) -> SqliteStore:
    return await SqliteStore.open(
        path,
        default_mailboxes=[DefaultMailbox("Sent", frozenset({"\\Sent"}))],
        synchronous_full=False,
        inline_limit=inline_limit,
    )


async def inbox(store: SqliteStore) -> SqliteMailbox:
    if "alice" not in await store.list_users():
        await store.create_user("alice", "s")
    return await (await store.open_account("alice")).open_mailbox(INBOX)


def blob_files(data: Path) -> list[Path]:
    return sorted(p for p in (data / "blobs").rglob("*") if p.is_file() and p.parent.name != "tmp")


def db(data: Path) -> sqlite3.Connection:
    return sqlite3.connect(data / "buzon.db")


def test_large_content_is_one_shared_file(tmp_path: Path) -> None:
    data = tmp_path / "d"

    async def body() -> None:
        store = await open_store(data)
        box = await inbox(store)
        account = await store.open_account("alice")
        await box.append([AppendRequest(LARGE), AppendRequest(LARGE), AppendRequest(SMALL)])
        files = blob_files(data)
        assert [f.name for f in files] == [hashlib.sha256(LARGE).hexdigest()]
        assert files[0].read_bytes() == LARGE
        await box.copy([Uid(1)], "Sent")
        await box.move([Uid(2)], "Sent")
        with db(data) as conn:
            rows = conn.execute("SELECT refcount, inline IS NULL FROM contents").fetchall()
        assert sorted(rows) == [(1, 0), (3, 1)]
        assert len(blob_files(data)) == 1
        await box.store_flags([Uid(1)], FlagOp.ADD, frozenset({"\\Deleted"}))
        await box.expunge()
        sent = await account.open_mailbox("Sent")
        assert await sent.read_message(Uid(1)) == LARGE
        await sent.store_flags([Uid(1), Uid(2)], FlagOp.ADD, frozenset({"\\Deleted"}))
        await sent.expunge()
        assert blob_files(data) == []  # last reference gone: file removed
        with db(data) as conn:
            assert conn.execute("SELECT count(*) FROM contents").fetchone() == (1,)
            assert conn.execute("SELECT count(*) FROM blob_trash").fetchone() == (0,)
        await store.close()

    asyncio.run(body())


def test_inline_limit(tmp_path: Path) -> None:
    data = tmp_path / "d"

    async def body() -> None:
        store = await open_store(data, inline_limit=len(SMALL))
        box = await inbox(store)
        just_over = SMALL + b"!"
        await box.append([AppendRequest(SMALL), AppendRequest(just_over)])
        assert [f.name for f in blob_files(data)] == [hashlib.sha256(just_over).hexdigest()]
        assert await box.read_message(Uid(1)) == SMALL
        assert await box.read_message(Uid(2)) == just_over
        await store.close()

    asyncio.run(body())


def test_failed_append_leaves_nothing(tmp_path: Path) -> None:
    data = tmp_path / "d"

    async def body() -> None:
        store = await open_store(data)
        await store.create_user("alice", "s")
        account = await store.open_account("alice")
        await account.create_mailbox("Doomed")
        doomed = await account.open_mailbox("Doomed")
        await account.delete_mailbox("Doomed")
        with pytest.raises(NotFound):
            await doomed.append([AppendRequest(SMALL), AppendRequest(LARGE)])
        assert blob_files(data) == []
        with db(data) as conn:
            assert conn.execute("SELECT count(*) FROM contents").fetchone() == (0,)
            assert conn.execute("SELECT count(*) FROM messages").fetchone() == (0,)
        await store.close()

    asyncio.run(body())


def test_append_by_name(tmp_path: Path) -> None:
    """Account.append: the mailbox looked up while the messages are parsed; a missing one
    is NotFound (and the file written for its large message is swept), a placeholder is
    NoSelect, and the appended messages are those of Mailbox.append."""
    data = tmp_path / "d"

    async def body() -> None:
        store = await open_store(data)
        await store.create_user("alice", "s")
        account = await store.open_account("alice")
        with pytest.raises(NotFound):
            await account.append("Nowhere", [AppendRequest(SMALL), AppendRequest(LARGE)])
        assert blob_files(data) == []
        await account.create_mailbox("Parent/Child")
        await account.delete_mailbox("Parent")  # has a child: stays as a placeholder
        with pytest.raises(NoSelect):
            await account.append("Parent", [AppendRequest(SMALL)])
        result = await account.append("Sent", [AppendRequest(LARGE, frozenset({"\\Seen"}))])
        assert list(result.dest_uids) == [1]
        sent = await account.open_mailbox("Sent")
        assert await sent.read_message(Uid(1)) == LARGE
        assert len(blob_files(data)) == 1
        assert await account.append("Sent", []) == CopyResult(result.uidvalidity, (), ())
        await store.close()

    asyncio.run(body())


def test_small_messages_are_parsed_on_the_loop_large_ones_off_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """appending.prepare_soon: no thread hop for a few small messages; a file to write
    (over the inline limit) or a large batch goes to a worker thread."""
    where: list[bool] = []
    original = appending.prepare

    def spy(backend: Backend, messages: Sequence[AppendRequest]) -> list[appending.Prepared]:
        where.append(threading.current_thread() is threading.main_thread())
        return original(backend, messages)

    monkeypatch.setattr(appending, "prepare", spy)

    async def body() -> None:
        store = await open_store(tmp_path / "d")  # inline limit 1024
        box = await inbox(store)
        await box.append([AppendRequest(SMALL)])
        await box.append([AppendRequest(LARGE)])  # a file to write and fsync
        await box.append([AppendRequest(SMALL + b"x" * 900)] * 80)  # 75 KB in all
        await store.close()

    asyncio.run(body())
    assert where == [True, False, False]


def test_delete_user_and_mailbox_remove_files(tmp_path: Path) -> None:
    data = tmp_path / "d"

    async def body() -> None:
        store = await open_store(data)
        box = await inbox(store)
        account = await store.open_account("alice")
        await account.create_mailbox("Keep")
        other = LARGE + b"other"
        await box.append([AppendRequest(LARGE)])
        await box.copy([Uid(1)], "Keep")
        keep = await account.open_mailbox("Keep")
        await keep.append([AppendRequest(other)])
        await account.delete_mailbox("Keep")
        assert [f.name for f in blob_files(data)] == [hashlib.sha256(LARGE).hexdigest()]
        await store.delete_user("alice")
        assert blob_files(data) == []
        with db(data) as conn:
            for table in ("contents", "messages", "mailboxes", "subscriptions", "expunged"):
                assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)
        await store.close()

    asyncio.run(body())


def test_trash_left_by_a_crash_is_swept_at_open(tmp_path: Path) -> None:
    data = tmp_path / "d"

    async def body() -> None:
        store = await open_store(data)
        await store.close()
        orphan = hashlib.sha256(b"orphan").digest()
        store.blobs.write(orphan, b"orphan")
        with db(data) as conn:
            conn.execute("INSERT INTO blob_trash (sha256) VALUES (?)", (orphan,))
        assert len(blob_files(data)) == 1
        store = await open_store(data)
        assert blob_files(data) == []
        await store.close()

    asyncio.run(body())


def test_migrations_are_recorded_and_idempotent(tmp_path: Path) -> None:
    data = tmp_path / "d"

    async def body() -> None:
        await (await open_store(data)).close()
        await (await open_store(data)).close()
        with db(data) as conn:
            assert conn.execute("SELECT version FROM schema_version").fetchall() == [
                (schema.SCHEMA_VERSION,)
            ]
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
            conn.execute("UPDATE schema_version SET version = version + 1")
        with pytest.raises(StorageError, match="newer"):
            await open_store(data)

    asyncio.run(body())


def test_statements_split() -> None:
    assert schema._statements("CREATE TABLE a (x); INSERT INTO a VALUES (';');") == [
        "CREATE TABLE a (x)",
        "INSERT INTO a VALUES (';')",
    ]


def test_locked_database_is_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "d"
    monkeypatch.setattr(executor, "BUSY_TIMEOUT_MS", 50)

    async def body() -> None:
        store = await open_store(data)
        box = await inbox(store)
        other = sqlite3.connect(data / "buzon.db", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(Temporary):
                await box.append([AppendRequest(SMALL)])
            assert (await box.status()).messages == 0  # readers are not blocked (WAL)
        finally:
            other.execute("ROLLBACK")
            other.close()
        await box.append([AppendRequest(SMALL)])
        assert (await box.status()).messages == 1
        await store.close()

    asyncio.run(body())


def test_two_stores_on_one_directory(tmp_path: Path) -> None:
    """Two processes (here: two stores, separate connections) share a data dir safely."""
    data = tmp_path / "d"

    async def body() -> None:
        a = await open_store(data)
        b = await open_store(data)
        await asyncio.gather(*(s.create_user(f"u{i}", "s") for i in range(10) for s in (a,)))
        box_a = await (await a.open_account("u1")).open_mailbox(INBOX)
        box_b = await (await b.open_account("u1")).open_mailbox(INBOX)
        results = await asyncio.gather(
            *(
                box.append([AppendRequest(SMALL + bytes([i]))])
                for i in range(20)
                for box in (box_a, box_b)
            )
        )
        uids = sorted(u for r in results for u in r.dest_uids)
        assert uids == list(range(1, 41))
        assert (await box_a.status()).messages == 40
        assert len(await b.list_users()) == 10
        await a.close()
        await b.close()

    asyncio.run(body())


@pytest.fixture
def traced(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every SQL statement run by connections opened while the fixture is active."""
    statements: list[str] = []
    real = executor.connect

    def connect(path: Path, *, synchronous_full: bool) -> sqlite3.Connection:
        conn = real(path, synchronous_full=synchronous_full)
        conn.set_trace_callback(statements.append)
        return conn

    monkeypatch.setattr(executor, "connect", connect)
    return statements


def test_fetch_meta_is_one_query_and_opens_no_file(tmp_path: Path, traced: list[str]) -> None:
    data = tmp_path / "d"

    async def body() -> None:
        store = await open_store(data, inline_limit=100)
        box = await inbox(store)
        pad = b"p" * 200
        await box.append(
            [AppendRequest(SMALL + b"%d" % i + (pad if i % 100 == 0 else b"")) for i in range(5000)]
        )
        assert len(blob_files(data)) == 50
        # Any attempt to open a message file would now fail.
        (data / "blobs").rename(data / "hidden")
        traced.clear()
        metas = await box.fetch_meta(
            [Uid(u) for u in range(1, 5001)], frozenset({MetaItem.SIZE, MetaItem.STRUCTURE})
        )
        (data / "hidden").rename(data / "blobs")
        assert len(metas) == 5000
        assert metas[0].size == len(SMALL) + 1 + len(pad)
        message_queries = [s for s in traced if "FROM messages" in s]
        assert len(message_queries) == 1
        await store.close()

    asyncio.run(body())


def test_hot_queries_use_indexes(tmp_path: Path) -> None:
    data = tmp_path / "d"

    async def body() -> None:
        await (await open_store(data)).close()

    asyncio.run(body())
    with db(data) as conn:
        plans = {
            "snapshot": "SELECT uid FROM messages WHERE mailbox_id = 1 ORDER BY uid",
            "changes": "SELECT uid FROM messages WHERE mailbox_id = 1 AND modseq > 5",
            "expunged": "SELECT uid FROM expunged WHERE mailbox_id = 1 AND modseq > 5",
            "unseen": "SELECT uid FROM messages WHERE mailbox_id = 1 AND (sysflags & 1) = 0"
            " ORDER BY uid LIMIT 1",
            "recent": "SELECT count(*) FROM messages WHERE mailbox_id = 1 AND uid > 3",
        }
        for name, sql in plans.items():
            detail = " ".join(str(r[3]) for r in conn.execute("EXPLAIN QUERY PLAN " + sql))
            assert "USING" in detail, (name, detail)
            assert "TEMP B-TREE" not in detail or name == "changes", (name, detail)


def test_group_commit_isolates_failing_jobs(tmp_path: Path, traced: list[str]) -> None:
    data = tmp_path / "d"

    async def body() -> None:
        store = await open_store(data)  # creates the schema
        await store.close()
        ex = executor.DbExecutor(data / "buzon.db", synchronous_full=False)
        await ex.write(lambda c: c.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)"))

        def slow(conn: sqlite3.Connection) -> int:
            time.sleep(0.1)  # the other jobs queue up meanwhile
            conn.execute("INSERT INTO t VALUES (0)")
            return 0

        def insert(i: int) -> Callable[[sqlite3.Connection], int]:
            def job(conn: sqlite3.Connection) -> int:
                conn.execute("INSERT INTO t VALUES (?)", (i,))
                if i == 7:
                    raise NotFound("job 7 fails after writing")
                return i

            return job

        traced.clear()
        first = asyncio.ensure_future(ex.write(slow))
        await asyncio.sleep(0.02)
        results = await asyncio.gather(
            *(ex.write(insert(i)) for i in range(1, 30)), return_exceptions=True
        )
        assert await first == 0
        for i, result in enumerate(results, start=1):
            if i == 7:
                assert isinstance(result, NotFound)
            else:
                assert result == i
        rows = await ex.read(lambda c: [r[0] for r in c.execute("SELECT x FROM t ORDER BY x")])
        assert rows == [i for i in range(30) if i != 7]
        commits = [s for s in traced if s == "COMMIT"]
        assert len(commits) < 10  # 30 jobs, far fewer transactions
        ex.close()
        with pytest.raises(Temporary):
            await ex.write(insert(99))

    asyncio.run(body())


def test_another_process_adds_a_user_while_open(tmp_path: Path) -> None:
    data = tmp_path / "d"
    script = (
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "from buzon.storage.sqlite import SqliteStore\n"
        "async def main():\n"
        "    store = await SqliteStore.open(Path(sys.argv[1]))\n"
        "    await store.create_user('bob', 'x')\n"
        "    await store.close()\n"
        "asyncio.run(main())\n"
    )

    async def body() -> None:
        store = await open_store(data)
        box = await inbox(store)
        await box.append([AppendRequest(SMALL)])
        proc = await asyncio.create_subprocess_exec(sys.executable, "-c", script, str(data))
        assert await proc.wait() == 0
        assert await store.list_users() == ["alice", "bob"]
        bob = await store.open_account("bob")
        assert [m.name for m in await bob.list_mailboxes()] == ["INBOX"]
        assert (await box.status()).messages == 1
        await store.close()

    asyncio.run(body())


def test_migration_10_sent_key_equals_the_key_stored_at_delivery(tmp_path: Path) -> None:
    """Migration 10 computes `msg_fields.sent_key` in SQL for older rows; it must be the
    value delivery computes in Python (`index.store`), with and without microseconds,
    before and after 1970, and NULL without a Date: header."""
    dates = [
        b"Mon, 1 Jun 2025 10:00:00 +0200",
        b"Thu, 1 Jan 1970 00:00:00 +0000",
        b"Wed, 31 Dec 1969 23:59:59 -0130",
        b"Sat, 29 Feb 2020 12:34:56 +1245",
        None,
    ]

    async def deliver() -> None:
        store = await open_store(tmp_path)
        box = await inbox(store)
        await box.append(
            [
                AppendRequest((b"Date: " + d + b"\r\n" if d else b"") + b"Subject: x\r\n\r\nx\r\n")
                for d in dates
            ]
        )
        await store.close()

    asyncio.run(deliver())
    conn = db(tmp_path)
    stored = conn.execute("SELECT content_id, sent, sent_key FROM msg_fields").fetchall()
    assert sum(key is not None for _, _, key in stored) == 4
    conn.execute("UPDATE msg_fields SET sent_key = NULL")
    (script,) = schema.MIGRATIONS[9:10]
    for stmt in schema._statements(script)[1:]:  # the UPDATE, not the ALTER TABLE
        conn.execute(stmt)
    conn.commit()
    assert conn.execute("SELECT content_id, sent, sent_key FROM msg_fields").fetchall() == stored
    conn.close()
