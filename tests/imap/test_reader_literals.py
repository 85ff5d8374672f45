"""Literal flows and limits: continuation, rejection, LITERAL+, TOOBIG, bounded memory."""

from __future__ import annotations

import pytest
from tests.imap.test_reader_helpers import assert_reads, bytewise, run

from buzon.imap import commands as c
from buzon.imap.reader import (
    BadCommand,
    CommandReader,
    Eof,
    NeedContinuation,
    NeedData,
    ReaderLimits,
)

SMALL = ReaderLimits(max_line=100, max_literal=50, max_nonsync_literal=20, max_command=80)


def test_sync_literal_waits_for_accept() -> None:
    r = CommandReader()
    r.receive_data(b"a1 LOGIN {5}\r\nalice bob\r\n")
    assert r.next_event() == NeedContinuation("a1", "LOGIN", 5)
    # Until the session decides, the same event is repeated.
    assert r.next_event() == NeedContinuation("a1", "LOGIN", 5)
    r.accept_literal()
    assert r.next_event() == c.Login("a1", "alice", "bob")
    assert r.next_event() == NeedData()


def test_reject_literal_then_next_command() -> None:
    r = CommandReader()
    r.receive_data(b"a1 APPEND INBOX {500}\r\n")
    assert r.next_event() == NeedContinuation("a1", "APPEND", 500)
    r.reject_literal()
    assert r.next_event() == NeedData()
    r.receive_data(b"a2 NOOP\r\n")
    assert r.next_event() == c.Noop("a2")


def test_reject_in_helper_flow() -> None:
    events = run(bytewise(b"a1 APPEND INBOX {5}\r\na2 NOOP\r\n"), accept=False)
    assert events == [NeedContinuation("a1", "APPEND", 5), c.Noop("a2"), Eof()]


def test_continuations_of_multiappend() -> None:
    data = b"a1 APPEND INBOX {1}\r\nA {2}\r\nBC\r\n"
    events = run([data])
    assert events == [
        NeedContinuation("a1", "APPEND", 1),
        NeedContinuation("a1", "APPEND", 2),
        c.Append("a1", "INBOX", (c.AppendMessage(b"A"), c.AppendMessage(b"BC"))),
        Eof(),
    ]
    assert run(bytewise(data)) == events


def test_uid_command_name_in_continuation() -> None:
    (ev, *_rest) = run([b"a1 UID SEARCH TEXT {3}\r\nabc\r\n"])
    assert ev == NeedContinuation("a1", "UID", 3)


def test_literal_plus_needs_no_continuation() -> None:
    events = run([b"a1 LOGIN {5+}\r\nalice {3+}\r\nbob\r\n"])
    assert events == [c.Login("a1", "alice", "bob"), Eof()]


def test_literal_data_looks_like_commands() -> None:
    data = b"a1 APPEND INBOX {14+}\r\na2 LOGOUT\r\n{3}\r\n"
    assert_reads(data, [c.Append("a1", "INBOX", (c.AppendMessage(b"a2 LOGOUT\r\n{3}"),))])


def test_literal_marker_inside_quotes_is_no_literal() -> None:
    (ev, _eof) = run([b'a1 LOGIN "x{5}\r\n'])
    assert ev == BadCommand("a1", "Unterminated quoted string")
    assert_reads(b'a1 LOGIN "x\\"{5}" y\r\n', [c.Login("a1", 'x"{5}', "y")])


def test_sync_literal_too_big_is_refused_at_once() -> None:
    r = CommandReader(SMALL)
    r.receive_data(b"a1 APPEND INBOX {51}\r\n")
    assert r.next_event() == BadCommand(
        "a1", "Literal of 51 octets is too big; the limit is 50 octets", "TOOBIG"
    )
    assert r.next_event() == NeedData()
    r.receive_data(b"a2 NOOP\r\n")
    assert r.next_event() == c.Noop("a2")


def test_sync_literal_over_command_total() -> None:
    data = b"a1 APPEND INBOX {50}\r\n" + b"x" * 50 + b" {31}\r\n"
    assert_reads(
        data,
        [BadCommand("a1", "Literal of 31 octets is too big; the limit is 30 octets", "TOOBIG")],
        limits=SMALL,
    )


