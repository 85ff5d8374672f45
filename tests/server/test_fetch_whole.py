"""FETCH of whole messages (`server/fetchwhole.py`) answers exactly as the general path.

Each command runs twice on the same server state, with the path on and off, and the
bytes must be equal. The server runs on asyncio's loop and on uvloop (the loop of
`buzon serve`, whose transports write the pieces of a response with one writev). The
messages are the ones where answers could differ: inline and in files, larger than a
write, holding NUL (sent as 0x80, RFC 9051 §4.3), without a final CRLF; the commands
mix in flags and numbers before and after the body, partial ranges, CHANGEDSINCE,
read-only mailboxes, and messages another session expunged (RFC 2180 §4.1).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

try:
    import uvloop
except ImportError:  # the "fast" extra is not installed: asyncio's loop alone
    uvloop = None  # type: ignore[assignment]

from buzon.imap.commands_values import BodySection, FetchAtt, FetchBody
from buzon.imap.encoder import encode
from buzon.imap.fetchlines import date_bytes, flag_list_bytes
from buzon.imap.responses import (
    FetchData,
    FetchSection,
)
from buzon.imap.sections import apply_partial, response_name
from buzon.server import fetchwhole, output
from buzon.storage.api import AppendRequest
from tests.imap.fetchitems import general_item
from tests.server.harness import (
    PASSWORD,
    LineClient,
    ServerThread,
    answer,
    literals,
    selected,
    server_settings,
)

BODIES = [
    b"Subject: small\r\n\r\ninline\r\n",
    b"Subject: file\r\n\r\n" + b"0123456789abcdef\r\n" * 1200,
    b"Subject: nul\r\n\r\nbefore\x00after\x00\r\n",
    b"Subject: big\r\n\r\n" + b"a line of a large message\r\n" * 60_000,
    b"Subject: no final CRLF\r\n\r\nlast line",
    b"Subject: medium\r\n\r\n" + b"m" * 70_000 + b"\r\n",
]
FLAGS = [frozenset(), frozenset({"\\Seen"}), frozenset({"$Work", "\\Flagged"})]
MESSAGES = 12


LOOPS = [pytest.param(asyncio.new_event_loop, id="asyncio")]
if uvloop is not None:
    LOOPS.append(pytest.param(uvloop.new_event_loop, id="uvloop"))


@pytest.fixture(params=LOOPS)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerThread]:
    factory: Callable[[], asyncio.AbstractEventLoop] = request.param
    with ServerThread(server_settings(tmp_path / "data"), loop_factory=factory) as srv:
        srv.append(
            [AppendRequest(BODIES[i % len(BODIES)], FLAGS[i % len(FLAGS)]) for i in range(MESSAGES)]
        )
        yield srv


def _both(
    client: LineClient, command: str, monkeypatch: pytest.MonkeyPatch, *, taken: bool = True
) -> list[bytes]:
    """The answer with the path on (asserting whether it was `taken`) and off: equal."""
    calls: list[str] = []
    original = fetchwhole.fetch_whole

    async def counted(*args: object, **kwargs: object) -> bool:
        calls.append(command)
        return await original(*args, **kwargs)  # type: ignore[arg-type]

    with monkeypatch.context() as m:
        m.setattr(fetchwhole, "fetch_whole", counted)
        fast = answer(client, command)
    with monkeypatch.context() as m:
        m.setattr(fetchwhole, "whole_items", lambda conn, items: None)
        general = answer(client, command)
    assert fast == general
    assert bool(calls) == taken, command
    return fast


TAKEN = [
    "FETCH 1:* (BODY.PEEK[])",
    "UID FETCH 1:* (BODY.PEEK[])",
    "FETCH 2,5:7,9 (UID RFC822.SIZE FLAGS BODY.PEEK[] MODSEQ INTERNALDATE)",
    "FETCH 1:* (FLAGS BODY.PEEK[]<5.100>)",
    "FETCH 1:3 (BODY.PEEK[]<0.1> UID)",
    "FETCH 4 (BODY.PEEK[]<99999999.10>)",
    "UID FETCH 1:* (BODY.PEEK[]) (CHANGEDSINCE 3)",
]
NOT_TAKEN = [
    "FETCH 1:2 (BODY.PEEK[] BODY.PEEK[TEXT])",
    "FETCH 1 (BODY.PEEK[] ENVELOPE)",
    "FETCH 1:* (BODY.PEEK[TEXT])",
]


def test_same_answers_as_the_general_path(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = selected(server, timeout=30)
    for command in TAKEN:
        lines = _both(client, command, monkeypatch)
        assert lines[-1].startswith(b"t OK"), (command, lines[-1])
    for command in NOT_TAKEN:
        _both(client, command, monkeypatch, taken=False)
    client.close()


def _sent(i: int) -> bytes:
    """Message i as a literal carries it: NUL as 0x80 (RFC 9051 §4.3)."""
    return BODIES[i % len(BODIES)].replace(b"\x00", b"\x80")


def test_bodies_are_exact(server: ServerThread) -> None:
    client = selected(server, timeout=30)
    got, tagged = literals(client, b"FETCH 1:* (BODY.PEEK[])")
    assert tagged.startswith(b"t OK")
    assert got == {n: _sent(n - 1) for n in range(1, MESSAGES + 1)}
    got, _ = literals(client, b"FETCH 3,4 (BODY.PEEK[]<10.20>)")
    assert got == {3: _sent(2)[10:30], 4: _sent(3)[10:30]}
    client.close()


def test_bodies_over_tls(server: ServerThread) -> None:
    client = LineClient(server.imaps_port, timeout=30)
    client.wrap_tls(server.client_tls_context())
    client.line()
    client.send(f"l LOGIN alice {PASSWORD}\r\ns SELECT INBOX\r\n".encode())
    while not client.line().startswith(b"s OK"):
        pass
    got, tagged = literals(client, b"UID FETCH 1:* (BODY.PEEK[])")
    assert tagged.startswith(b"t OK")
    assert got == {n: _sent(n - 1) for n in range(1, MESSAGES + 1)}
    client.close()


def test_read_only_mailbox_takes_body_and_rfc822(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RFC 9051 §6.4.5: BODY[] and RFC822 set \\Seen, except in a read-only mailbox."""
    client = selected(server, command="EXAMINE", timeout=30)
    _both(client, "FETCH 1:* (RFC822 UID)", monkeypatch)
    _both(client, "FETCH 1:* (BODY[])", monkeypatch)
    assert b"\\Seen" not in answer(client, "FETCH 1 (FLAGS)")[0]
    client.close()


