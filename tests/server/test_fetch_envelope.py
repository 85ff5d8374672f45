"""FETCH of ENVELOPE with flags and numbers (`server/fetchenvelope.py`) answers exactly as
the general path, before and after the storage kept the renderings.

Each command runs on the same server state with the envelope path on and off; the bytes
must be equal, in a session without UTF-8 and in one with UTF8=ACCEPT (RFC 6855), where
headers of raw UTF-8 are quoted strings instead of literals. The messages are the ones
where renderings could differ: 8-bit headers (UTF-8 and not), a subject longer than a
quoted string may be, quotes and backslashes, groups, absent headers.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from buzon.imap.commands_values import FetchAtt
from buzon.imap.encoder import encode
from buzon.imap.fetchlines import flag_list_bytes
from buzon.imap.responses import FetchData, FetchItem, FetchRaw
from buzon.mime import Envelope
from buzon.server import fetchenvelope
from buzon.storage.api import AppendRequest, Uid
from tests.imap.fetchitems import general_item
from tests.server.harness import (
    LineClient,
    ServerThread,
    answer,
    selected,
    server_settings,
)

_NO_DATE = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)  # not among the items sampled
BODIES = [
    b"From: Ann <ann@example.org>\r\nTo: bob@example.org\r\nSubject: plain\r\n"
    b"Date: Mon, 7 Feb 1994 21:52:25 -0800\r\nMessage-ID: <1@example.org>\r\n\r\nx\r\n",
    "From: Jürgen <j@example.org>\r\nSubject: Grüße aus Köln\r\n\r\nutf-8 header\r\n".encode(),
    b"From: x@example.org\r\nSubject: caf\xe9 latin-1\r\n\r\nnot utf-8\r\n",
    b"From: x@example.org\r\nSubject: " + b"long " * 300 + b"\r\n\r\nlong\r\n",
    b'From: "Q \\"u\\" \\\\ote" <q@example.org>\r\nSubject: a "quoted" \\ one\r\n\r\nq\r\n',
    b"From: x@example.org\r\nTo: friends: a@example.org, b@example.org;, c@example.org\r\n"
    b"Cc: undisclosed-recipients:;\r\nIn-Reply-To: <0@example.org>\r\n\r\ngroups\r\n",
    b"\r\nno headers at all\r\n",
    b"Subject: =?utf-8?q?encoded_=E2=82=AC?=\r\nReply-To: r@example.org\r\n\r\nmime\r\n",
]
MESSAGES = len(BODIES) * 3  # each body three times: contents are shared


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    with ServerThread(server_settings(tmp_path / "data")) as srv:
        flags = [frozenset(), frozenset({"\\Seen"}), frozenset({"$Work", "\\Flagged"})]
        srv.append(
            [AppendRequest(BODIES[i % len(BODIES)], flags[i % len(flags)]) for i in range(MESSAGES)]
        )
        yield srv


def _login(srv: ServerThread, *, utf8: bool = False, command: str = "SELECT") -> LineClient:
    return selected(srv, command=command, before="e ENABLE UTF8=ACCEPT\r\n" if utf8 else "")


def _general(client: LineClient, command: str, monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    with monkeypatch.context() as m:
        m.setattr(fetchenvelope, "envelope_items", lambda conn, items: None)
        return answer(client, command)


def _kept(srv: ServerThread) -> dict[Uid, bytes | Envelope]:
    async def read() -> dict[Uid, bytes | Envelope]:
        assert srv.store is not None
        inbox = await (await srv.store.open_account("alice")).open_mailbox("INBOX")
        return await inbox.envelopes([Uid(u) for u in range(1, MESSAGES + 1)])

    return srv.call(read)


def _all_kept(srv: ServerThread) -> dict[Uid, bytes | Envelope]:
    """`_kept` once every rendering is kept (the writes run after the answers)."""
    deadline = time.monotonic() + 10
    while True:
        kept = _kept(srv)
        if all(isinstance(v, bytes) for v in kept.values()) or time.monotonic() > deadline:
            return kept
        time.sleep(0.02)


COMMANDS = [
    "FETCH 1:* (ENVELOPE)",
    "UID FETCH 1:* (ENVELOPE)",
    "FETCH 1:* (UID FLAGS ENVELOPE RFC822.SIZE INTERNALDATE)",
    "FETCH 2,5:7,20:* (ENVELOPE FLAGS ENVELOPE)",
    "UID FETCH 1:* (FLAGS ENVELOPE) (CHANGEDSINCE 1)",
    "FETCH 3 (MODSEQ ENVELOPE)",
]


@pytest.mark.parametrize("utf8", [False, True])
def test_same_answer_as_the_general_path_before_and_after_keeping(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch, utf8: bool
) -> None:
    client = _login(server, utf8=utf8, command="EXAMINE")
    assert not any(isinstance(v, bytes) for v in _kept(server).values())
    general = {command: _general(client, command, monkeypatch) for command in COMMANDS}
    assert not any(isinstance(v, bytes) for v in _kept(server).values())
    for command in COMMANDS:
        first = answer(client, command)  # renders and keeps (read-only: a cache write)
        again = answer(client, command)  # from the kept renderings
        assert first == general[command], command
        assert again == general[command], command
    kept = _all_kept(server)
    assert len(kept) == MESSAGES
    assert all(isinstance(v, bytes) for v in kept.values())
    lines = general["FETCH 1:* (ENVELOPE)"]
    assert len([line for line in lines if b" FETCH (" in line]) == MESSAGES
    assert lines[-1].startswith(b"t OK")
    # The UTF-8 header is a quoted string with UTF-8, a literal without.
    utf8_subject = '"Grüße aus Köln"'.encode()
    assert any(utf8_subject in line for line in lines) == utf8
    client.close()


def test_renderings_kept_without_utf8_serve_a_utf8_session(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = _login(server)
    answer(plain, "FETCH 1:* (ENVELOPE)")  # keeps the renderings of a non-UTF-8 session
    assert all(isinstance(v, bytes) for v in _all_kept(server).values())
    modern = _login(server, utf8=True)
    command = "FETCH 1:* (UID ENVELOPE)"
    assert answer(modern, command) == _general(modern, command, monkeypatch)
    assert answer(plain, command) == _general(plain, command, monkeypatch)
    assert answer(modern, command) != answer(plain, command)
    plain.close()
    modern.close()


def test_a_new_message_never_gets_an_old_rendering(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Renderings belong to contents, which never change: after EXPUNGE and a new
    APPEND, each message shows its own envelope."""
    client = _login(server)
    answer(client, "FETCH 1:* (ENVELOPE)")
    assert answer(client, "STORE 1:* +FLAGS.SILENT (\\Deleted)")[-1].startswith(b"t OK")
    assert answer(client, "EXPUNGE")[-1].startswith(b"t OK")
    new = b"From: new@example.org\r\nSubject: fresh\r\n\r\nnew\r\n"
    client.send(b"a APPEND INBOX {%d+}\r\n%s\r\n" % (len(new), new))
    while not client.line().startswith(b"a OK"):
        pass
    # The first body again: the same bytes, whether its content row went or not.
    client.send(b"b APPEND INBOX {%d+}\r\n%s\r\n" % (len(BODIES[0]), BODIES[0]))
    while not client.line().startswith(b"b OK"):
        pass
    lines = answer(client, "FETCH 1:* (ENVELOPE)")
    assert lines == _general(client, "FETCH 1:* (ENVELOPE)", monkeypatch)
    assert b'"fresh"' in lines[0]
    assert b'"plain"' in lines[1]
    assert answer(client, "FETCH 1:* (ENVELOPE)") == lines
    client.close()


