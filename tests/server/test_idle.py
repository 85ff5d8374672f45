"""IDLE (RFC 2177) beyond the transcript: real clients, pipelining after DONE, keep-alives."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import imapclient
import pytest

from tests.server.harness import PASSWORD, LineClient, ServerThread, server_settings


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    settings = server_settings(tmp_path / "data")
    settings = dataclasses.replace(
        settings, limits=dataclasses.replace(settings.limits, idle_keepalive=0.3)
    )
    with ServerThread(settings) as running:
        yield running


def _login(server: ServerThread) -> LineClient:
    client = LineClient(server.imap_port)
    client.line()
    client.send(b"l LOGIN alice secret\r\ns SELECT INBOX\r\n")
    while not client.line().startswith(b"s OK"):
        pass
    return client


def test_done_and_more_commands_in_one_packet(server: ServerThread) -> None:
    """iOS Mail sends DONE and its next commands together; none may be lost."""
    client = _login(server)
    try:
        client.send(b"a1 IDLE\r\n")
        assert client.line() == b"+ idling"
        client.send(b"DONE\r\na2 NOOP\r\na3 CAPABILITY\r\n")
        assert client.line() == b"a1 OK IDLE terminated"
        assert client.line() == b"a2 OK NOOP completed"
        assert client.line().startswith(b"* CAPABILITY IMAP4rev1 ")
        assert client.line() == b"a3 OK CAPABILITY completed"
    finally:
        client.close()


def test_changes_just_before_idle_are_reported_at_once(server: ServerThread) -> None:
    a, b = _login(server), _login(server)
    try:
        b.send(b"b1 APPEND INBOX {3+}\r\nabc\r\n")
        while not b.line().startswith(b"b1 OK"):
            pass
        a.send(b"a1 IDLE\r\n")
        assert a.line() == b"+ idling"
        assert a.line() == b"* 1 EXISTS"
        assert a.line() == b"* 0 RECENT"
        a.send(b"DONE\r\n")
        assert a.line() == b"a1 OK IDLE terminated"
    finally:
        a.close()
        b.close()


def test_keepalive_while_nothing_happens(server: ServerThread) -> None:
    client = _login(server)
    try:
        client.send(b"a1 IDLE\r\n")
        assert client.line() == b"+ idling"
        assert client.line() == b"* OK Still here"
        assert client.line() == b"* OK Still here"
        client.send(b"DONE\r\n")
        assert client.line() == b"a1 OK IDLE terminated"
    finally:
        client.close()


def test_idle_in_authenticated_state(server: ServerThread) -> None:
    client = LineClient(server.imap_port)
    try:
        client.line()
        client.send(b"l LOGIN alice secret\r\n")
        assert client.line().startswith(b"l OK")
        client.send(b"a1 IDLE\r\n")
        assert client.line() == b"+ idling"
        client.send(b"DONE\r\n")
        assert client.line() == b"a1 OK IDLE terminated"
    finally:
        client.close()


def test_imapclient_idles_while_another_client_works(server: ServerThread) -> None:
    watcher = imapclient.IMAPClient("127.0.0.1", port=server.imap_port, ssl=False)
    worker = imapclient.IMAPClient("127.0.0.1", port=server.imap_port, ssl=False)
    try:
        watcher.login("alice", PASSWORD)
        worker.login("alice", PASSWORD)
        worker.append("INBOX", b"Subject: one\r\n\r\nfirst\r\n")
        watcher.select_folder("INBOX")
        worker.select_folder("INBOX")
        watcher.idle()
        seen: list[tuple[object, ...]] = []

        def work() -> None:
            worker.append("INBOX", b"Subject: two\r\n\r\nsecond\r\n")
            worker.add_flags([1], [b"\\Flagged"])
            worker.delete_messages([1])
            worker.expunge()

        thread = threading.Thread(target=work)
        thread.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(r[1] == b"EXPUNGE" for r in seen):
            seen.extend(r for r in watcher.idle_check(timeout=1) if r[1] != b"OK")
        thread.join(10)
        watcher.idle_done()
        kinds = [r[1] for r in seen]
        assert (2, b"EXISTS") in seen
        assert b"FETCH" in kinds
        assert (1, b"EXPUNGE") in seen
        assert kinds.index(b"EXISTS") < kinds.index(b"EXPUNGE")
    finally:
        watcher.logout()
        worker.logout()
