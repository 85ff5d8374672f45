"""The FTS5 trigram index never changes a search result: index == scan == brute force."""

from __future__ import annotations

import asyncio
import base64
import quopri
import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from buzon.mime import parse
from buzon.storage import query as q
from buzon.storage.api import AppendRequest, FlagOp, Uid
from buzon.storage.fields import ALT, compute, header_values
from buzon.storage.sqlite import ftsdb, index
from buzon.storage.sqlite.blobs import BlobStore
from buzon.storage.sqlite.search import run_search
from buzon.storage.sqlite.store import DB_NAME, SqliteStore

# A small alphabet so that generated queries often hit: ASCII, accents, case pairs, ß.
_CHARS = "abcAB éÉßsSü-"
words = st.text(alphabet=_CHARS, min_size=0, max_size=12)


def _message(subject: str, body: str, encoding: str) -> bytes:
    data = body.encode("utf-8")
    if encoding == "base64":
        payload = base64.encodebytes(data).replace(b"\n", b"\r\n")
    elif encoding == "quoted-printable":
        payload = quopri.encodestring(data).replace(b"\n", b"\r\n")
    else:
        payload, encoding = data, "8bit"
    subj = "=?utf-8?b?" + base64.b64encode(subject.encode()).decode() + "?="
    return (
        (
            f"From: Ann <ann@example.org>\r\nSubject: {subj}\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            f"Content-Transfer-Encoding: {encoding}\r\n\r\n"
        ).encode()
        + payload
        + b"\r\n"
    )


messages = st.lists(
    st.tuples(words, words, st.sampled_from(["base64", "quoted-printable", "8bit"])),
    min_size=1,
    max_size=6,
)
queries = st.lists(
    st.tuples(st.sampled_from(["body", "text", "subject", "from"]), words),
    min_size=1,
    max_size=5,
)


def _node(kind: str, value: str) -> q.Query:
    if kind in ("body", "text"):
        return q.TextContains(value, body_only=kind == "body")
    return q.HeaderContains(kind, value)


def _brute(raw: bytes, kind: str, value: str) -> bool:
    """The reference: compute the fields afresh and test the substring directly."""
    f = compute(raw, parse(raw))
    v = q.fold(value)
    if kind == "body":
        return v in f.body
    if kind == "text":
        return v in f.body or any(v in alt for alt in f.headers.split(ALT))
    values = header_values(f.headers, kind)
    return bool(values) if not v else any(v in a for x in values for a in x.split(ALT))


async def _fill(data_dir: Path, raws: list[bytes]) -> None:
    store = await SqliteStore.open(data_dir, synchronous_full=False)
    try:
        await store.create_user("alice", "x")
        inbox = await (await store.open_account("alice")).open_mailbox("INBOX")
        await inbox.append([AppendRequest(r) for r in raws])
    finally:
        await store.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages, queries, st.integers(min_value=0, max_value=6))
