"""Command-by-state matrix (RFC 9051 §6): which commands each state accepts.

The expectations are written from the RFC, not read from the server's command table, so a
mistake in the table shows up here.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.server.harness import LineClient, ServerThread, server_settings

NOT_AUTH = "not-authenticated"
AUTH = "authenticated"
SELECTED = "selected"

# command line → states in which RFC 9051 allows it
MATRIX: dict[str, set[str]] = {
    "CAPABILITY": {NOT_AUTH, AUTH, SELECTED},
    "NOOP": {NOT_AUTH, AUTH, SELECTED},
    "ID NIL": {NOT_AUTH, AUTH, SELECTED},
    "LOGIN alice secret": {NOT_AUTH},
    "AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==": {NOT_AUTH},
    "STARTTLS": {NOT_AUTH},
    "ENABLE CONDSTORE": {AUTH},
    "CREATE matrix": {AUTH, SELECTED},
    "DELETE matrix-missing": {AUTH, SELECTED},
    "RENAME matrix-missing other": {AUTH, SELECTED},
    "SUBSCRIBE INBOX": {AUTH, SELECTED},
    "UNSUBSCRIBE INBOX": {AUTH, SELECTED},
    'LIST "" INBOX': {AUTH, SELECTED},
    'LSUB "" INBOX': {AUTH, SELECTED},
    "NAMESPACE": {AUTH, SELECTED},
    "STATUS INBOX (MESSAGES)": {AUTH, SELECTED},
    "SELECT INBOX": {AUTH, SELECTED},
    "EXAMINE INBOX": {AUTH, SELECTED},
    "APPEND INBOX {1+}\r\nx": {AUTH, SELECTED},
    "CHECK": {SELECTED},
    "CLOSE": {SELECTED},
    "UNSELECT": {SELECTED},
    "EXPUNGE": {SELECTED},
    "UID EXPUNGE 1": {SELECTED},
    "FETCH 1:* (FLAGS)": {SELECTED},
    "UID FETCH 1:* (FLAGS)": {SELECTED},
    "STORE 1:* +FLAGS (\\Seen)": {SELECTED},
    "COPY 1:* Trash": {SELECTED},
    "MOVE 1:* Trash": {SELECTED},
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    with ServerThread(server_settings(tmp_path_factory.mktemp("matrix") / "data")) as running:
        yield running


def _answer(client: LineClient, tag: bytes) -> bytes:
    while True:
        line = client.line()
        if line.startswith(tag + b" "):
            return line


@pytest.mark.parametrize("state", [NOT_AUTH, AUTH, SELECTED])
@pytest.mark.parametrize("command", sorted(MATRIX))
def test_matrix(server: ServerThread, state: str, command: str) -> None:
    # One connection per attempt: LOGIN or AUTHENTICATE changes the state.
    client = LineClient(server.imap_port)
    try:
        client.line()
        if state in {AUTH, SELECTED}:
            client.send(b"s1 LOGIN bob secret\r\n")
            assert _answer(client, b"s1").startswith(b"s1 OK")
        if state == SELECTED:
            client.send(b"s2 SELECT INBOX\r\n")
            assert _answer(client, b"s2").startswith(b"s2 OK")
        client.send(b"t1 " + command.encode().replace(b"\\r\\n", b"\r\n") + b"\r\n")
        answer = _answer(client, b"t1")
        refused_for_state = answer.startswith(b"t1 BAD ") and (
            b"needs authentication" in answer
            or b"not allowed" in answer
            or b"only allowed" in answer
            or b"needs a selected mailbox" in answer
        )
        assert refused_for_state == (state not in MATRIX[command]), answer
    finally:
        client.close()
