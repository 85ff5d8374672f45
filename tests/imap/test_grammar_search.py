"""SEARCH: every key of RFC 9051 §6.4.4 / RFC 3501 and the extension keys."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.imap.test_reader_helpers import assert_reads

from buzon.imap import commands as c
from buzon.imap import searchkeys as k
from buzon.imap.commands_values import STAR, SequenceSet
from buzon.imap.reader import Event
from buzon.imap.searchkeys import (
    AgeKey,
    All,
    And,
    DateField,
    DateKey,
    DateOp,
    EmailIdKey,
    FlagKey,
    HeaderKey,
    ModSeqEntryType,
    ModSeqKey,
    Not,
    Or,
    SaveDateSupported,
    SearchKey,
    SequenceKey,
    SizeKey,
    TextKey,
    TextScope,
    ThreadIdKey,
    UidKey,
)

D = dt.date(2020, 3, 4)
KEYS: list[tuple[bytes, SearchKey]] = [
    (b"ALL", All()),
    (b"ANSWERED", FlagKey("\\Answered")),
    (b"BCC x", HeaderKey("BCC", "x")),
    (b"BEFORE 4-Mar-2020", DateKey(DateField.INTERNAL, DateOp.BEFORE, D)),
    (b'BODY "a b"', TextKey(TextScope.BODY, "a b")),
    (b"CC {3+}\r\nc d", HeaderKey("CC", "c d")),
    (b"DELETED", FlagKey("\\Deleted")),
    (b"DRAFT", FlagKey("\\Draft")),
    (b"FLAGGED", FlagKey("\\Flagged")),
    (b"FROM alice", HeaderKey("FROM", "alice")),
    (b"HEADER X-Spam yes", HeaderKey("X-Spam", "yes")),
    (b'HEADER List-Id ""', HeaderKey("List-Id", "")),
    (b"KEYWORD $Junk", FlagKey("$Junk")),
    (b"LARGER 1000", SizeKey(True, 1000)),
    (b"NEW", And((FlagKey("\\Recent"), FlagKey("\\Seen", False)))),
    (b"NOT SEEN", Not(FlagKey("\\Seen"))),
    (b"OLD", FlagKey("\\Recent", False)),
    (b'ON "04-Mar-2020"', DateKey(DateField.INTERNAL, DateOp.ON, D)),
    (b"OR SEEN 1:3", Or(FlagKey("\\Seen"), SequenceKey(SequenceSet.of((1, 3))))),
    (b"RECENT", FlagKey("\\Recent")),
    (b"SEEN", FlagKey("\\Seen")),
    (b"SENTBEFORE 4-Mar-2020", DateKey(DateField.SENT, DateOp.BEFORE, D)),
    (b"SENTON 4-mar-2020", DateKey(DateField.SENT, DateOp.ON, D)),
    (b"SENTSINCE 4-Mar-2020", DateKey(DateField.SENT, DateOp.SINCE, D)),
    (b"SINCE 4-Mar-2020", DateKey(DateField.INTERNAL, DateOp.SINCE, D)),
    (b"SMALLER 5", SizeKey(False, 5)),
    (b"SUBJECT hi", HeaderKey("SUBJECT", "hi")),
    (b"TEXT {2}\r\nhi", TextKey(TextScope.TEXT, "hi")),
    (b"TO bob", HeaderKey("TO", "bob")),
    (b"UID 1:*", UidKey(SequenceSet(((1, STAR),)))),
    (b"UID $", UidKey(SequenceSet(saved=True))),
    (b"UNANSWERED", FlagKey("\\Answered", False)),
    (b"UNDELETED", FlagKey("\\Deleted", False)),
    (b"UNDRAFT", FlagKey("\\Draft", False)),
    (b"UNFLAGGED", FlagKey("\\Flagged", False)),
    (b"UNKEYWORD foo", FlagKey("foo", False)),
    (b"UNSEEN", FlagKey("\\Seen", False)),
    (b"2,4:*", SequenceKey(SequenceSet(((2, 2), (4, STAR))))),
    (b"$", SequenceKey(SequenceSet(saved=True))),
    (b"(SEEN)", FlagKey("\\Seen")),
    (b"(SEEN FLAGGED)", And((FlagKey("\\Seen"), FlagKey("\\Flagged")))),
    (b"MODSEQ 620162338", ModSeqKey(620162338)),
    (
        b'MODSEQ "/flags/\\\\draft" all 620162338',
        ModSeqKey(620162338, "/flags/\\draft", ModSeqEntryType.ALL),
    ),
    (b"OLDER 3600", AgeKey(True, 3600)),
    (b"YOUNGER 60", AgeKey(False, 60)),
    (b"SAVEDBEFORE 4-Mar-2020", DateKey(DateField.SAVED, DateOp.BEFORE, D)),
    (b"SAVEDON 4-Mar-2020", DateKey(DateField.SAVED, DateOp.ON, D)),
    (b"SAVEDSINCE 4-Mar-2020", DateKey(DateField.SAVED, DateOp.SINCE, D)),
    (b"SAVEDATESUPPORTED", SaveDateSupported()),
    (b"EMAILID M6d99ac3275bb4e", EmailIdKey("M6d99ac3275bb4e")),
    (b"THREADID T64b478a75b7ea9bd", ThreadIdKey("T64b478a75b7ea9bd")),
]


@pytest.mark.parametrize(("wire", "key"), KEYS, ids=[k[0].decode("ascii", "replace") for k in KEYS])
def test_search_key(wire: bytes, key: SearchKey) -> None:
    assert_reads(b"a1 SEARCH " + wire + b"\r\n", [c.Search("a1", key)])
    name, sep, rest = wire.partition(b" ")
    combined = b"a1 UID SEARCH " + name.lower() + sep + rest + b" ALL\r\n"
    assert_reads(combined, [c.Search("a1", And((key, All())), uid=True)])


CASES: list[tuple[bytes, Event]] = [
    (
        b"a1 SEARCH CHARSET utf-8 SUBJECT {5}\r\n\xc3\xa9t\xc3\xa9 SEEN\r\n",
        c.Search("a1", And((HeaderKey("SUBJECT", "été"), FlagKey("\\Seen"))), charset="UTF-8"),
    ),
    (
        b"a1 SEARCH CHARSET ISO-8859-1 BODY {1}\r\n\xe9\r\n",
        c.Search("a1", TextKey(TextScope.BODY, "é"), charset="ISO-8859-1"),
    ),
    (
        b"a1 UID SEARCH RETURN (MIN MAX ALL COUNT SAVE) UNSEEN\r\n",
        c.Search(
            "a1",
            FlagKey("\\Seen", False),
            uid=True,
            returns=frozenset(
                {
                    c.SearchReturn.MIN,
                    c.SearchReturn.MAX,
                    c.SearchReturn.ALL,
                    c.SearchReturn.COUNT,
                    c.SearchReturn.SAVE,
                }
            ),
        ),
    ),
    (
        b"a1 SEARCH RETURN () ALL\r\n",
        c.Search("a1", All(), returns=frozenset({c.SearchReturn.ALL})),
    ),
    (
        b"a1 SEARCH RETURN (PARTIAL 1:500) ALL\r\n",
        c.Search("a1", All(), returns=frozenset({c.SearchReturn.PARTIAL}), partial=(1, 500)),
    ),
    (
        b"a1 SEARCH NOT (OR FROM a (TO b)) UID 5\r\n",
        c.Search(
            "a1",
            And(
                (
                    Not(Or(HeaderKey("FROM", "a"), HeaderKey("TO", "b"))),
                    UidKey(SequenceSet.of(5)),
                )
            ),
        ),
    ),
]


@pytest.mark.parametrize(("data", "expected"), CASES, ids=[repr(d[:40]) for d, _ in CASES])
def test_search_command(data: bytes, expected: Event) -> None:
    assert_reads(data, [expected])


def test_leaves_walks_not_or_and_in_order() -> None:
    a, b, c, d = (k.SizeKey(larger=True, size=n) for n in range(4))
    tree = k.And((a, k.Or(k.Not(b), k.And((c,))), k.Not(k.Not(d))))
    assert list(k.leaves(tree)) == [a, b, c, d]
    assert list(k.leaves(a)) == [a]
