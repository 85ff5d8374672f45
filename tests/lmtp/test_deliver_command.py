"""`buzon deliver` from a shell pipe: delivery, exit codes, and waking the server's sessions."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import pytest

from buzon.storage.api import INBOX, AppendRequest, ChangeNotice, MailboxChanged
from buzon.storage.sqlite import SqliteStore
from buzon.storage.sqlite.watch import ChangeWatcher
from tests.server.harness import PASSWORD, LineClient, ServerThread, server_settings

CONFIG = """
[auth]
argon2_time_cost = 1
argon2_memory_kib = 1024
argon2_parallelism = 1
"""
MESSAGE = b"Subject: piped\nFrom: a@example.org\n\nhello\n"


def deliver(
    data_dir: Path, *args: str, stdin: bytes = MESSAGE
) -> subprocess.CompletedProcess[bytes]:
    config = data_dir.parent / "buzon.toml"
    config.write_text(CONFIG)
    command = [sys.executable, "-m", "buzon.cli.main", "deliver", *args]
    command += ["--data-dir", str(data_dir), "--config", str(config)]
    # As an MTA runs it: a shell pipe into the command.
    return subprocess.run(command, input=stdin, capture_output=True, timeout=60, check=False)


def _messages(data_dir: Path, user: str, mailbox: str = INBOX) -> list[bytes]:
    async def main() -> list[bytes]:
        store = await SqliteStore.open(data_dir)
        try:
            box = await (await store.open_account(user)).open_mailbox(mailbox)
            snapshot = await box.snapshot(claim_recent=False)
            return [await box.read_message(uid) for uid in snapshot.uids]
        finally:
            await store.close()

    return asyncio.run(main())


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "data"

    async def main() -> None:
        store = await SqliteStore.open(data)
        try:
            await store.create_user("alice", "x")
            await (await store.open_account("alice")).create_mailbox("Work")
        finally:
            await store.close()

    asyncio.run(main())
    return data


def test_pipe_delivers_with_trace_headers(data_dir: Path) -> None:
    result = deliver(data_dir, "-f", "sender@example.org", "alice")
    assert result.returncode == 0, result.stderr
    (message,) = _messages(data_dir, "alice")
    head, _, body = message.partition(b"Subject: piped")
    assert head.startswith(
        b"Return-Path: <sender@example.org>\r\nReceived: by localhost (Buzon) id "
    )
    assert b"for <alice>" in head
    assert body == b"\r\nFrom: a@example.org\r\n\r\nhello\r\n"


def test_folder_option_and_missing_folder(data_dir: Path) -> None:
    assert deliver(data_dir, "-m", "Work", "alice").returncode == 0
    assert deliver(data_dir, "-m", "Nowhere", "alice").returncode == 0  # into INBOX
    assert len(_messages(data_dir, "alice", "Work")) == 1
    assert len(_messages(data_dir, "alice")) == 1


def test_address_argument_and_detail(data_dir: Path) -> None:
    assert deliver(data_dir, "alice+work@example.org").returncode == 0
    assert len(_messages(data_dir, "alice", "Work")) == 1


@pytest.mark.parametrize(
    ("args", "stdin", "status"),
    [
        (("nobody",), MESSAGE, 67),  # EX_NOUSER: the MTA bounces
        (("alice",), b"", 65),  # EX_DATAERR: nothing to deliver
        (("alice",), b"\n\n", 65),
        (("-f", "<a@b> junk", "alice"), MESSAGE, 64),  # EX_USAGE
    ],
)
def test_exit_codes(data_dir: Path, args: tuple[str, ...], stdin: bytes, status: int) -> None:
    result = deliver(data_dir, *args, stdin=stdin)
    assert result.returncode == status, result.stderr
    assert _messages(data_dir, "alice") == []


def test_store_unavailable_is_a_temporary_failure(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "buzon.db").mkdir(parents=True)  # the database cannot be opened
    result = deliver(data, "alice")
    assert result.returncode == 75, result.stderr  # EX_TEMPFAIL: the MTA retries


def test_other_process_commit_reaches_the_bus(tmp_path: Path) -> None:
    """SqliteStore.open(watch=True) publishes what another store (process) committed."""

    async def main() -> list[ChangeNotice]:
        watched = await SqliteStore.open(tmp_path / "d", watch=True)
        other = await SqliteStore.open(tmp_path / "d")
        try:
            await watched.create_user("alice", "x")
            got: list[ChangeNotice] = []
            arrived = asyncio.Event()

            def on_notice(notice: ChangeNotice) -> None:
                got.append(notice)
                arrived.set()

            watched.bus.subscribe("alice", on_notice)
            await asyncio.sleep(0.4)  # the first tick reads alice's mailboxes
            got.clear()
            arrived.clear()
            box = await (await other.open_account("alice")).open_mailbox(INBOX)
            await box.append([AppendRequest(b"Subject: x\r\n\r\ny\r\n")])
            await asyncio.wait_for(arrived.wait(), 1.0)
            return got
        finally:
            await other.close()
            await watched.close()

    notices = asyncio.run(main())
    assert [type(n) for n in notices] == [MailboxChanged]


def test_deliver_wakes_a_session_of_the_server(tmp_path: Path, data_dir: Path) -> None:
    """A session selected on INBOX sees `* 1 EXISTS` at its next NOOP after `buzon deliver`."""
    with ServerThread(server_settings(data_dir), users=("bob",)) as server:
        store = server.store
        assert isinstance(store, SqliteStore)
        watcher = ChangeWatcher(data_dir / "buzon.db", store.bus)

        async def start() -> None:
            watcher.start()

        server.call(start)
        try:
            client = LineClient(server.imap_port)
            client.line()
            client.send(f"a1 LOGIN bob {PASSWORD}\r\na2 SELECT INBOX\r\n".encode())
            while not client.line().startswith(b"a2 OK"):
                pass
            time.sleep(0.4)
            assert deliver(data_dir, "bob").returncode == 0
            deadline = time.monotonic() + 5
            lines: list[bytes] = []
            while time.monotonic() < deadline:
                client.send(b"a3 NOOP\r\n")
                lines = []
                while not (line := client.line()).startswith(b"a3 "):
                    lines.append(line)
                if lines:
                    break
                time.sleep(0.1)
            assert b"* 1 EXISTS" in lines
            client.close()
        finally:
            server.call(watcher.stop)
