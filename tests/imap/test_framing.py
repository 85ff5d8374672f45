"""Framing: line ends, empty lines, line mode, EOF, STARTTLS buffer drop."""

from __future__ import annotations

import pytest
from tests.imap.test_reader_helpers import assert_reads, bytewise, run

from buzon.imap import commands as c
from buzon.imap.framing import Frame, Framer, Literal, ReaderLimits, read_tag
from buzon.imap.reader import (
    BadCommand,
    CommandReader,
    Eof,
    NeedContinuation,
    NeedData,
    ProtocolViolation,
    RawLine,
)


def test_frame_keeps_literals_by_marker_offset() -> None:
    f = Framer(ReaderLimits())
    f.receive(b"a1 LOGIN {5+}\r\nalice {3+}\r\nbob\r\n")
    frame = f.next()
    assert frame == Frame(
        b"a1 LOGIN {5+} {3+}",
        {9: Literal(b"alice", False, 13), 14: Literal(b"bob", False, 18)},
    )


def test_empty_lines_between_commands_are_ignored() -> None:
    assert_reads(b"\r\n\r\na1 NOOP\r\n\n", [c.Noop("a1")])


def test_bare_cr_inside_line_is_an_error() -> None:
    assert_reads(b"a1 NOOP\rX\r\n", [BadCommand("a1", "Unexpected characters at end of command")])


@pytest.mark.parametrize(
    ("tag", "ok"),
    [(b"a", True), (b"A]1", True), (b"a+b", False), (b"a*", False), (b"a%", False)],
)
def test_tag_characters(tag: bytes, ok: bool) -> None:
    assert (read_tag(tag + b" NOOP") is not None) is ok


def test_line_mode_reads_raw_lines() -> None:
    r = CommandReader()
    r.receive_data(b"a1 IDLE\r\nDONE\r\n\r\na2 {5}\r\n")
    assert r.next_event() == c.Idle("a1")
    r.line_mode = True
    assert r.next_event() == RawLine(b"DONE")
    assert r.next_event() == RawLine(b"")
    assert r.next_event() == RawLine(b"a2 {5}")  # no literal processing in line mode
    r.line_mode = False
    assert r.next_event() == NeedData()


def test_line_mode_over_long_line() -> None:
    r = CommandReader(ReaderLimits(max_line=10))
    r.line_mode = True
    r.receive_data(b"a1 " + b"x" * 20 + b"\r\n")
    assert r.next_event() == BadCommand(None, "Command line too long")


def test_eof_mid_command_drops_it() -> None:
    assert run([b"a1 NOOP\r\na2 LOG"]) == [c.Noop("a1"), Eof()]
    assert run([b"a1 APPEND INBOX {5+}\r\nab"]) == [Eof()]
    assert run(bytewise(b"a1 NOOP")) == [Eof()]


def test_eof_is_sticky_and_more_data_is_a_violation() -> None:
    r = CommandReader()
    r.receive_data(b"")
    assert r.next_event() == Eof()
    assert r.next_event() == Eof()
    with pytest.raises(ProtocolViolation):
        r.receive_data(b"a1 NOOP\r\n")


def test_discard_buffered_drops_injected_commands() -> None:
    r = CommandReader()
    r.receive_data(b"a1 STARTTLS\r\na2 LOGIN evil pw\r\na3 NO")
    assert r.next_event() == c.StartTLS("a1")
    assert r.discard_buffered() == len(b"a2 LOGIN evil pw\r\na3 NO")
    assert r.next_event() == NeedData()
    r.receive_data(b"b1 NOOP\r\n")
    assert r.next_event() == c.Noop("b1")


def test_accept_without_pending_literal_is_a_bug() -> None:
    r = CommandReader()
    with pytest.raises(RuntimeError):
        r.accept_literal()
    with pytest.raises(RuntimeError):
        r.reject_literal()


def test_eof_while_literal_pending() -> None:
    r = CommandReader()
    r.receive_data(b"a1 APPEND INBOX {5}\r\n")
    assert r.next_event() == NeedContinuation("a1", "APPEND", 5)
    r.receive_data(b"")
    assert r.next_event() == Eof()