def test_nonsync_literal_too_big_is_skipped() -> None:
    body = b"a2 LOGOUT\r\n" * 3  # 33 bytes, over the 20 of max_nonsync_literal
    data = b"a1 APPEND INBOX {33+}\r\n" + body + b" {2+}\r\nxy (\\Seen) foo\r\n"
    assert_reads(
        data,
        [BadCommand("a1", "Literal of 33 octets is too big; the limit is 20 octets", "TOOBIG")],
        limits=SMALL,
    )


def test_nonsync_then_sync_literal_in_skipped_command() -> None:
    """After a skipped literal, a sync literal ends the command: we never send "+"."""
    data = b"a1 APPEND INBOX {30+}\r\n" + b"y" * 30 + b" {5}\r\n"
    assert_reads(
        data,
        [BadCommand("a1", "Literal of 30 octets is too big; the limit is 20 octets", "TOOBIG")],
        limits=SMALL,
    )


def test_literal_limits_are_inclusive() -> None:
    data = b"a1 APPEND INBOX {20+}\r\n" + b"z" * 20 + b"\r\n"
    assert_reads(data, [c.Append("a1", "INBOX", (c.AppendMessage(b"z" * 20),))], limits=SMALL)


def test_unknown_command_with_literal_is_refused() -> None:
    r = CommandReader()
    r.receive_data(b"a1 FROB {5}\r\n")
    assert r.next_event() == BadCommand("a1", "Unknown command")
    r.receive_data(b"* {5}\r\n")
    assert r.next_event() == BadCommand(None, "Invalid tag")


@pytest.mark.parametrize("tail", [b"", b" {5+}\r\nabcde rest", b" {4}"])
def test_line_too_long(tail: bytes) -> None:
    data = b"a1 SEARCH " + b"X" * 200 + tail + b"\r\n"
    assert_reads(data, [BadCommand("a1", "Command line too long")], limits=SMALL)


def test_line_limit_counts_all_fragments() -> None:
    data = b"a1 LOGIN " + b"x" * 80 + b" {1+}\r\ny" + b" " * 20 + b"\r\n"
    assert_reads(data, [BadCommand("a1", "Command line too long")], limits=SMALL)


def test_line_at_limit_is_read() -> None:
    line = b"a1 LOGIN x " + b"y" * 89
    assert len(line) == 100
    assert_reads(line + b"\r\n", [c.Login("a1", "x", "y" * 89)], limits=SMALL)


def test_long_line_without_readable_tag() -> None:
    assert_reads(b"x" * 300 + b"\r\n", [BadCommand(None, "Command line too long")], limits=SMALL)


def test_over_long_line_memory_is_bounded() -> None:
    """A 10 MB line fed in 64 KiB chunks never makes the reader hold more than a limit."""
    limits = ReaderLimits(max_line=8192)
    r = CommandReader(limits)
    chunk = b"A" * 65536
    r.receive_data(b"a1 SEARCH TEXT ")
    peak = 0
    for _ in range(160):
        r.receive_data(chunk)
        assert r.next_event() == NeedData()
        peak = max(peak, r.buffered_bytes())
    assert peak <= limits.max_line + 64
    r.receive_data(b"\r\na2 NOOP\r\n")
    assert r.next_event() == BadCommand("a1", "Command line too long")
    assert r.next_event() == c.Noop("a2")


def test_skipped_literal_memory_is_bounded() -> None:
    r = CommandReader(ReaderLimits(max_nonsync_literal=4096))
    r.receive_data(b"a1 APPEND INBOX {10000000+}\r\n")
    for _ in range(153):
        r.receive_data(b"B" * 65536)
        assert r.next_event() == NeedData()
        assert r.buffered_bytes() == 0
    r.receive_data(b"B" * (10000000 - 153 * 65536) + b"\r\na2 NOOP\r\n")
    assert r.next_event() == BadCommand(
        "a1", "Literal of 10000000 octets is too big; the limit is 4096 octets", "TOOBIG"
    )
    assert r.next_event() == c.Noop("a2")


def test_literal_is_not_preallocated() -> None:
    r = CommandReader()
    r.receive_data(b"a1 APPEND INBOX {60000000+}\r\nabc")
    assert r.next_event() == NeedData()
    assert r.buffered_bytes() < 100
