"""Parser table for the core commands (RFC 3501 / RFC 9051 and their extensions).

Each case is read whole, byte by byte and followed by a second command.
"""

from __future__ import annotations

import datetime as dt

import pytest
from tests.imap.test_reader_helpers import assert_reads

from buzon.imap import commands as c
from buzon.imap.commands_values import (
    STAR,
    BodySection,
    FetchAtt,
    FetchBinary,
    FetchBinarySize,
    FetchBody,
    FetchPreview,
    ListReturn,
    ListSelect,
    SectionText,
    SequenceSet,
    StatusItem,
    StoreOperation,
)
from buzon.imap.reader import Event
from buzon.imap.searchkeys import All

S = SequenceSet.of
UTC1 = dt.timezone(dt.timedelta(hours=1))

CASES: list[tuple[bytes, Event]] = [
    (b"a1 CAPABILITY\r\n", c.Capability("a1")),
    (b"a1 capability\r\n", c.Capability("a1")),
    (b"A.b]c NOOP\r\n", c.Noop("A.b]c")),
    (b"a1 NOOP\n", c.Noop("a1")),  # bare LF accepted
    (b"a1 LOGOUT\r\n", c.Logout("a1")),
    (b"a1 STARTTLS\r\n", c.StartTLS("a1")),
    (b"a1 AUTHENTICATE plain\r\n", c.Authenticate("a1", "PLAIN")),
    (b"a1 AUTHENTICATE PLAIN =\r\n", c.Authenticate("a1", "PLAIN", b"")),
    (
        b"a1 AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\r\n",
        c.Authenticate("a1", "PLAIN", b"\x00alice\x00secret"),
    ),
    (b"a1 LOGIN alice secret\r\n", c.Login("a1", "alice", "secret")),
    (b'a1 LOGIN "al\\"ice" "p\\\\w"\r\n', c.Login("a1", 'al"ice', "p\\w")),
    (b"a1 LOGIN {5+}\r\nalice {6+}\r\nsecret\r\n", c.Login("a1", "alice", "secret")),
    (b"a1 LOGIN {5}\r\nalice {2}\r\n\xc3\xa9\r\n", c.Login("a1", "alice", "é")),
    (b"a1 LOGIN a] b\r\n", c.Login("a1", "a]", "b")),
    (b"a1 SELECT inbox\r\n", c.Select("a1", "INBOX")),
    (b'a1 SELECT "Entw&APw-rfe"\r\n', c.Select("a1", "Entwürfe")),
    (b"a1 SELECT INBOX (CONDSTORE)\r\n", c.Select("a1", "INBOX", condstore=True)),
    (
        b"a1 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))\r\n",
        c.Select(
            "a1",
            "INBOX",
            qresync=c.QResync(67890007, 20050715194045000, S(41, (43, 211), (214, 541))),
        ),
    ),
    (
        b"a1 EXAMINE INBOX (QRESYNC (1 2 1:* (1,5 10,50)))\r\n",
        c.Examine(
            "a1",
            "INBOX",
            qresync=c.QResync(1, 2, SequenceSet(((1, STAR),)), (S(1, 5), S(10, 50))),
        ),
    ),
    (
        b"a1 SELECT INBOX (QRESYNC (1 2 (1:2 3:4)))\r\n",
        c.Select("a1", "INBOX", qresync=c.QResync(1, 2, None, (S((1, 2)), S((3, 4))))),
    ),
    (b"a1 EXAMINE Archive\r\n", c.Examine("a1", "Archive")),
    (b"a1 CREATE foo/bar\r\n", c.Create("a1", "foo/bar")),
    (
        b"a1 CREATE Sent (USE (\\sent \\Archive))\r\n",
        c.Create("a1", "Sent", ("\\Sent", "\\Archive")),
    ),
    (b"a1 DELETE foo\r\n", c.Delete("a1", "foo")),
    (b'a1 RENAME foo "b a r"\r\n', c.Rename("a1", "foo", "b a r")),
    (b"a1 SUBSCRIBE foo\r\n", c.Subscribe("a1", "foo")),
    (b"a1 UNSUBSCRIBE foo\r\n", c.Unsubscribe("a1", "foo")),
    (b'a1 LIST "" *\r\n', c.List("a1", "", ("*",))),
    (b"a1 LIST ~/Mail/ %\r\n", c.List("a1", "~/Mail/", ("%",))),
    (b'a1 LIST "" inbox\r\n', c.List("a1", "", ("inbox",))),
    (b'a1 LIST "" foo]*\r\n', c.List("a1", "", ("foo]*",))),
    (
        b'a1 LIST (SUBSCRIBED RECURSIVEMATCH) "" ("%" "Sent*") RETURN (CHILDREN)\r\n',
        c.List(
            "a1",
            "",
            ("%", "Sent*"),
            frozenset({ListSelect.SUBSCRIBED, ListSelect.RECURSIVEMATCH}),
            frozenset({ListReturn.CHILDREN}),
            extended=True,
        ),
    ),
    (
        b'a1 LIST "" % RETURN (STATUS (MESSAGES UIDNEXT) SPECIAL-USE MYRIGHTS)\r\n',
        c.List(
            "a1",
            "",
            ("%",),
            return_options=frozenset(
                {ListReturn.STATUS, ListReturn.SPECIAL_USE, ListReturn.MYRIGHTS}
            ),
            status_items=(StatusItem.MESSAGES, StatusItem.UIDNEXT),
            extended=True,
        ),
    ),
    (b'a1 LIST () "" %\r\n', c.List("a1", "", ("%",), extended=True)),
    (b'a1 LSUB "" *\r\n', c.Lsub("a1", "", "*")),
    (b'a1 XLIST "" *\r\n', c.Xlist("a1", "", "*")),
    (b"a1 NAMESPACE\r\n", c.Namespace("a1")),
    (
        b"a1 STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE "
        b"HIGHESTMODSEQ APPENDLIMIT MAILBOXID DELETED-STORAGE)\r\n",
        c.Status("a1", "INBOX", tuple(StatusItem)),
    ),
    (
        b"a1 APPEND INBOX {5}\r\nhello\r\n",
        c.Append("a1", "INBOX", (c.AppendMessage(b"hello"),)),
    ),
    (
        b'a1 APPEND Drafts (\\Draft kw) "05-Jun-2021 10:11:12 +0100" {3+}\r\nabc\r\n',
        c.Append(
            "a1",
            "Drafts",
            (
                c.AppendMessage(
                    b"abc", ("\\Draft", "kw"), dt.datetime(2021, 6, 5, 10, 11, 12, tzinfo=UTC1)
                ),
            ),
        ),
    ),
    (
        b'a1 APPEND INBOX " 5-Jun-2021 10:11:12 -0000" ~{3}\r\na\x00b\r\n',
        c.Append(
            "a1",
            "INBOX",
            (
                c.AppendMessage(
                    b"a\x00b",
                    (),
                    dt.datetime(2021, 6, 5, 10, 11, 12, tzinfo=dt.UTC),
                    binary=True,
                ),
            ),
        ),
    ),
    (
        b"a1 APPEND INBOX (\\Seen) {1}\r\nA () {1}\r\nB {0}\r\n\r\n",
        c.Append(
            "a1",
            "INBOX",
            (
                c.AppendMessage(b"A", ("\\Seen",)),
                c.AppendMessage(b"B"),
                c.AppendMessage(b""),
            ),
        ),
    ),
    (
        b"a1 APPEND INBOX UTF8 (~{2}\r\nhi)\r\n",
        c.Append("a1", "INBOX", (c.AppendMessage(b"hi", binary=True, utf8=True),)),
    ),
    (
        b'a1 APPEND INBOX CATENATE (URL "/INBOX;UIDVALIDITY=1/;UID=2" TEXT {2}\r\nhi)\r\n',
        c.Append(
            "a1",
            "INBOX",
            (
                c.AppendMessage(
                    (c.CatenateUrl("/INBOX;UIDVALIDITY=1/;UID=2"), c.CatenateText(b"hi")),
                ),
            ),
        ),
    ),
    (b"a1 IDLE\r\n", c.Idle("a1")),
    (b"a1 CHECK\r\n", c.Check("a1")),
    (b"a1 CLOSE\r\n", c.Close("a1")),
    (b"a1 UNSELECT\r\n", c.Unselect("a1")),
    (b"a1 EXPUNGE\r\n", c.Expunge("a1")),
    (b"a1 UID EXPUNGE 3:5,7\r\n", c.Expunge("a1", True, S((3, 5), 7))),
    (
        b"a1 FETCH 1:* ALL\r\n",
        c.Fetch(
            "a1",
            SequenceSet(((1, STAR),)),
            (FetchAtt.FLAGS, FetchAtt.INTERNALDATE, FetchAtt.RFC822_SIZE, FetchAtt.ENVELOPE),
        ),
    ),
    (
        b"a1 FETCH 2 fast\r\n",
        c.Fetch("a1", S(2), (FetchAtt.FLAGS, FetchAtt.INTERNALDATE, FetchAtt.RFC822_SIZE)),
    ),
    (
        b"a1 FETCH 2 FULL\r\n",
        c.Fetch(
            "a1",
            S(2),
            (
                FetchAtt.FLAGS,
                FetchAtt.INTERNALDATE,
                FetchAtt.RFC822_SIZE,
                FetchAtt.ENVELOPE,
                FetchAtt.BODY,
            ),
        ),
    ),
    (b"a1 FETCH 5:3 uid\r\n", c.Fetch("a1", S((5, 3)), (FetchAtt.UID,))),
    (
        b"a1 FETCH $ (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY BODYSTRUCTURE UID RFC822 "
        b"RFC822.HEADER RFC822.TEXT MODSEQ EMAILID THREADID SAVEDATE PREVIEW)\r\n",
        c.Fetch(
            "a1",
            SequenceSet(saved=True),
            (
                FetchAtt.FLAGS,
                FetchAtt.INTERNALDATE,
                FetchAtt.RFC822_SIZE,
                FetchAtt.ENVELOPE,
                FetchAtt.BODY,
                FetchAtt.BODYSTRUCTURE,
                FetchAtt.UID,
                FetchAtt.RFC822,
                FetchAtt.RFC822_HEADER,
                FetchAtt.RFC822_TEXT,
                FetchAtt.MODSEQ,
                FetchAtt.EMAILID,
                FetchAtt.THREADID,
                FetchAtt.SAVEDATE,
                FetchPreview(),
            ),
        ),
    ),
    (
        b"a1 FETCH 1 (BODY[] BODY.PEEK[HEADER] BODY[TEXT]<0.100> BODY[1.2.MIME] "
        b'BODY[3.HEADER.FIELDS.NOT (X-A "x b")] BODY[1.2.3] PREVIEW (LAZY))\r\n',
        c.Fetch(
            "a1",
            S(1),
            (
                FetchBody(BodySection()),
                FetchBody(BodySection((), SectionText.HEADER), peek=True),
                FetchBody(BodySection((), SectionText.TEXT), partial=(0, 100)),
                FetchBody(BodySection((1, 2), SectionText.MIME)),
                FetchBody(BodySection((3,), SectionText.HEADER_FIELDS_NOT, ("X-A", "x b"))),
                FetchBody(BodySection((1, 2, 3))),
                FetchPreview(lazy=True),
            ),
        ),
    ),
    (
        b"a1 UID FETCH 1:* (BINARY[1] BINARY.PEEK[]<5.10> BINARY.SIZE[2.1]) "
        b"(CHANGEDSINCE 12345 VANISHED)\r\n",
        c.Fetch(
            "a1",
            SequenceSet(((1, STAR),)),
            (
                FetchBinary((1,)),
                FetchBinary((), peek=True, partial=(5, 10)),
                FetchBinarySize((2, 1)),
            ),
            uid=True,
            changedsince=12345,
            vanished=True,
        ),
    ),
    (
        b"a1 FETCH 1 (FLAGS) (CHANGEDSINCE 1)\r\n",
        c.Fetch("a1", S(1), (FetchAtt.FLAGS,), changedsince=1),
    ),
    (
        b"a1 STORE 1:3 +FLAGS (\\deleted \\SEEN $Junk)\r\n",
        c.Store("a1", S((1, 3)), StoreOperation.ADD, ("\\Deleted", "\\Seen", "$Junk")),
    ),
    (
        b"a1 UID STORE 5 -FLAGS.SILENT \\Flagged\r\n",
        c.Store("a1", S(5), StoreOperation.REMOVE, ("\\Flagged",), uid=True, silent=True),
    ),
    (
        b"a1 STORE * (UNCHANGEDSINCE 320162338) FLAGS.SILENT ()\r\n",
        c.Store(
            "a1",
            SequenceSet(((STAR, STAR),)),
            StoreOperation.REPLACE,
            (),
            silent=True,
            unchangedsince=320162338,
        ),
    ),
    (b"a1 COPY 1:2 Trash\r\n", c.Copy("a1", S((1, 2)), "Trash")),
    (b"a1 UID COPY 1 Trash\r\n", c.Copy("a1", S(1), "Trash", uid=True)),
    (b"a1 MOVE 1 Junk\r\n", c.Move("a1", S(1), "Junk")),
    (b"a1 uid move 1 Junk\r\n", c.Move("a1", S(1), "Junk", uid=True)),
    (b"a1 ENABLE condstore UTF8=ACCEPT\r\n", c.Enable("a1", ("CONDSTORE", "UTF8=ACCEPT"))),
    (b"a1 ID NIL\r\n", c.Id("a1", None)),
    (
        b'a1 ID ("name" "sodr" "version" NIL)\r\n',
        c.Id("a1", (("name", "sodr"), ("version", None))),
    ),
    (b"a1 SEARCH ALL\r\n", c.Search("a1", All())),
]


@pytest.mark.parametrize(("data", "expected"), CASES, ids=[repr(d[:40]) for d, _ in CASES])
def test_reads(data: bytes, expected: Event) -> None:
    assert_reads(data, [expected])


def test_utf8_mailbox_names() -> None:
    assert_reads(b'a1 SELECT "Entw\xc3\xbcrfe"\r\n', [c.Select("a1", "Entwürfe")], utf8=True)
    # In UTF8=ACCEPT mode "&" is an ordinary character (RFC 6855 §3).
    assert_reads(b"a1 SELECT a&AOk-\r\n", [c.Select("a1", "a&AOk-")], utf8=True)
