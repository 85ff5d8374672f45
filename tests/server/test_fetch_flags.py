"""FETCH of flags and numbers (`server/fetchflags.py`) answers exactly as the general path.

Each conversation runs twice on the same server state: once as the server runs, once with
the flags-only path switched off, and the bytes must be equal. The scenarios are the ones
where the two could differ: keywords, \\Recent (only in the session that has it), MODSEQ
and CHANGEDSINCE, sizes and dates, sequence sets with holes, and a message another
session expunged that this one has not been told of (RFC 2180 §4.1).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from buzon.server import fetchflags
from buzon.storage.api import AppendRequest
from tests.server.harness import (
    LineClient,
    ServerThread,
    answer,
    selected,
    server_settings,
)

MESSAGES = 40


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    data = tmp_path_factory.mktemp("fetchflags") / "data"
    with ServerThread(server_settings(Path(data))) as srv:
        flag_sets = [
            frozenset(),
            frozenset({"\\Seen"}),
            frozenset({"\\Seen", "\\Answered", "$Work"}),
            frozenset({"\\Flagged", "$Label1", "Junk"}),
            frozenset({"\\Deleted"}),
        ]
        srv.append(
            [
                AppendRequest(
                    b"Subject: m%d\r\n\r\n%s\r\n" % (i, b"x" * i), flag_sets[i % len(flag_sets)]
                )
                for i in range(MESSAGES)
            ]
        )
        yield srv


def _login(srv: ServerThread, mailbox: str = "INBOX", command: str = "SELECT") -> LineClient:
    return selected(srv, mailbox, command=command)


def _both(client: LineClient, command: str, monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    fast = answer(client, command)
    with monkeypatch.context() as m:
        m.setattr(fetchflags, "line_items", lambda conn, items: None)
        general = answer(client, command)
    assert fast == general
    return fast


COMMANDS = [
    "FETCH 1:* (FLAGS)",
    "UID FETCH 1:* (FLAGS)",
    "FETCH 1:* (UID FLAGS MODSEQ)",
    "FETCH 2,5:7,30:* (RFC822.SIZE INTERNALDATE FLAGS UID)",
    "UID FETCH 3:9 (FLAGS FLAGS UID)",
    "FETCH 1:4 FAST",
    "UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1)",
    "FETCH 1:* (UID)",
]


@pytest.mark.parametrize("command", COMMANDS)
def test_same_answer_as_the_general_path(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    client = _login(server, command="EXAMINE")
    lines = _both(client, command, monkeypatch)
    assert lines[-1].startswith(b"t OK")
    if "1:*" in command and "CHANGEDSINCE" not in command:
        assert len(lines) == MESSAGES + 1
    client.close()


def test_recent_flags_and_changes_since(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    """\\Recent shows in the session that claimed it (RFC 3501 §2.3.2: exactly one);
    CHANGEDSINCE picks the changes."""
    other = _login(server)
    before = answer(other, "FETCH 1 (MODSEQ)")[0].split(b"MODSEQ (")[1].split(b")")[0]

    async def deliver() -> None:
        assert server.store is not None
        inbox = await (await server.store.open_account("alice")).open_mailbox("INBOX")
        await inbox.append([AppendRequest(b"Subject: new\r\n\r\nnew\r\n", frozenset({"$New"}))])

    server.call(deliver)
    client = _login(server)
    lines = _both(client, "FETCH 1:* (FLAGS UID)", monkeypatch)
    assert b"\\Recent" in lines[-2]
    assert b"$New" in lines[-2]
    assert sum(b"\\Recent" in line for line in lines) == 1
    other.send(b"n NOOP\r\n")
    while not other.line().startswith(b"n OK"):
        pass
    seen_by_other = _both(other, "FETCH 1:* (FLAGS)", monkeypatch)
    # `other` selected first and claimed the first 40; the new one went to `client`.
    assert sum(b"\\Recent" in line for line in seen_by_other) == MESSAGES
    assert b"\\Recent" not in seen_by_other[-2]
    answer(client, "STORE 3 +FLAGS.SILENT (\\Flagged)")
    changed = _both(client, f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {int(before)})", monkeypatch)
    assert [line.split(b" FETCH")[0] for line in changed[:-1]] == [
        b"* 3",
        f"* {MESSAGES + 1}".encode(),
    ]
    client.close()
    other.close()


def test_expunged_elsewhere_not_yet_announced(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RFC 2180 §4.1: the UID alone may still be given; other items end NO [EXPUNGEISSUED]."""
    client = _login(server)
    other = _login(server)
    assert answer(other, "UID STORE 2 +FLAGS.SILENT (\\Deleted)")[-1].startswith(b"t OK")
    assert answer(other, "UID EXPUNGE 2")[-2:] == [b"* 2 EXPUNGE", b"t OK UID EXPUNGE completed"]
    uids = _both(client, "FETCH 1:3 (UID)", monkeypatch)
    assert uids[:3] == [b"* 1 FETCH (UID 1)", b"* 2 FETCH (UID 2)", b"* 3 FETCH (UID 3)"]
    flags = _both(client, "FETCH 1:3 (FLAGS)", monkeypatch)
    assert [line[:4] for line in flags[:2]] == [b"* 1 ", b"* 3 "]
    assert flags[-1].startswith(b"t NO [EXPUNGEISSUED]")
    client.close()
    other.close()
