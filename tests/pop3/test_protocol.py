"""The sans-I/O POP3 reader: tables fed whole, byte by byte and with trailing data."""

from __future__ import annotations

import pytest

from buzon.pop3.protocol import (
    STATES,
    Auth,
    BadLine,
    Capa,
    CommandReader,
    Dele,
    Eof,
    Event,
    Keyword,
    List,
    NeedData,
    Noop,
    Pass,
    Quit,
    RawLine,
    Retr,
    Rset,
    Stat,
    State,
    Stls,
    Top,
    Uidl,
    User,
)

CASES: list[tuple[bytes, Event]] = [
    (b"USER alice\r\n", User("alice")),
    (b"user alice@example.org\r\n", User("alice@example.org")),
    (b"PASS secret\r\n", Pass("secret")),
    (b"PASS two words \r\n", Pass("two words ")),
    (b"PASS\r\n", BadLine("PASS needs a password")),
    (b"USER\r\n", BadLine("USER needs exactly one name")),
    (b"USER a b\r\n", BadLine("USER needs exactly one name")),
    (b"AUTH\r\n", Auth(None)),
    (b"AUTH plain\r\n", Auth("PLAIN")),
    (b"AUTH PLAIN =\r\n", Auth("PLAIN", b"")),
    (b"AUTH PLAIN AGEAYg==\r\n", Auth("PLAIN", b"\x00a\x00b")),
    (b"AUTH PLAIN AGEAYg\r\n", BadLine("Invalid base64 in the initial response")),
    (b"AUTH PLAIN x y\r\n", BadLine("AUTH takes a mechanism and an optional initial response")),
    (b"STLS\r\n", Stls()),
    (b"CAPA\r\n", Capa()),
    (b"QUIT\r\n", Quit()),
    (b"quit\n", Quit()),
    (b"STAT\r\n", Stat()),
    (b"STAT \r\n", Stat()),
    (b"STAT 1\r\n", BadLine("STAT takes no arguments")),
    (b"LIST\r\n", List()),
    (b"LIST 3\r\n", List(3)),
    (b"LIST 1 2\r\n", BadLine("LIST takes at most one message number")),
    (b"LIST -1\r\n", BadLine("Invalid message number")),
    (b"UIDL\r\n", Uidl()),
    (b"UIDL 12\r\n", Uidl(12)),
    (b"RETR 1\r\n", Retr(1)),
    (b"RETR 1234567890\r\n", BadLine("Invalid message number")),
    (b"RETR \xd9\xa1\r\n", BadLine("Invalid message number")),  # Arabic-Indic digit one
    (b"TOP 1 0\r\n", Top(1, 0)),
    (b"TOP 1\r\n", BadLine("TOP needs a message number and a number of lines")),
    (b"DELE 7\r\n", Dele(7)),
    (b"RSET\r\n", Rset()),
    (b"NOOP\r\n", Noop()),
    (b"APOP alice c4c9334bac560ecc979e58001b3e22fb\r\n", BadLine("Unknown command")),
    (b"\r\n", BadLine("Empty command")),
    (b" NOOP\r\n", BadLine("Empty command")),
    (b"N0OP\r\n", BadLine("Unknown command")),
    (b"NOOP\x00\r\n", BadLine("NUL in command line")),
    (b"PASS \xff\r\n", BadLine("Command line is not UTF-8")),
]


def _events(reader: CommandReader) -> list[Event]:
    events: list[Event] = []
    while not isinstance(event := reader.next_event(), NeedData | Eof):
        events.append(event)
    return events


def _feed_bytewise(data: bytes, max_line: int = 8192) -> list[Event]:
    reader = CommandReader(max_line)
    events: list[Event] = []
    for i in range(len(data)):
        reader.receive_data(data[i : i + 1])
        events.extend(_events(reader))
    return events


@pytest.mark.parametrize(("data", "expected"), CASES, ids=[repr(c[0]) for c in CASES])
def test_whole(data: bytes, expected: Event) -> None:
    reader = CommandReader()
    reader.receive_data(data)
    assert reader.next_event() == expected
    assert reader.next_event() == NeedData()


@pytest.mark.parametrize(("data", "expected"), CASES, ids=[repr(c[0]) for c in CASES])
def test_byte_by_byte(data: bytes, expected: Event) -> None:
    assert _feed_bytewise(data) == [expected]


@pytest.mark.parametrize(("data", "expected"), CASES, ids=[repr(c[0]) for c in CASES])
def test_with_trailing_data(data: bytes, expected: Event) -> None:
    reader = CommandReader()
    reader.receive_data(data + b"NOOP\r\nLIS")
    assert _events(reader) == [expected, Noop()]
    reader.receive_data(b"T\r\n")
    assert _events(reader) == [List()]