def test_expunged_elsewhere_not_yet_announced(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RFC 2180 §4.1.2: left out, and the command ends NO [EXPUNGEISSUED]."""
    client = _login(server)
    other = _login(server)
    assert answer(other, "UID STORE 2 +FLAGS.SILENT (\\Deleted)")[-1].startswith(b"t OK")
    assert answer(other, "UID EXPUNGE 2")[-1].startswith(b"t OK")
    lines = answer(client, "FETCH 1:3 (UID ENVELOPE)")
    assert lines == _general(client, "FETCH 1:3 (UID ENVELOPE)", monkeypatch)
    assert [line[:4] for line in lines if b" FETCH (" in line] == [b"* 1 ", b"* 3 "]
    assert lines[-1].startswith(b"t NO [EXPUNGEISSUED]")
    client.close()
    other.close()


@given(
    items=st.lists(
        st.sampled_from([FetchAtt.UID, FetchAtt.FLAGS, FetchAtt.MODSEQ, FetchAtt.ENVELOPE]),
        min_size=1,
        max_size=5,
    ),
    rows=st.lists(
        st.tuples(
            st.integers(1, 2**32 - 1),
            st.integers(1, 2**32 - 1),
            st.frozensets(st.sampled_from(["\\Seen", "\\Flagged", "$Work"])),
            st.integers(1, 2**63 - 1),
            st.sampled_from([b'(NIL "s" NIL NIL NIL NIL NIL NIL NIL NIL)', b"(NIL {1}\r\n% NIL)"]),
        ),
        max_size=4,
    ),
)
def test_lines_equal_the_general_encoder(
    items: list[FetchAtt], rows: list[tuple[int, int, frozenset[str], int, bytes]]
) -> None:
    def general(item: FetchAtt, row: tuple[int, int, frozenset[str], int, bytes]) -> FetchItem:
        msn, uid, flags, modseq, env = row
        if item is FetchAtt.ENVELOPE:
            return FetchRaw("ENVELOPE", env)
        return general_item(item, (msn, uid, flags, modseq, 0, _NO_DATE))

    expected = b"".join(
        encode(FetchData(row[0], tuple(general(i, row) for i in items))) for row in rows
    )
    rendered = fetchenvelope.EnvelopeLines(items).render(
        [(msn, uid, flag_list_bytes(fl), ms, None, None, env) for msn, uid, fl, ms, env in rows]
    )
    assert rendered == expected
