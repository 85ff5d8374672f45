"""FETCH of header fields answered from the stored headers (`Mailbox.read_headers`).

A message list (`UID FETCH 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (...)])`,
Thunderbird's) is answered without reading a message file or a MIME structure, and
exactly as the general path answers it, also for messages stored before headers were
kept (their header then comes from the file). The messages are the awkward ones: no
body, no blank line, bare LF, folded fields, a field only in the body.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from buzon.mime import ParsedMessage
from buzon.server import cmd_fetch, fetchwhole
from buzon.storage.api import AppendRequest
from buzon.storage.sqlite.blobs import BlobStore
from buzon.storage.sqlite.store import DB_NAME
from tests.server.harness import LineClient, ServerThread, answer, selected, server_settings

BODIES = [
    b"From: Ann <ann@example.org>\r\nSubject: plain\r\nX-Long: one\r\n two\r\n\r\nbody\r\n",
    b"Subject: no body\r\n\r\n",
    b"Subject: no blank line\r\n",
    b"Subject: bare LF\nFrom: lf@example.org\n\nbody\n",
    b"\r\nno header at all\r\n",
    b"From: big@example.org\r\nSubject: in a file\r\n\r\n" + b"line of a big body\r\n" * 4000,
    b"Subject: field in body\r\n\r\nFrom: not a header\r\n",
]
FIELDS = "(From To Cc Bcc Subject Date Message-ID Priority X-Priority References Reply-To)"
COMMANDS = [
    f"UID FETCH 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS {FIELDS}])",
    "FETCH 1:* (BODY.PEEK[HEADER])",
    "FETCH 2:5 (FLAGS BODY.PEEK[HEADER.FIELDS.NOT (Subject X-Long)] UID)",
    "FETCH 1:* (RFC822.HEADER)",
    "FETCH 1,3 (BODY.PEEK[HEADER.FIELDS (Subject)]<2.5> BODY.PEEK[HEADER])",
]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    with ServerThread(server_settings(tmp_path / "data")) as srv:
        srv.append([AppendRequest(body) for body in BODIES])
        yield srv


def _general(client: LineClient, command: str, monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The answer of the general path reading whole messages and structures."""
    with monkeypatch.context() as m:
        m.setattr(cmd_fetch, "header_item", lambda item: False)
        m.setattr(fetchwhole, "whole_items", lambda conn, items: None)
        return answer(client, command)


def _no_file_or_structure(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every message file and structure read from now on."""
    reads: list[str] = []
    read, loads = BlobStore.read, ParsedMessage.loads.__func__  # type: ignore[attr-defined]

    def reading(self: BlobStore, digest: bytes) -> bytes:
        reads.append("file")
        return read(self, digest)

    def loading(cls: type[ParsedMessage], data: bytes) -> ParsedMessage:
        reads.append("structure")
        result: ParsedMessage = loads(cls, data)
        return result

    monkeypatch.setattr(BlobStore, "read", reading)
    monkeypatch.setattr(ParsedMessage, "loads", classmethod(loading))
    return reads


def test_header_fields_from_the_stored_headers(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = selected(server, timeout=30)
    expected = {command: _general(client, command, monkeypatch) for command in COMMANDS}
    reads = _no_file_or_structure(monkeypatch)
    rendered: list[object] = []
    render = fetchwhole.WholeLines.render

    def counting(self: fetchwhole.WholeLines, *args: Any) -> tuple[bytes, bytes, bytes]:
        rendered.append(self)
        return render(self, *args)

    monkeypatch.setattr(fetchwhole.WholeLines, "render", counting)
    for command in COMMANDS:
        lines = answer(client, command)
        assert lines == expected[command], command
        assert lines[-1].startswith(b"t OK")
    assert reads == []
    # One section with flags and numbers is rendered by format strings (fetchwhole.py);
    # two sections go through the general path, from the stored headers all the same.
    assert len(rendered) == len(BODIES) * 3 + 4
    # Anything beyond the header still reads the message.
    assert answer(client, "FETCH 1 (BODY.PEEK[HEADER] BODY.PEEK[TEXT])")[-1].startswith(b"t OK")
    assert reads
    client.close()


def test_messages_stored_before_headers_were_kept(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store from before migration 12 has no header rows: the files and structures
    stand in, with the same answers, and the headers are kept for the next time."""
    client = selected(server, timeout=30)
    expected = {command: _general(client, command, monkeypatch) for command in COMMANDS}
    db = sqlite3.connect(server.settings.server.data_dir / DB_NAME)
    with db:
        db.execute("DELETE FROM msg_headers")
    db.close()
    for command in COMMANDS:
        assert answer(client, command) == expected[command], command
    # The first FETCH kept the headers it had to take from the files: no file since.
    db = sqlite3.connect(server.settings.server.data_dir / DB_NAME)
    try:
        assert db.execute("SELECT count(*) FROM msg_headers").fetchone()[0] == len(BODIES)
    finally:
        db.close()
    reads = _no_file_or_structure(monkeypatch)
    for command in COMMANDS:
        assert answer(client, command) == expected[command], command
    assert reads == []
    client.close()


def test_setting_seen_and_expunged_elsewhere(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    """BODY[HEADER] without PEEK sets \\Seen and says so; a message another session
    expunged is left out with NO [EXPUNGEISSUED] (RFC 2180 §4.1.2)."""
    client = selected(server, timeout=30)
    other = selected(server)
    assert answer(other, "UID STORE 2 +FLAGS.SILENT (\\Deleted)")[-1].startswith(b"t OK")
    assert answer(other, "UID EXPUNGE 2")[-1].startswith(b"t OK")
    lines = answer(client, "FETCH 1:3 (BODY[HEADER.FIELDS (Subject)])")
    assert lines[0] == b"* 1 FETCH (BODY[HEADER.FIELDS (Subject)] {18}"
    assert lines[1:4] == [b"Subject: plain", b"", b" FLAGS (\\Recent \\Seen))"]
    assert [line[:4] for line in lines if b" FETCH (" in line] == [b"* 1 ", b"* 3 "]
    assert lines[-1].startswith(b"t NO [EXPUNGEISSUED]")
    client.close()
    other.close()


def test_a_deleted_content_takes_its_header_along(server: ServerThread) -> None:
    """The header row goes with the content (trigger of migration 12): the expunge
    removes the last reference to each content, and both rows go."""
    client = selected(server)
    assert answer(client, "STORE 1:* +FLAGS.SILENT (\\Deleted)")[-1].startswith(b"t OK")
    assert answer(client, "EXPUNGE")[-1].startswith(b"t OK")
    client.close()
    db = sqlite3.connect(server.settings.server.data_dir / DB_NAME)
    try:
        contents = db.execute("SELECT count(*) FROM contents").fetchone()[0]
        headers = db.execute("SELECT count(*) FROM msg_headers").fetchone()[0]
    finally:
        db.close()
    assert (headers, contents) == (0, 0)
