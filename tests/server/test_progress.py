"""INPROGRESS (RFC 9585): progress lines from long commands, none from quick ones."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

import pytest

from buzon.imap.encoder import encode
from buzon.imap.responses import Response
from buzon.server import progress
from buzon.server.outcome import Ok
from buzon.server.session import State
from buzon.storage.api import AppendRequest
from tests.server.fixtures import message
from tests.server.harness import PASSWORD, LineClient, ServerThread, server_settings

if TYPE_CHECKING:
    from buzon.server.connection import Connection

# RFC 9585 §3: resp-text-code =/ "INPROGRESS" [SP "(" progress-tag SP progress-count SP
# progress-total ")"]; progress-tag = quoted / nil; count = number / nil;
# total = nz-number / nil.
PROGRESS = re.compile(
    rb'\* OK \[INPROGRESS \((?P<tag>"[^"]*"|NIL) (?P<done>\d+|NIL) (?P<total>[1-9]\d*|NIL)\)\] .+'
)
MESSAGES = 3000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    with ServerThread(server_settings(tmp_path_factory.mktemp("progress") / "data")) as running:
        store = running.store
        assert store is not None

        async def fill() -> None:
            inbox = await (await store.open_account("alice")).open_mailbox("INBOX")
            when = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
            await inbox.append(
                [
                    AppendRequest(message(n % 28 + 1, f"Message {n}"), frozenset(), when)
                    for n in range(MESSAGES)
                ]
            )

        running.call(fill, timeout=120)
        yield running


def _command(client: LineClient, tag: str, text: str) -> list[bytes]:
    client.send(f"{tag} {text}\r\n".encode())
    lines = []
    while True:
        line = client.line()
        lines.append(line)
        if line.startswith(tag.encode() + b" "):
            return lines


def _logged_in(server: ServerThread) -> LineClient:
    client = LineClient(server.imap_port, timeout=60)
    assert client.line().startswith(b"* OK ")
    assert _command(client, "l1", f"LOGIN alice {PASSWORD}")[-1].startswith(b"l1 OK ")
    return client


def test_a_slow_copy_reports_progress(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A COPY of 3000 messages takes longer than the (lowered) threshold: progress lines
    with the command's tag come before its tagged OK, and none after it."""
    monkeypatch.setattr(progress, "FIRST_AFTER", 0.001)
    monkeypatch.setattr(progress, "EVERY", 0.001)
    client = _logged_in(server)
    try:
        _command(client, "s1", "SELECT INBOX")
        started = time.monotonic()
        lines = _command(client, "c1", "COPY 1:* Archive")
        took = time.monotonic() - started
        assert lines[-1].startswith(b"c1 OK [COPYUID "), lines[-1]
        ticks = [line for line in lines if b"INPROGRESS" in line]
        assert ticks, f"no progress line in {took:.3f}s"
        for line in ticks:
            match = PROGRESS.fullmatch(line)
            assert match is not None, line
            assert match["tag"] == b'"c1"'
        assert client.pending(0.1) == b""
    finally:
        client.close()


def test_quick_commands_send_no_progress(server: ServerThread) -> None:
    client = _logged_in(server)
    try:
        for tag, text in [
            ("q1", "SELECT INBOX"),
            ("q2", "FETCH 1:10 (FLAGS UID)"),
            ("q3", "NOOP"),
            ("q4", "STORE 1 +FLAGS (\\Seen)"),
            ("q5", "UID SEARCH UID 1:5"),
        ]:
            lines = _command(client, tag, text)
            assert lines[-1].startswith(f"{tag} OK".encode()), lines[-1]
            assert not [line for line in lines if b"INPROGRESS" in line]
    finally:
        client.close()


# --- the timer itself, with a stand-in connection -----------------------------------


@dataclass
class _Session:
    state: State = State.SELECTED


@dataclass
class _FakeConnection:
    session: _Session = field(default_factory=_Session)
    streaming: bool = False
    progress: progress.Progress | None = None
    written: list[tuple[float, bytes]] = field(default_factory=list)

    def write_now(self, response: Response) -> bool:
        assert not self.streaming, "a progress line inside a streamed response"
        self.written.append((time.monotonic(), encode(response)))
        return True


def _run(conn: _FakeConnection, name: str, work: float, *, stream_for: float = 0.0) -> Ok:
    async def handler() -> Ok:
        if stream_for:
            conn.streaming = True
            await asyncio.sleep(stream_for)
            conn.streaming = False
        await asyncio.sleep(work)
        if conn.progress is not None:
            conn.progress.update(7, 9)
        await asyncio.sleep(0.03)
        return Ok()

    fake = cast("Connection", conn)
    return asyncio.run(progress.track(fake, "A1", name, handler()))


def test_tick_spacing_counts_and_no_tick_after_the_end(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "FIRST_AFTER", 0.02)
    monkeypatch.setattr(progress, "EVERY", 0.02)
    conn = _FakeConnection()
    _run(conn, "SEARCH", 0.1)
    ended = time.monotonic()
    lines = [data for _, data in conn.written]
    assert lines[0] == b'* OK [INPROGRESS ("A1" NIL NIL)] Still working\r\n'
    assert lines[-1] == b'* OK [INPROGRESS ("A1" 7 9)] Still working\r\n'
    times = [when for when, _ in conn.written]
    assert all(b - a >= 0.015 for a, b in itertools.pairwise(times))
    assert conn.progress is None
    count = len(conn.written)
    time.sleep(0.06)
    assert len(conn.written) == count
    assert times[-1] <= ended


def test_no_tick_while_a_response_is_streamed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "FIRST_AFTER", 0.01)
    monkeypatch.setattr(progress, "EVERY", 0.01)
    conn = _FakeConnection()
    _run(conn, "FETCH", 0.05, stream_for=0.1)  # write_now asserts it is never mid-stream
    assert conn.written


def test_untracked_commands_and_states(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "FIRST_AFTER", 0.005)
    idle = _FakeConnection()
    _run(idle, "IDLE", 0.05)
    anonymous = _FakeConnection(_Session(State.NOT_AUTHENTICATED))
    _run(anonymous, "LOGIN", 0.05)
    assert idle.written == []
    assert anonymous.written == []


@pytest.mark.parametrize(
    ("done", "total", "shown"),
    [
        (None, None, b"NIL NIL"),
        (3, 10, b"3 10"),
        (0, None, b"0 NIL"),
        (11, 10, b"NIL 10"),
        (0, 0, b"0 NIL"),
        (None, 5, b"NIL 5"),
    ],
)
def test_counts_are_consistent(done: int | None, total: int | None, shown: bytes) -> None:
    line = encode(progress.Progress("t", done, total).response())
    assert line == b'* OK [INPROGRESS ("t" ' + shown + b")] Still working\r\n"
    assert PROGRESS.fullmatch(line.rstrip(b"\r\n"))
