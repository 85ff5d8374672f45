"""Error table: each bad command gives one BadCommand (tag kept when readable) and
the reader goes on with the next command."""

from __future__ import annotations

import pytest
from tests.imap.test_reader_helpers import assert_reads, run

from buzon.imap.reader import BadCommand

ERRORS: list[tuple[bytes, str | None, str]] = [
    (b"a1\r\n", "a1", "Expected SP and command name after tag"),
    (b"+a NOOP\r\n", None, "Invalid tag"),
    (b"* NOOP\r\n", None, "Invalid tag"),
    (b"a1 FROB\r\n", "a1", "Unknown command"),
    (b"a1 UID FROB 1\r\n", "a1", "Unknown UID command 'FROB'"),
    (b"a1 NOOP extra\r\n", "a1", "Unexpected characters at end of command"),
    (b"a1  NOOP\r\n", "a1", "Expected keyword (command name)"),
    (b"a1 LOGIN alice\r\n", "a1", "Expected SP after user name"),
    (b'a1 LOGIN "alice secret\r\n', "a1", "Unterminated quoted string"),
    (b'a1 LOGIN "a\\lice" x\r\n', "a1", "Invalid escape in quoted string"),
    (b'a1 LOGIN "\xc3\xa9" x\r\n', "a1", "8-bit character in quoted string (use a literal)"),
    (b"a1 LOGIN {5}x\r\n", "a1", "Literal must be followed by CRLF"),
    (b"a1 LOGIN a {2}\r\n\xff\xfe\r\n", "a1", "Password is not valid UTF-8"),
    (b"a1 FETCH 0 FLAGS\r\n", "a1", "Invalid sequence set: 0 is not allowed"),
    (b"a1 FETCH 1:0 FLAGS\r\n", "a1", "Invalid sequence set: 0 is not allowed"),
    (b"a1 FETCH 4294967296 FLAGS\r\n", "a1", "Invalid sequence set: number too large"),
    (b"a1 FETCH x FLAGS\r\n", "a1", "Invalid sequence set: expected a number or '*'"),
    (b"a1 FETCH 1,FLAGS\r\n", "a1", "Invalid sequence set: expected a number or '*'"),
    (b"a1 FETCH 1 (FLAGS\r\n", "a1", "Expected SP between fetch attributes"),
    (b"a1 FETCH 1 FOO\r\n", "a1", "Invalid fetch attribute 'FOO'"),
    (b"a1 FETCH 1 BODY[4.MIMEX]\r\n", "a1", "Invalid section text 'MIMEX'"),
    (b"a1 FETCH 1 BODY[MIME]\r\n", "a1", "Invalid section text 'MIME'"),
    (b"a1 FETCH 1 BODY[0]\r\n", "a1", "Expected non-zero number in section part"),
    (b"a1 FETCH 1 BODY[]<1.0>\r\n", "a1", "Expected non-zero number in partial size"),
    (b"a1 FETCH 1 FLAGS (VANISHED)\r\n", "a1", "VANISHED requires UID FETCH with CHANGEDSINCE"),
    (b"a1 FETCH 1 FLAGS (FOO 1)\r\n", "a1", "Unknown or repeated FETCH modifier 'FOO'"),
    (b"a1 STORE 1 FLAGS.LOUD (\\Seen)\r\n", "a1", "Invalid STORE operation 'FLAGS.LOUD'"),
    (b"a1 STORE 1 +FLAGS (\\Seen \\)\r\n", "a1", "Expected atom after '\\' in flag"),
    (b"a1 SELECT &AOk\r\n", "a1", "Mailbox name is not valid modified UTF-7"),
    (b'a1 SELECT "\xc3\xa9"\r\n', "a1", "8-bit character in quoted string (use a literal)"),
    (b"a1 SELECT {2}\r\n\xc3\xa9\r\n", "a1", "Mailbox name contains 8-bit characters"),
    (b"a1 SELECT INBOX (FOO)\r\n", "a1", "Unknown or repeated SELECT parameter 'FOO'"),
    (b"a1 SELECT INBOX (QRESYNC (0 1))\r\n", "a1", "Expected non-zero number (QRESYNC"),
    (b"a1 CREATE x (USE (\\Bogus))\r\n", "a1", "Unknown special-use attribute \\Bogus"),
    (b"a1 STATUS INBOX (MESSAGES FOO)\r\n", "a1", "Unknown status item 'FOO'"),
    (b"a1 STATUS INBOX ()\r\n", "a1", "Expected keyword (status item)"),
    (b'a1 LIST (FOO) "" %\r\n', "a1", "Unknown LIST selection option 'FOO'"),
    (b'a1 LIST (RECURSIVEMATCH) "" %\r\n', "a1", "RECURSIVEMATCH requires another"),
    (b'a1 LIST "" % RETURN (FOO)\r\n', "a1", "Unknown LIST return option 'FOO'"),
    (b"a1 APPEND INBOX\r\n", "a1", "Expected SP after mailbox"),
    (b'a1 APPEND INBOX "31-Feb-2020 00:00:00 +0000" {1+}\r\nx\r\n', "a1", "Invalid date-time"),
    (b'a1 APPEND INBOX "1-Jan-2020" {1+}\r\nx\r\n', "a1", "Invalid date-time (expected"),
    (b'a1 APPEND INBOX "01-Foo-2020 00:00:00 +0000" {1+}\r\nx\r\n', "a1", "Invalid month"),
    (b"a1 APPEND INBOX (\\Seen)\r\n", "a1", "Expected SP after APPEND flags"),
    (b"a1 SEARCH\r\n", "a1", "Expected SP after SEARCH"),
    (b"a1 SEARCH FOO\r\n", "a1", "Unknown search key 'FOO'"),
    (b"a1 SEARCH SINCE 32-Jan-2020\r\n", "a1", "Invalid date"),
    (b"a1 SEARCH SINCE 1-Jan-20\r\n", "a1", "Invalid date (expected dd-Mon-yyyy)"),
    (b"a1 SEARCH (SEEN\r\n", "a1", "Expected ')' to end search key list"),
    (b"a1 SEARCH OR SEEN\r\n", "a1", "Expected SP between OR keys"),
    (b"a1 SEARCH CHARSET KOI9-X ALL\r\n", "a1", "Unsupported charset KOI9-X"),
    (b"a1 SEARCH RETURN (FOO) ALL\r\n", "a1", "Unknown search return option 'FOO'"),
    (b"a1 SEARCH " + b"NOT " * 40 + b"ALL\r\n", "a1", "Search keys nested too deeply"),
    (b"a1 SEARCH " + b"(" * 40 + b"ALL" + b")" * 40 + b"\r\n", "a1", "Search keys nested"),
    (b'a1 SEARCH MODSEQ "/flags/\\\\Seen" bogus 5\r\n', "a1", "Invalid MODSEQ entry type"),
    (b"a1 AUTHENTICATE PLAIN (x\r\n", "a1", "Expected atom (initial response)"),
    (b"a1 AUTHENTICATE PLAIN AGF\r\n", "a1", "Invalid base64 in SASL initial response"),
    (b"a1 ENABLE\r\n", "a1", "Expected SP and capability after ENABLE"),
    (b'a1 ID ("' + b"x" * 31 + b'" "v")\r\n', "a1", "ID field name longer than 30 octets"),
    (b"a1 UID EXPUNGE\r\n", "a1", "Expected SP after UID EXPUNGE"),
    (b"a1 FETCH 1 BODY[]\x00\r\n", "a1", "Unexpected characters at end of command"),
    (b"a1 COPY 1:2\r\n", "a1", "Expected SP after sequence set"),
]


@pytest.mark.parametrize(("data", "tag", "text"), ERRORS, ids=[repr(e[0][:40]) for e in ERRORS])
def test_bad_command(data: bytes, tag: str | None, text: str) -> None:
    events = [e for e in run([data]) if isinstance(e, BadCommand)]
    assert len(events) == 1
    assert events[0].tag == tag
    assert events[0].text.startswith(text), events[0].text
    assert_reads(data, events)


def test_badcharset_has_code() -> None:
    (ev, _eof) = run([b"a1 SEARCH CHARSET X-NOPE ALL\r\n"])
    assert ev == BadCommand("a1", "Unsupported charset X-NOPE", "BADCHARSET")


def test_useattr_has_code() -> None:
    (ev, _eof) = run([b"a1 CREATE x (USE (\\Nope))\r\n"])
    assert isinstance(ev, BadCommand)
    assert ev.code == "USEATTR"