def test_index_equals_scan_equals_brute_force(
    msgs: list[tuple[str, str, str]], qs: list[tuple[str, str]], indexed_count: int
) -> None:
    raws = [_message(s, b, e) for s, b, e in msgs]
    # Also query for substrings that are certainly present, and across subject and body.
    qs = [
        *qs,
        ("body", msgs[0][1][1:6]),
        ("subject", msgs[-1][0][:4]),
        ("text", msgs[0][0][-3:] + msgs[0][1][:3]),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        asyncio.run(_fill(data_dir, raws))
        conn = _searching(data_dir)
        try:
            # The first `indexed_count` texts go into the FTS index, the rest stay pending:
            # the index's answer is then used as the result for TEXT and BODY.
            if indexed_count:
                batch = ftsdb.take(conn, indexed_count)
                fts = ftsdb.connect_fts(data_dir)
                ftsdb.apply(fts, batch)
                fts.close()
                ftsdb.finish(conn, batch)
            (mailbox_id,) = conn.execute("SELECT id FROM mailboxes WHERE name = 'INBOX'").fetchone()
            for kind, value in qs:
                node = _node(kind, value)
                indexed = [u for u, _ in run_search(conn, mailbox_id, node, use_index=True)]
                scanned = [u for u, _ in run_search(conn, mailbox_id, node, use_index=False)]
                brute = [i + 1 for i, raw in enumerate(raws) if _brute(raw, kind, value)]
                assert indexed == scanned == brute, (kind, value)
                # An Or/Not around the same leaf agrees too.
                neg = [u for u, _ in run_search(conn, mailbox_id, q.Not(node))]
                assert sorted(neg + indexed) == list(range(1, len(raws) + 1))
        finally:
            conn.close()


def _searching(data_dir: Path) -> sqlite3.Connection:
    """A connection to buzon.db with fts.db attached, as the store's readers have."""
    conn = sqlite3.connect(data_dir / DB_NAME, isolation_level=None)
    conn.execute("ATTACH DATABASE ? AS fts", (str(data_dir / ftsdb.FTS_NAME),))
    return conn


def test_corrupt_index_falls_back_to_scan(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    raw = _message("Grüße", "the quick brown fox", "base64")
    asyncio.run(_fill(tmp_path, [raw]))
    conn = _searching(tmp_path)
    try:
        conn.execute("DROP TABLE fts.msg_fts")
        (mailbox_id,) = conn.execute("SELECT id FROM mailboxes WHERE name = 'INBOX'").fetchone()
        node = q.TextContains("QUICK brown", body_only=True)
        assert run_search(conn, mailbox_id, node) == [(1, 2)]
        assert "full-text index unusable" in caplog.text
    finally:
        conn.close()


def test_reset_and_drain_restore_the_index(tmp_path: Path) -> None:
    raw = _message("Grüße", "the quick brown fox", "quoted-printable")
    asyncio.run(_fill(tmp_path, [raw]))
    conn = _searching(tmp_path)
    try:
        conn.execute("DROP TABLE fts.msg_fts")
        seen: list[tuple[int, int]] = []
        conn.execute("BEGIN IMMEDIATE")
        done = index.recompute(
            conn, BlobStore(tmp_path / "blobs"), "alice", lambda a, b: seen.append((a, b))
        )
        conn.execute("COMMIT")
        assert done == 1
        assert seen == [(1, 1)]
        ftsdb.reset(conn, tmp_path)
        assert index.fts_ok(conn)
        assert index.pending(conn) == {1}  # queued: searched exactly until indexed
        assert ftsdb.drain(conn, tmp_path) == 1
        hits = conn.execute(
            "SELECT rowid FROM fts.msg_fts WHERE msg_fts MATCH '\"quick\"'"
        ).fetchall()
        assert len(hits) == 1
        assert not index.pending(conn)
    finally:
        conn.close()


def test_a_lost_index_file_is_recreated_and_refilled(tmp_path: Path) -> None:
    raw = _message("Hi", "the quick brown fox", "8bit")
    asyncio.run(_fill(tmp_path, [raw]))
    for suffix in ("", "-wal", "-shm"):
        (tmp_path / (ftsdb.FTS_NAME + suffix)).unlink(missing_ok=True)
    # Reopening creates an empty index and queues every text; delivery and expunge work.
    asyncio.run(_deliver_and_expunge(tmp_path))
    conn = _searching(tmp_path)
    try:
        assert index.fts_ok(conn)
        (mailbox_id,) = conn.execute("SELECT id FROM mailboxes WHERE name = 'INBOX'").fetchone()
        node = q.TextContains("quick", body_only=True)
        assert [u for u, _ in run_search(conn, mailbox_id, node)] == [1, 3]
        ftsdb.drain(conn, tmp_path)
        assert not index.pending(conn)
        assert [u for u, _ in run_search(conn, mailbox_id, node)] == [1, 3]
    finally:
        conn.close()


async def _deliver_and_expunge(data_dir: Path) -> None:
    store = await SqliteStore.open(data_dir, synchronous_full=False)
    try:
        inbox = await (await store.open_account("alice")).open_mailbox("INBOX")
        bodies = ["gone soon, quick", "another quick one"]
        await inbox.append([AppendRequest(_message("Yo", b, "base64")) for b in bodies])
        await inbox.store_flags([Uid(2)], FlagOp.ADD, frozenset({"\\Deleted"}))
        assert await inbox.expunge() == (2,)
    finally:
        await store.close()


def test_indexer_feeds_the_index_after_delivery(tmp_path: Path) -> None:
    """New texts wait in fts_pending (searched by scanning) until the indexer moves them."""

    async def body() -> None:
        store = await SqliteStore.open(tmp_path, synchronous_full=False)
        try:
            await store.create_user("alice", "x")
            inbox = await (await store.open_account("alice")).open_mailbox("INBOX")
            await inbox.append([AppendRequest(_message("a", "quick fox one", "8bit"))])
            drained = False
            for _ in range(100):
                await asyncio.sleep(0.05)
                conn = sqlite3.connect(tmp_path / DB_NAME)
                try:
                    drained = not index.pending(conn)
                finally:
                    conn.close()
                if drained:
                    break
            assert drained, "the indexer never moved the pending text into the index"
            # One indexed and one pending text are then expunged: neither corrupts the index.
            await inbox.append([AppendRequest(_message("b", "quick fox two", "8bit"))])
            await inbox.store_flags([Uid(1), Uid(2)], FlagOp.ADD, frozenset({"\\Deleted"}))
            assert await inbox.expunge() == (1, 2)
            await inbox.append([AppendRequest(_message("c", "quick fox three", "8bit"))])
        finally:
            await store.close()

    asyncio.run(body())
    conn = _searching(tmp_path)
    try:
        conn.execute("INSERT INTO fts.msg_fts (msg_fts) VALUES ('integrity-check')")
        (mailbox_id,) = conn.execute("SELECT id FROM mailboxes WHERE name = 'INBOX'").fetchone()
        node = q.TextContains("quick fox", body_only=True)
        indexed = [u for u, _ in run_search(conn, mailbox_id, node, use_index=True)]
        scanned = [u for u, _ in run_search(conn, mailbox_id, node, use_index=False)]
        assert indexed == scanned == [3]
    finally:
        conn.close()


def test_a_store_from_before_the_index_file_moves_its_index(tmp_path: Path) -> None:
    """Schema 10 kept msg_fts in buzon.db: opening drops it and fills fts.db from the text."""
    raws = [_message("Hi", "the quick brown fox", "8bit"), _message("Yo", "lazy dog", "base64")]
    asyncio.run(_fill(tmp_path, raws))
    for suffix in ("", "-wal", "-shm"):
        (tmp_path / (ftsdb.FTS_NAME + suffix)).unlink(missing_ok=True)
    conn = sqlite3.connect(tmp_path / DB_NAME, isolation_level=None)
    try:  # what migrations 4, 5 and 10 left: the index and its delete trigger in buzon.db
        conn.execute(
            "CREATE VIRTUAL TABLE msg_fts USING fts5(headers, body, content='msg_text',"
            " content_rowid='content_id', tokenize='trigram case_sensitive 1')"
        )
        conn.execute("INSERT INTO msg_fts (msg_fts) VALUES ('rebuild')")
        conn.execute("DELETE FROM fts_pending")
        conn.execute("UPDATE schema_version SET version = 10")
        conn.execute("DROP TABLE fts_forget")
        conn.execute("DROP TABLE msg_headers")  # migration 12
        conn.execute("DROP TRIGGER contents_delete_headers")
    finally:
        conn.close()
    asyncio.run(_deliver_and_expunge(tmp_path))  # opens (migrates), appends 3 and 4, expunges 2
    conn = _searching(tmp_path)
    try:
        assert not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'msg_fts'").fetchone()
        (mailbox_id,) = conn.execute("SELECT id FROM mailboxes WHERE name = 'INBOX'").fetchone()
        node = q.TextContains("quick", body_only=True)
        assert [u for u, _ in run_search(conn, mailbox_id, node)] == [1, 3, 4]
        ftsdb.drain(conn, tmp_path)
        assert not index.pending(conn)
        assert [u for u, _ in run_search(conn, mailbox_id, node)] == [1, 3, 4]
    finally:
        conn.close()


@pytest.mark.parametrize("damage", ["garbage file", "table dropped"])
def test_a_damaged_index_file_never_keeps_the_store_from_opening(
    tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    raw = _message("Hi", "the quick brown fox", "8bit")
    asyncio.run(_fill(tmp_path, [raw]))
    fts_path = tmp_path / ftsdb.FTS_NAME
    if damage == "garbage file":
        for suffix in ("-wal", "-shm"):
            (tmp_path / (ftsdb.FTS_NAME + suffix)).unlink(missing_ok=True)
        fts_path.write_bytes(b"this is no SQLite database " * 200)
    else:
        conn = sqlite3.connect(fts_path, isolation_level=None)
        conn.execute("DROP TABLE msg_fts")
        conn.close()
    asyncio.run(_deliver_and_expunge(tmp_path))  # opens the store: appends 2, expunges one
    if damage == "garbage file":
        assert "unreadable" in caplog.text
        assert (tmp_path / (ftsdb.FTS_NAME + ".unreadable")).exists()
    conn = _searching(tmp_path)
    try:
        assert index.fts_ok(conn)
        assert 1 in index.pending(conn)  # every text queued again for the new index
        (mailbox_id,) = conn.execute("SELECT id FROM mailboxes WHERE name = 'INBOX'").fetchone()
        node = q.TextContains("quick", body_only=True)
        assert [u for u, _ in run_search(conn, mailbox_id, node)] == [1, 3]
        ftsdb.drain(conn, tmp_path)
        conn.execute("INSERT INTO fts.msg_fts (msg_fts) VALUES ('integrity-check')")
        assert [u for u, _ in run_search(conn, mailbox_id, node)] == [1, 3]
    finally:
        conn.close()
