"""TEXT and BODY take the trigram index's answer as the result: cases where it could err.

`search.py` skips the exact recheck when the FTS5 trigram phrase match is itself exact.
These tests fill the index (nothing pending), then compare each search with the index
against the scan and against the expected UIDs, for the strings most likely to break that
shortcut: shorter than a trigram, case variants, non-ASCII and case-folding expansions,
a string spanning subject and body or two header fields, U+FFFD and the characters the
tokenizer conflates with it, and NUL in a message. The same cases run with every text
still waiting for the indexer (checked in SQL, by id or by walking the mailbox).
"""

from __future__ import annotations

import asyncio
import base64
import sqlite3
from pathlib import Path

import pytest

from buzon.storage import query as q
from buzon.storage.api import AppendRequest
from buzon.storage.sqlite import ftsdb, index, search
from buzon.storage.sqlite.search import run_search
from buzon.storage.sqlite.store import DB_NAME, SqliteStore


def _message(subject: str, body: str) -> bytes:
    subj = "=?utf-8?b?" + base64.b64encode(subject.encode()).decode() + "?="
    return (
        (
            f"From: Ann <ann@example.org>\r\nTo: Bob <bob@example.net>\r\nSubject: {subj}\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n"
        ).encode()
        + body.encode("utf-8", "surrogatepass")
        + b"\r\n"
    )


MESSAGES = [
    _message("Invoice due", "please pay"),  # 1
    _message("hello", "the INVOICE is attached"),  # 2
    _message("Straße", "grüße aus köln"),  # 3
    _message("weekend", "holiday travel"),  # 4
    _message("replacement", "a\ufffeb and c\uffffd"),  # 5
    _message("marker", "x\ufffdy"),  # 6
    _message("nul", "before\x00 after invoice"),  # 7
    _message("ab", "ab cd"),  # 8
]


async def _fill(data_dir: Path) -> None:
    store = await SqliteStore.open(data_dir, synchronous_full=False)
    try:
        await store.create_user("alice", "x")
        inbox = await (await store.open_account("alice")).open_mailbox("INBOX")
        await inbox.append([AppendRequest(r) for r in MESSAGES])
    finally:
        await store.close()


@pytest.fixture(scope="module")
def conn(tmp_path_factory: pytest.TempPathFactory) -> sqlite3.Connection:
    data_dir = tmp_path_factory.mktemp("trigram")
    asyncio.run(_fill(data_dir))
    db = sqlite3.connect(data_dir / DB_NAME, isolation_level=None)
    db.execute("ATTACH DATABASE ? AS fts", (str(data_dir / ftsdb.FTS_NAME),))
    ftsdb.drain(db, data_dir)
    assert not index.pending(db)
    return db


CASES = [
    # (TEXT or BODY, string, UIDs)
    ("text", "invoice", [1, 2, 7]),
    ("body", "invoice", [2, 7]),
    ("text", "InVoIcE", [1, 2, 7]),
    ("text", "STRASSE", [3]),  # ß case-folds to "ss"
    ("text", "straße", [3]),
    ("text", "GRÜSSE", [3]),
    ("body", "ÖLN", [3]),
    ("text", "ab", [8]),  # shorter than a trigram: scanned
    ("text", "OI", [1, 2, 7]),  # shorter than a trigram, case variant
    ("text", "end holi", []),  # spans subject and body: no match (not one text)
    ("text", "org to:", []),  # spans two header lines: no match
    ("text", "org\tbob", []),  # folded to a space, still no match across fields
    ("text", "subject:invoice", [1]),  # the stored header line, name included
    ("text", "a\ufffdb", []),  # the tokenizer reads U+FFFE as U+FFFD: checked exactly
    ("text", "c\ufffdd", []),  # and U+FFFF
    ("text", "x\ufffdy", [6]),
    ("text", "a\ufffeb", [5]),
    ("text", "after invoice", [7]),  # after a NUL in the body: indexed all the same
    ("text", "before\ufffd", [7]),  # the NUL is stored as U+FFFD
]


@pytest.mark.parametrize(("kind", "value", "uids"), CASES)
def test_index_answer_is_exact(
    conn: sqlite3.Connection, kind: str, value: str, uids: list[int]
) -> None:
    (mailbox_id,) = conn.execute("SELECT id FROM mailboxes WHERE name = 'INBOX'").fetchone()
    node = q.TextContains(value, body_only=kind == "body")
    indexed = [u for u, _ in run_search(conn, mailbox_id, node, use_index=True)]
    scanned = [u for u, _ in run_search(conn, mailbox_id, node, use_index=False)]
    assert indexed == scanned == uids


@pytest.fixture(scope="module")
def pending_conn(tmp_path_factory: pytest.TempPathFactory) -> sqlite3.Connection:
    data_dir = tmp_path_factory.mktemp("pending")
    asyncio.run(_fill(data_dir))
    db = sqlite3.connect(data_dir / DB_NAME)
    assert len(index.pending(db)) == len(MESSAGES)
    return db


@pytest.mark.parametrize("few", [0, 2000])
@pytest.mark.parametrize(("kind", "value", "uids"), CASES)
def test_pending_texts_are_checked_exactly(
    pending_conn: sqlite3.Connection,
    monkeypatch: pytest.MonkeyPatch,
    *,
    few: int,
    kind: str,
    value: str,
    uids: list[int],
) -> None:
    monkeypatch.setattr(search, "_FEW_PENDING", few)
    (mailbox_id,) = pending_conn.execute("SELECT id FROM mailboxes WHERE name = 'INBOX'").fetchone()
    node = q.TextContains(value, body_only=kind == "body")
    assert [u for u, _ in run_search(pending_conn, mailbox_id, node)] == uids