def test_pipelined_commands_come_out_in_order() -> None:
    reader = CommandReader()
    reader.receive_data(b"STAT\r\nLIST 1\r\nUIDL\r\nQUIT\r\n")
    assert _events(reader) == [Stat(), List(1), Uidl(), Quit()]


@pytest.mark.parametrize("size", [10, 11, 12, 40])
def test_line_limit_counts_the_crlf(size: int) -> None:
    line = b"PASS " + b"x" * (size - 7) + b"\r\n"
    assert len(line) == size
    expected: Event = Pass("x" * (size - 7)) if size <= 11 else BadLine("Line too long")
    for events in (_feed_bytewise(line + b"NOOP\r\n", max_line=11),):
        assert events == [expected, Noop()]
    reader = CommandReader(11)
    reader.receive_data(line + b"NOOP\r\n")
    assert _events(reader) == [expected, Noop()]


def test_long_line_is_not_buffered() -> None:
    reader = CommandReader(100)
    reader.receive_data(b"PASS " + b"x" * 1000)
    assert _events(reader) == [BadLine("Line too long")]
    for _ in range(100):
        reader.receive_data(b"y" * 10000)
        assert _events(reader) == []
    assert len(reader._buffer) == 0
    reader.receive_data(b"yyy\r\nNOOP\r\n")
    assert _events(reader) == [Noop()]


def test_line_mode_gives_raw_lines() -> None:
    reader = CommandReader()
    reader.receive_data(b"AGFsaWNlAHNlY3JldA==\r\n*\r\nNOOP\r\n")
    reader.line_mode = True
    assert reader.next_event() == RawLine(b"AGFsaWNlAHNlY3JldA==")
    assert reader.next_event() == RawLine(b"*")
    reader.line_mode = False
    assert reader.next_event() == Noop()


def test_eof_drops_an_incomplete_line() -> None:
    reader = CommandReader()
    reader.receive_data(b"NOOP\r\nQUI")
    reader.receive_data(b"")
    assert reader.next_event() == Noop()
    assert reader.next_event() == Eof()
    reader.receive_data(b"T\r\n")  # nothing after the end counts
    assert reader.next_event() == Eof()


def test_discard_buffered_drops_injected_commands() -> None:
    """RFC 2595 §4: what arrived with STLS is not executed after the handshake."""
    reader = CommandReader()
    reader.receive_data(b"STLS\r\nUSER mallory\r\nPASS x\r\n")
    assert reader.next_event() == Stls()
    assert reader.discard_buffered() == len(b"USER mallory\r\nPASS x\r\n")
    assert reader.next_event() == NeedData()
    reader.receive_data(b"CAPA\r\n")
    assert reader.next_event() == Capa()


def test_discard_ends_skipping_a_long_line() -> None:
    reader = CommandReader(20)
    reader.receive_data(b"STLS\r\n" + b"x" * 50)
    assert _events(reader) == [Stls(), BadLine("Line too long")]
    reader.discard_buffered()
    reader.receive_data(b"CAPA\r\n")
    assert _events(reader) == [Capa()]


def test_passwords_are_not_in_reprs() -> None:
    assert "hunter2" not in repr(Pass("hunter2"))
    assert "hunter2" not in repr(Auth("PLAIN", b"\x00a\x00hunter2"))
    assert "hunter2" not in repr(RawLine(b"hunter2"))


# --- the state table, command by state ---------------------------------------------------

MATRIX: dict[Keyword, tuple[bool, bool, bool]] = {
    # keyword: (AUTHORIZATION, TRANSACTION, UPDATE)
    Keyword.USER: (True, False, False),
    Keyword.PASS: (True, False, False),
    Keyword.AUTH: (True, False, False),
    Keyword.STLS: (True, False, False),
    Keyword.CAPA: (True, True, False),
    Keyword.QUIT: (True, True, False),
    Keyword.STAT: (False, True, False),
    Keyword.LIST: (False, True, False),
    Keyword.UIDL: (False, True, False),
    Keyword.RETR: (False, True, False),
    Keyword.TOP: (False, True, False),
    Keyword.DELE: (False, True, False),
    Keyword.RSET: (False, True, False),
    Keyword.NOOP: (False, True, False),
}


def test_state_table_covers_every_keyword() -> None:
    assert set(STATES) == set(Keyword) == set(MATRIX)


@pytest.mark.parametrize("keyword", list(Keyword))
def test_command_by_state(keyword: Keyword) -> None:
    states = (State.AUTHORIZATION, State.TRANSACTION, State.UPDATE)
    assert tuple(s in STATES[keyword] for s in states) == MATRIX[keyword]
