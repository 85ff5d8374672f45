"""Parser table for the second group: SORT, THREAD, ESEARCH, QUOTA, ACL, METADATA, ..."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.imap.test_reader_helpers import assert_reads, run

from buzon.imap import commands as c
from buzon.imap import commands_ext as x
from buzon.imap.commands_values import STAR, FetchAtt, SequenceSet
from buzon.imap.reader import BadCommand, Event
from buzon.imap.searchkeys import (
    All,
    And,
    DateField,
    DateKey,
    DateOp,
    FlagKey,
    HeaderKey,
    UidKey,
)

CASES: list[tuple[bytes, Event]] = [
    (
        b"a1 SORT (REVERSE ARRIVAL subject) UTF-8 ALL\r\n",
        x.Sort(
            "a1",
            (x.SortCriterion(x.SortKey.ARRIVAL, True), x.SortCriterion(x.SortKey.SUBJECT)),
            "UTF-8",
            All(),
        ),
    ),
    (
        b"a1 UID SORT RETURN (MIN COUNT) (DISPLAYFROM) US-ASCII SEEN FROM x\r\n",
        x.Sort(
            "a1",
            (x.SortCriterion(x.SortKey.DISPLAYFROM),),
            "UTF-8",
            And((FlagKey("\\Seen"), HeaderKey("FROM", "x"))),
            uid=True,
            returns=frozenset({c.SearchReturn.MIN, c.SearchReturn.COUNT}),
        ),
    ),
    (
        b"a1 THREAD references UTF-8 SINCE 1-Feb-1994\r\n",
        x.Thread(
            "a1",
            "REFERENCES",
            "UTF-8",
            DateKey(DateField.INTERNAL, DateOp.SINCE, dt.date(1994, 2, 1)),
        ),
    ),
    (
        b"a1 UID THREAD ORDEREDSUBJECT UTF-8 ALL\r\n",
        x.Thread("a1", "ORDEREDSUBJECT", "UTF-8", All(), uid=True),
    ),
    (
        b"a1 ESEARCH IN (mailboxes (INBOX Sent) subtree Lists) RETURN () UNSEEN\r\n",
        x.Esearch(
            "a1",
            FlagKey("\\Seen", False),
            (
                x.MailboxFilter("MAILBOXES", ("INBOX", "Sent")),
                x.MailboxFilter("SUBTREE", ("Lists",)),
            ),
            returns=frozenset({c.SearchReturn.ALL}),
        ),
    ),
    (b"a1 ESEARCH ALL\r\n", x.Esearch("a1", All())),
    (b'a1 GETQUOTA ""\r\n', x.GetQuota("a1", "")),
    (b"a1 GETQUOTAROOT inbox\r\n", x.GetQuotaRoot("a1", "INBOX")),
    (
        b'a1 SETQUOTA "" (storage 512 MESSAGE 1000)\r\n',
        x.SetQuota("a1", "", (("STORAGE", 512), ("MESSAGE", 1000))),
    ),
    (b"a1 SETQUOTA root ()\r\n", x.SetQuota("a1", "root", ())),
    (b"a1 SETACL INBOX bob +lrs\r\n", x.SetAcl("a1", "INBOX", "bob", "+lrs")),
    (b"a1 DELETEACL INBOX bob\r\n", x.DeleteAcl("a1", "INBOX", "bob")),
    (b"a1 GETACL INBOX\r\n", x.GetAcl("a1", "INBOX")),
    (b"a1 LISTRIGHTS INBOX bob\r\n", x.ListRights("a1", "INBOX", "bob")),
    (b"a1 MYRIGHTS INBOX\r\n", x.MyRights("a1", "INBOX")),
    (
        b'a1 GETMETADATA (MAXSIZE 1024 DEPTH infinity) "" (/shared/comment /private/x)\r\n',
        x.GetMetadata("a1", "", ("/shared/comment", "/private/x"), 1024, "infinity"),
    ),
    (
        b"a1 GETMETADATA INBOX /shared/comment\r\n",
        x.GetMetadata("a1", "INBOX", ("/shared/comment",)),
    ),
    (
        b'a1 SETMETADATA INBOX (/shared/comment "hi" /private/x NIL '
        b"/shared/b ~{2}\r\n\x00\x01)\r\n",
        x.SetMetadata(
            "a1",
            "INBOX",
            (("/shared/comment", b"hi"), ("/private/x", None), ("/shared/b", b"\x00\x01")),
        ),
    ),
    (b"a1 COMPRESS deflate\r\n", x.Compress("a1", "DEFLATE")),
    (b"a1 UNAUTHENTICATE\r\n", x.Unauthenticate("a1")),
    (
        b"a1 UID REPLACE 42 Drafts (\\Draft) {3+}\r\nabc\r\n",
        x.Replace("a1", 42, "Drafts", c.AppendMessage(b"abc", ("\\Draft",)), uid=True),
    ),
    (b"a1 NOTIFY NONE\r\n", x.Notify("a1", none=True)),
    (
        b"a1 NOTIFY SET STATUS (selected (MessageNew (UID FLAGS) MessageExpunge)) "
        b"(subtree (Lists Archive) NONE)\r\n",
        x.Notify(
            "a1",
            none=False,
            status=True,
            groups=(
                x.NotifyGroup(
                    x.MailboxFilter("SELECTED"),
                    (
                        x.NotifyEvent("MESSAGENEW", (FetchAtt.UID, FetchAtt.FLAGS)),
                        x.NotifyEvent("MESSAGEEXPUNGE"),
                    ),
                ),
                x.NotifyGroup(x.MailboxFilter("SUBTREE", ("Lists", "Archive")), ()),
            ),
        ),
    ),
    (
        b"a1 SEARCH RETURN (PARTIAL -1:-100 COUNT) UID 1:*\r\n",
        c.Search(
            "a1",
            UidKey(SequenceSet(((1, STAR),))),
            returns=frozenset({c.SearchReturn.PARTIAL, c.SearchReturn.COUNT}),
            partial=(-100, -1),
        ),
    ),
]


@pytest.mark.parametrize(("data", "expected"), CASES, ids=[repr(d[:40]) for d, _ in CASES])
def test_reads(data: bytes, expected: Event) -> None:
    assert_reads(data, [expected])


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"a1 SORT (FOO) UTF-8 ALL\r\n", "Unknown sort key 'FOO'"),
        (b"a1 SORT (DATE) ALL\r\n", "Unsupported charset ALL"),
        (b"a1 ESEARCH IN (nowhere) ALL\r\n", "Unknown mailbox filter 'NOWHERE'"),
        (b"a1 GETMETADATA (DEPTH 2) INBOX /x\r\n", "DEPTH must be 0, 1 or infinity"),
        (b"a1 NOTIFY SET\r\n", "Expected event groups after NOTIFY SET"),
        (b"a1 REPLACE 0 INBOX {1+}\r\nx\r\n", "Expected non-zero number"),
    ],
)
def test_errors(data: bytes, text: str) -> None:
    (ev, _eof) = run([data])
    assert isinstance(ev, BadCommand)
    assert ev.tag == "a1"
    assert ev.text.startswith(text), ev.text