def test_setting_seen_stays_with_the_general_path(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = selected(server, timeout=30)
    calls: list[object] = []
    monkeypatch.setattr(fetchwhole, "fetch_whole", lambda *args: calls.append(args))
    lines = answer(client, "FETCH 1 (BODY[])")
    assert lines[0] == b"* 1 FETCH (BODY[] {%d}" % len(BODIES[0])
    assert lines[-3:-1] == [b"inline", b" FLAGS (\\Recent \\Seen))"]  # RFC 9051 §6.4.5
    assert lines[-1].startswith(b"t OK")
    assert b"\\Seen" in answer(client, "FETCH 1 (FLAGS)")[0]
    assert calls == []
    client.close()


def test_expunged_elsewhere_not_yet_announced(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RFC 2180 §4.1.2: left out, and the command ends NO [EXPUNGEISSUED]."""
    client = selected(server, timeout=30)
    other = selected(server)
    assert answer(other, "UID STORE 2 +FLAGS.SILENT (\\Deleted)")[-1].startswith(b"t OK")
    assert answer(other, "UID EXPUNGE 2")[-1].startswith(b"t OK")
    lines = _both(client, "FETCH 1:3 (UID BODY.PEEK[])", monkeypatch)
    assert [line[:4] for line in lines if b" FETCH (" in line] == [b"* 1 ", b"* 3 "]
    assert lines[-1].startswith(b"t NO [EXPUNGEISSUED]")
    client.close()
    other.close()


def test_uidonly_sessions_keep_the_general_path(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RFC 9586 §3.3: UIDFETCH responses, which only the general path writes."""
    client = selected(server, before="e ENABLE UIDONLY\r\n")
    lines = _both(client, "UID FETCH 1 (BODY.PEEK[])", monkeypatch, taken=False)
    assert lines[0] == b"* 1 UIDFETCH (BODY[] {%d}" % len(BODIES[0])
    client.close()


def test_large_messages_go_out_in_slices(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A message larger than a slice is written a slice at a time, waiting for each to
    drain (asyncio's transport would copy it whole); the bytes are the same."""
    monkeypatch.setattr(output, "_SLICE", 4096)
    largest: list[int] = []
    original = output.ResponseWriter._write_parts

    def recording(self: output.ResponseWriter, parts: Sequence[bytes | memoryview]) -> None:
        largest.append(max((len(part) for part in parts), default=0))
        original(self, parts)

    monkeypatch.setattr(output.ResponseWriter, "_write_parts", recording)
    client = selected(server, timeout=30)
    got, tagged = literals(client, b"FETCH 1:* (BODY.PEEK[])")
    assert tagged.startswith(b"t OK")
    assert got == {n: _sent(n - 1) for n in range(1, MESSAGES + 1)}
    assert max(largest) <= 4096
    assert len(largest) > len(BODIES[3]) // 4096  # the 1.6 MB message alone
    client.close()


_LINE_ITEMS = [
    FetchAtt.UID,
    FetchAtt.FLAGS,
    FetchAtt.MODSEQ,
    FetchAtt.RFC822_SIZE,
    FetchAtt.INTERNALDATE,
]
_WHEN = dt.datetime(2026, 11, 27, 23, 5, 9, tzinfo=dt.timezone(dt.timedelta(hours=-3)))


@given(
    before=st.lists(st.sampled_from(_LINE_ITEMS), max_size=3),
    after=st.lists(st.sampled_from(_LINE_ITEMS), max_size=3),
    rfc822=st.booleans(),
    partial=st.none() | st.tuples(st.integers(0, 40), st.integers(1, 40)),
    msn=st.integers(1, 2**32 - 1),
    uid=st.integers(1, 2**32 - 1),
    flags=st.frozensets(st.sampled_from(["\\Seen", "\\Flagged", "$Work"])),
    modseq=st.integers(1, 2**63 - 1),
    raw=st.binary(max_size=60),
)
def test_rendering_equals_the_general_encoder(
    *,
    before: list[FetchAtt],
    after: list[FetchAtt],
    rfc822: bool,
    partial: tuple[int, int] | None,
    msn: int,
    uid: int,
    flags: frozenset[str],
    modseq: int,
    raw: bytes,
) -> None:
    body: FetchBody | FetchAtt = (
        FetchAtt.RFC822 if rfc822 else FetchBody(BodySection(), peek=True, partial=partial)
    )
    size = len(raw)
    row = (msn, uid, flags, modseq, size, _WHEN)
    if isinstance(body, FetchBody):
        section = FetchSection(response_name(body), apply_partial(raw, partial))
    else:
        section = FetchSection("RFC822", raw)
    items = [general_item(i, row) for i in before] + [section]
    expected = encode(FetchData(msn, (*items, *(general_item(i, row) for i in after))))
    lines = fetchwhole.WholeLines(before, body, after, utf8=False)
    rendered = (msn, uid, flag_list_bytes(flags), modseq, size, date_bytes(_WHEN))
    assert b"".join(lines.render(rendered, raw)) == expected
