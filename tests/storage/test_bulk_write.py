"""The bulk paths of the SQLite backend: batched blob writes and parsing in processes."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

from buzon.storage import AppendRequest
from buzon.storage.sqlite import SqliteStore, ftsdb, index
from buzon.storage.sqlite.analyse import Analyser, analyse
from buzon.storage.sqlite.blobs import BlobStore

MESSAGES = [
    b"From: A <a@example.org>\r\nSubject: Re: one\r\n\r\nbody one\r\n",
    b"Subject: two\r\nContent-Type: text/html\r\n\r\n<p>two &amp; more</p>\r\n",
    b"Subject: three\r\n\r\n" + b"x" * 20_000 + b"\r\n",
    b"no header at all",
]


def test_write_many_stores_each_file_once_and_leaves_no_temporaries(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    items = [(hashlib.sha256(m).digest(), m) for m in MESSAGES]
    blobs.write(*items[0])  # already there: not written again
    before = blobs.path(items[0][0]).stat().st_mtime_ns
    blobs.write_many([*items, items[1]])  # a duplicate in the batch too
    for digest, data in items:
        assert blobs.read(digest) == data
    assert blobs.path(items[0][0]).stat().st_mtime_ns == before
    assert list((tmp_path / "blobs" / "tmp").iterdir()) == []
    blobs.write_many(items[:1])  # one item, and nothing to do: fine
    blobs.close()
    blobs.write_many(items)  # usable again after close
    assert len(list((tmp_path / "blobs").rglob("*/*/*"))) == len(items)


def test_processes_compute_what_the_thread_computes() -> None:
    analyser = Analyser()
    in_thread = analyser.run(MESSAGES * 3)
    analyser.use_processes(2)
    try:
        in_processes = analyser.run(MESSAGES * 3)
    finally:
        analyser.close()
    assert in_processes == in_thread == [analyse(m) for m in MESSAGES * 3]
    assert in_thread[0].fields.base_subject == "one"
    assert in_thread[1].preview.startswith("two & more")


async def _pending(store: SqliteStore) -> set[int]:
    return await store._b.executor.read(index.pending)


def test_an_import_leaves_indexing_to_the_server_which_does_it(tmp_path: Path) -> None:
    """`import_messages` does not feed the FTS index; a watching store notices and does."""

    async def settled(store: SqliteStore) -> set[int]:
        for _ in range(100):
            if not await _pending(store):
                break
            await asyncio.sleep(0.05)
        return await _pending(store)

    async def scenario() -> None:
        importer = await SqliteStore.open(tmp_path, synchronous_full=False)
        server: SqliteStore | None = None
        try:
            await importer.create_user("alice", "x")
            await asyncio.sleep((ftsdb.Indexer.DELAY + ftsdb.Indexer.QUIET) * 2)  # the pass at open
            inbox = await (await importer.open_account("alice")).open_mailbox("INBOX")
            await inbox.import_messages([AppendRequest(m) for m in MESSAGES[:2]])
            await asyncio.sleep((ftsdb.Indexer.DELAY + ftsdb.Indexer.QUIET) * 2)
            assert len(await _pending(importer)) == 2  # the importer leaves them
            server = await SqliteStore.open(tmp_path, synchronous_full=False, watch=True)
            assert await settled(server) == set()  # indexed at the server's start
            await inbox.import_messages([AppendRequest(m) for m in MESSAGES[2:]])
            # The server's watcher sees the import's commit and kicks its indexer.
            assert await settled(server) == set()
            indexed = await server._b.executor.read(
                lambda conn: conn.execute("SELECT count(*) FROM fts.docs").fetchone()[0]
            )
            assert indexed == len(MESSAGES)
        finally:
            await importer.close()
            if server is not None:
                await server.close()

    asyncio.run(scenario())
