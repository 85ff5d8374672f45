"""`buzon import` and `buzon export`: byte-for-byte round trips, resuming, progress."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from buzon.cli.main import main
from buzon.cli.progress import Progress
from buzon.storage import INBOX, FlagOp, MetaItem, Uid
from buzon.storage.api import AppendRequest
from buzon.storage.sqlite import SqliteStore, appending
from buzon.storage.sqlite.context import Backend

CHEAP = "[auth]\nargon2_time_cost = 1\nargon2_memory_kib = 1024\nargon2_parallelism = 1\n"

MBOX = (
    b"From alice@example.org Mon Jan  1 10:00:00 2024\n"
    b"Return-Path: <alice@example.org>\nFrom: Alice <alice@example.org>\nSubject: one\n"
    b"Status: RO\nX-Status: A\nX-Keywords: $Work\n\n"
    b"Hello\n>From the start\n>>From deeper\n\n"
    b"From bob@example.org Tue Jan  2 11:30:05 2024\n"
    b"From: Bob <bob@example.org>\nSubject: two\n\nunread, flagged later\n\n"
    b"From MAILER-DAEMON Wed Jan  3 12:00:00 2024\n"
    b"Subject: three\nStatus: O\n\nno final newline"
    b"\n"
)


def run(data: Path, *args: str) -> int:
    config = data.parent / "cheap.toml"
    config.write_text(CHEAP)
    return main([*args, "--data-dir", str(data), "--config", str(config)])


async def _new_user(data: Path, name: str) -> None:
    store = await SqliteStore.open(data, synchronous_full=False)  # no default folders
    try:
        await store.create_user(name, "x")
    finally:
        await store.close()


def new_user(data: Path, name: str = "alice") -> None:
    asyncio.run(_new_user(data, name))


async def _contents(data: Path, user: str) -> dict[str, list[tuple[int, frozenset[str], bytes]]]:
    store = await SqliteStore.open(data, synchronous_full=False)
    try:
        account = await store.open_account(user)
        out: dict[str, list[tuple[int, frozenset[str], bytes]]] = {}
        for info in await account.list_mailboxes():
            mailbox = await account.open_mailbox(info.name)
            uids = (await mailbox.snapshot(claim_recent=False)).uids
            metas = await mailbox.fetch_meta(uids, frozenset({MetaItem.INTERNAL_DATE}))
            out[info.name] = [
                (int(m.uid), m.flags, await mailbox.read_message(m.uid)) for m in metas
            ]
        return out
    finally:
        await store.close()


def contents(data: Path, user: str = "alice") -> dict[str, list[tuple[int, frozenset[str], bytes]]]:
    return asyncio.run(_contents(data, user))


def tree(root: Path) -> dict[str, tuple[bytes | None, int | None]]:
    """Every file and directory below `root`: bytes and mtime of files, None for directories."""
    out: dict[str, tuple[bytes | None, int | None]] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_dir():
            out[rel] = (None, None)
        else:
            mtime = int(path.stat().st_mtime) if "/cur/" in f"/{rel}" else None
            out[rel] = (path.read_bytes(), mtime)
    return out


# --- mbox -------------------------------------------------------------------------------


def test_mbox_round_trip_byte_for_byte(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    new_user(data)
    source = tmp_path / "in.mbox"
    source.write_bytes(MBOX)
    assert run(data, "import", "alice", str(source), "--mailbox", "Archive/2024") == 0
    assert "imported 3 messages in 1 folder" in capsys.readouterr().out
    stored = contents(data)["Archive/2024"]
    assert [flags for _, flags, _ in stored] == [
        frozenset({"\\Seen", "\\Answered", "$Work"}),
        frozenset(),
        frozenset(),
    ]
    assert stored[0][2].startswith(b"Return-Path: <alice@example.org>\r\n")
    assert b"\r\nFrom the start\r\n>From deeper\r\n" in stored[0][2]
    assert stored[2][2].endswith(b"\r\n\r\nno final newline")
    out = tmp_path / "out.mbox"
    assert (
        run(data, "export", "alice", str(out), "--format", "mbox", "--mailbox", "Archive/2024") == 0
    )
    assert out.read_bytes() == MBOX
    # Refuses to overwrite.
    assert run(data, "export", "alice", str(out), "--format", "mbox") == 1


def test_mbox_export_carries_changed_flags(tmp_path: Path) -> None:
    data = tmp_path / "data"
    new_user(data)
    source = tmp_path / "in.mbox"
    source.write_bytes(MBOX)
    assert run(data, "import", "alice", str(source)) == 0

    async def flag() -> None:
        store = await SqliteStore.open(data, synchronous_full=False)
        inbox = await (await store.open_account("alice")).open_mailbox(INBOX)
        await inbox.store_flags([Uid(2)], FlagOp.ADD, frozenset({"\\Flagged", "\\Seen"}))
        await store.close()

    asyncio.run(flag())
    out = tmp_path / "out.mbox"
    assert run(data, "export", "alice", str(out), "--format", "mbox", "--mailbox", INBOX) == 0
    exported = out.read_bytes()
    assert b"Subject: two\nStatus: R\nX-Status: F\n\nunread" in exported
    assert exported.replace(b"Status: R\nX-Status: F\n", b"") == MBOX


def test_mbox_tree_round_trip(tmp_path: Path) -> None:
    source = tmp_path / "mail"
    (source / "Lists.sbd").mkdir(parents=True)
    one = b"From a@x Mon Jan  1 10:00:00 2024\nFrom: a@x\nSubject: %s\n\nbody\n\n"
    (source / "INBOX").write_bytes(one % b"inbox")
    (source / "Lists").write_bytes(one % b"lists")
    (source / "Lists.sbd" / "Rust").write_bytes((one % b"rust") * 2)
    (source / "Lists.msf").write_bytes(b"thunderbird index, skipped")
    data = tmp_path / "data"
    new_user(data)
    assert run(data, "import", "alice", str(source)) == 0
    assert {k: len(v) for k, v in contents(data).items()} == {
        "INBOX": 1,
        "Lists": 1,
        "Lists/Rust": 2,
    }
    out = tmp_path / "out"
    assert run(data, "export", "alice", str(out), "--format", "mbox") == 0
    (source / "Lists.msf").unlink()
    assert tree(out) == tree(source)


# --- Maildir ----------------------------------------------------------------------------


def maildir_name(stamp: int, uid: int, content: bytes, info: str) -> str:
    crlf = len(content) + content.count(b"\n")
    return f"{stamp}.M{uid}.buzon,S={len(content)},W={crlf}:2,{info}"


def make_maildir(root: Path) -> None:
    """A Maildir++ tree in the conventional form: kept UIDs, keywords, nested folders."""
    folders: dict[str, tuple[int, int, list[tuple[int, bytes, str]], list[str]]] = {
        "": (1111, 10, [(1, b"Subject: a\n\nA\n", "S"), (3, b"Subject: b\n\nB", "")], []),
        ".Lists": (2222, 1, [], []),
        ".Lists.Rust": (
            3333,
            8,
            [(2, b"Subject: c\n\nFrom x\n", "FRa"), (7, b"Subject: d\n\n\n", "DPSTb")],
            ["$Work", "Later"],
        ),
        ".Entw&APw-rfe": (4444, 2, [(1, b"Subject: e\n\ndraft\n", "D")], []),
    }
    for directory, (validity, uidnext, messages, keywords) in folders.items():
        path = root / directory if directory else root
        for sub in ("cur", "new", "tmp"):
            (path / sub).mkdir(parents=True)
        if directory:
            (path / "maildirfolder").write_bytes(b"")
        if keywords:
            (path / "dovecot-keywords").write_text(
                "".join(f"{i} {k}\n" for i, k in enumerate(keywords))
            )
        uidlist = [f"3 V{validity} N{uidnext}\n"]
        for uid, content, info in messages:
            stamp = 1_700_000_000 + uid * 3600
            name = maildir_name(stamp, uid, content, info)
            (path / "cur" / name).write_bytes(content)
            os.utime(path / "cur" / name, (stamp, stamp))
            uidlist.append(f"{uid} :{name}\n")
        (path / "dovecot-uidlist").write_text("".join(uidlist))


def test_maildir_round_trip_byte_for_byte(tmp_path: Path) -> None:
    source = tmp_path / "Maildir"
    make_maildir(source)
    data = tmp_path / "data"
    new_user(data)
    assert run(data, "import", "alice", str(source)) == 0
    stored = contents(data)
    assert sorted(stored) == ["Entwürfe", "INBOX", "Lists", "Lists/Rust"]
    assert [(uid, flags) for uid, flags, _ in stored["Lists/Rust"]] == [
        (2, frozenset({"\\Flagged", "\\Answered", "$Work"})),
        (7, frozenset({"\\Draft", "$Forwarded", "\\Seen", "\\Deleted", "Later"})),
    ]
    assert stored["INBOX"][1][2] == b"Subject: b\r\n\r\nB"

    async def check_identity() -> None:
        store = await SqliteStore.open(data, synchronous_full=False)
        account = await store.open_account("alice")
        status = await account.mailbox_status("Lists/Rust")
        assert (status.uidvalidity, status.uidnext) == (3333, 8)
        mailbox = await account.open_mailbox("INBOX")
        meta = await mailbox.fetch_meta([Uid(3)], frozenset({MetaItem.INTERNAL_DATE}))
        assert meta[0].internal_date == dt.datetime.fromtimestamp(1_700_010_800, dt.UTC)
        assert sorted(await account.subscriptions()) == sorted(stored)
        await store.close()

    asyncio.run(check_identity())
    out = tmp_path / "out"
    assert run(data, "export", "alice", str(out), "--format", "maildir") == 0
    assert tree(out) == tree(source)


def test_maildir_into_used_mailbox_gets_new_uids(tmp_path: Path) -> None:
    source = tmp_path / "Maildir"
    make_maildir(source)
    data = tmp_path / "data"
    new_user(data)
    mbox_file = tmp_path / "one.mbox"
    mbox_file.write_bytes(b"From a@x Mon Jan  1 10:00:00 2024\nSubject: first\n\nx\n")
    assert run(data, "import", "alice", str(mbox_file), "--mailbox", "Lists/Rust") == 0
    assert run(data, "import", "alice", str(source)) == 0
    assert [uid for uid, _, _ in contents(data)["Lists/Rust"]] == [1, 2, 3]


# --- resuming ---------------------------------------------------------------------------


def big_mbox(path: Path, count: int) -> None:
    with path.open("wb") as out:
        for i in range(count):
            out.write(
                b"From a@x Mon Jan  1 10:00:00 2024\nFrom: a@x\nMessage-ID: <%d@x>\n\n"
                b"body %d\n\n" % (i, i)
            )


def interrupt_after(monkeypatch: pytest.MonkeyPatch, calls: int) -> None:
    """Make the store fail the import batch number `calls` (counting from 1) mid-way."""
    original = appending.prepare
    seen = 0

    def failing(backend: Backend, messages: Sequence[AppendRequest]) -> list[appending.Prepared]:
        nonlocal seen
        seen += 1
        if seen == calls:
            raise OSError("disk on fire")
        return original(backend, messages)

    monkeypatch.setattr(appending, "prepare", failing)


def test_interrupted_mbox_import_resumes_without_duplicates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "big.mbox"
    big_mbox(source, 95)
    data = tmp_path / "data"
    new_user(data)
    with monkeypatch.context() as patch:
        interrupt_after(patch, 4)
        assert run(data, "import", "alice", str(source), "--batch-size", "10") == 1
    assert "disk on fire" in capsys.readouterr().err
    first = len(contents(data)["INBOX"])
    assert 0 < first < 95
    assert run(data, "import", "alice", str(source), "--batch-size", "10") == 0
    ids = [
        body.split(b"Message-ID: ")[1].split(b"\r\n")[0] for _, _, body in contents(data)["INBOX"]
    ]
    assert ids == [b"<%d@x>" % i for i in range(95)]
    # A third run finds nothing new; appending to the file imports only the new message.
    assert run(data, "import", "alice", str(source)) == 0
    with source.open("ab") as f:
        f.write(b"From a@x Mon Jan  1 10:00:00 2024\nMessage-ID: <new@x>\n\nnew\n")
    assert run(data, "import", "alice", str(source)) == 0
    assert len(contents(data)["INBOX"]) == 96


def test_interrupted_maildir_import_resumes_without_duplicates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (source / sub).mkdir(parents=True)
    for i in range(45):
        (source / "cur" / f"{1_700_000_000 + i}.M{i}.h:2,S").write_bytes(b"Subject: %d\n\n" % i)
    data = tmp_path / "data"
    new_user(data)
    with monkeypatch.context() as patch:
        interrupt_after(patch, 3)
        assert run(data, "import", "alice", str(source), "--batch-size", "7") == 1
    assert 0 < len(contents(data)["INBOX"]) < 45
    assert run(data, "import", "alice", str(source), "--batch-size", "7") == 0
    subjects = [body for _, _, body in contents(data)["INBOX"]]
    assert subjects == [b"Subject: %d\r\n\r\n" % i for i in range(45)]


# --- progress -----------------------------------------------------------------------------


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_lines_and_summary() -> None:
    plain = io.StringIO()
    progress = Progress("imported", total_bytes=4000, stream=plain, interval=0.0)
    progress.folder("INBOX")
    progress.add(10, 1000)
    line = plain.getvalue()
    assert line.startswith("10 messages, 1.0 kB, ")
    assert "msg/s" in line
    assert "ETA 0:00:0" in line
    assert line.endswith("\n")
    summary = progress.finish()
    assert summary.startswith("imported 10 messages in 1 folder, 1.0 kB in ")
    assert summary.endswith("messages/s)")

    tty = FakeTty()
    progress = Progress("exported", total_messages=100, stream=tty)
    progress.interval = 0.0
    progress.add(50, 2_500_000)
    assert tty.getvalue().startswith("\r\x1b[K50 messages, 2.5 MB")
    assert "ETA" in tty.getvalue()
    progress.finish()
    assert tty.getvalue().endswith("\r\x1b[K")


def test_import_of_a_missing_path_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    new_user(data)
    assert run(data, "import", "alice", str(tmp_path / "nothing")) == 1
    assert "no such file" in capsys.readouterr().err
    assert run(data, "import", "nobody", str(tmp_path)) == 1


def test_import_killed_with_sigkill_resumes_without_duplicates(tmp_path: Path) -> None:
    """A real crash: the process dies between batches; the re-run completes the import."""
    source = tmp_path / "big.mbox"
    big_mbox(source, 3000)
    data = tmp_path / "data"
    new_user(data)
    config = tmp_path / "cheap.toml"
    config.write_text(CHEAP)
    command = [sys.executable, "-m", "buzon.cli.main", "import", "alice", str(source)]
    command += ["--batch-size", "20", "--data-dir", str(data), "--config", str(config)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        count = 0
        while count == 0 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
            with contextlib.closing(sqlite3.connect(data / "buzon.db", timeout=10)) as db:
                count = db.execute("SELECT count(*) FROM messages").fetchone()[0]
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(30)
    assert process.returncode == -signal.SIGKILL  # killed mid-way, not finished
    assert 0 < len(contents(data)["INBOX"]) < 3000
    assert run(data, "import", "alice", str(source)) == 0
    ids = [
        body.split(b"Message-ID: ")[1].split(b"\r\n")[0] for _, _, body in contents(data)["INBOX"]
    ]
    assert ids == [b"<%d@x>" % i for i in range(3000)]
