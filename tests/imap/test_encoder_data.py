"""Encoder tables for untagged data and FETCH, byte-exact, with imapclient as a second reader."""

from __future__ import annotations

import datetime as dt

import pytest
from imapclient import response_parser

from buzon.imap.encoder import encode
from buzon.imap.responses import (
    AclData,
    CapabilityData,
    ChildInfo,
    EnabledData,
    ESearchAll,
    ESearchCount,
    ESearchData,
    ESearchMax,
    ESearchMin,
    ESearchModSeq,
    ESearchPartial,
    ExistsData,
    ExpungeData,
    FetchBinarySize,
    FetchData,
    FetchEmailId,
    FetchFlags,
    FetchInternalDate,
    FetchModSeq,
    FetchPreview,
    FetchRaw,
    FetchSaveDate,
    FetchSection,
    FetchSize,
    FetchThreadId,
    FetchUid,
    FlagsData,
    IdData,
    ListData,
    ListRightsData,
    LsubData,
    MetadataData,
    MyRightsData,
    NamespaceData,
    OldName,
    QuotaData,
    QuotaRootData,
    RecentData,
    Response,
    SearchData,
    SortData,
    StatusData,
    ThreadData,
    ThreadNode,
    VanishedData,
    XlistData,
)
from buzon.imap.words import Capability, Flag, MailboxAttr, StatusItem

PDT = dt.timezone(-dt.timedelta(hours=7))
T = ThreadNode

DATA_CASES: list[tuple[Response, bytes]] = [
    (
        CapabilityData((Capability.IMAP4REV1, Capability.STARTTLS, Capability.AUTH_PLAIN)),
        b"* CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN\r\n",
    ),
    (EnabledData((Capability.CONDSTORE, Capability.QRESYNC)), b"* ENABLED CONDSTORE QRESYNC\r\n"),
    (EnabledData(()), b"* ENABLED\r\n"),
    (
        ListData((MailboxAttr.HAS_NO_CHILDREN,), "/", "INBOX"),
        b'* LIST (\\HasNoChildren) "/" INBOX\r\n',
    ),
    (ListData((), None, ""), b'* LIST () NIL ""\r\n'),
    (ListData((MailboxAttr.NOSELECT,), "\\", "a"), b'* LIST (\\Noselect) "\\\\" a\r\n'),
    (ListData((), '"', "a"), b'* LIST () "\\"" a\r\n'),
    (
        ListData((MailboxAttr.HAS_CHILDREN, MailboxAttr.SENT), ".", "Gesendete Objekte"),
        b'* LIST (\\HasChildren \\Sent) "." "Gesendete Objekte"\r\n',
    ),
    (
        ListData((MailboxAttr.NONEXISTENT,), "/", "Foo", (ChildInfo(),)),
        b'* LIST (\\NonExistent) "/" Foo ("CHILDINFO" ("SUBSCRIBED"))\r\n',
    ),
    (
        ListData((), "/", "NewMailbox", (OldName("Old Mailbox"),)),
        b'* LIST () "/" NewMailbox ("OLDNAME" ("Old Mailbox"))\r\n',
    ),
    (
        ListData(("\\X-Custom",), "/", "Entw\u00fcrfe"),
        b'* LIST (\\X-Custom) "/" Entw&APw-rfe\r\n',
    ),
    (LsubData((), "/", "#news.comp.mail.misc"), b'* LSUB () "/" #news.comp.mail.misc\r\n'),
    (
        XlistData((MailboxAttr.HAS_NO_CHILDREN, "\\Inbox"), "/", "INBOX"),
        b'* XLIST (\\HasNoChildren \\Inbox) "/" INBOX\r\n',
    ),
    (
        StatusData("blurdybloop", ((StatusItem.MESSAGES, 231), (StatusItem.UIDNEXT, 44292))),
        b"* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)\r\n",
    ),
    (
        StatusData(
            "My Box",
            (
                (StatusItem.APPENDLIMIT, None),
                (StatusItem.MAILBOXID, "F2212ea87"),
                (StatusItem.HIGHESTMODSEQ, 7011231777),
                (StatusItem.SIZE, 0),
            ),
        ),
        b'* STATUS "My Box" (APPENDLIMIT NIL MAILBOXID (F2212ea87) HIGHESTMODSEQ 7011231777'
        b" SIZE 0)\r\n",
    ),
    (StatusData("x", ()), b"* STATUS x ()\r\n"),
    (
        FlagsData((Flag.ANSWERED, Flag.FLAGGED, Flag.DELETED, Flag.SEEN, Flag.DRAFT)),
        b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n",
    ),
    (FlagsData(()), b"* FLAGS ()\r\n"),
    (
        FlagsData(("$Forwarded", "$MDNSent", "NonJunk")),
        b"* FLAGS ($Forwarded $MDNSent NonJunk)\r\n",
    ),
    (ExistsData(23), b"* 23 EXISTS\r\n"),
    (ExistsData(0), b"* 0 EXISTS\r\n"),
    (RecentData(5), b"* 5 RECENT\r\n"),
    (ExpungeData(44), b"* 44 EXPUNGE\r\n"),
    (VanishedData([405, 407, 408]), b"* VANISHED 405,407:408\r\n"),
    (VanishedData(range(300, 311), earlier=True), b"* VANISHED (EARLIER) 300:310\r\n"),
    (SearchData([2, 3, 6]), b"* SEARCH 2 3 6\r\n"),
    (SearchData([]), b"* SEARCH\r\n"),
    (SearchData([2, 5], modseq=917162500), b"* SEARCH 2 5 (MODSEQ 917162500)\r\n"),
    (SearchData([], modseq=917162500), b"* SEARCH\r\n"),
    (SortData([5, 3, 4]), b"* SORT 5 3 4\r\n"),
    (SortData([5], modseq=9), b"* SORT 5 (MODSEQ 9)\r\n"),
    (SortData([]), b"* SORT\r\n"),
    (
        ESearchData("A282", False, (ESearchMin(2), ESearchCount(3), ESearchAll([2, 10, 11]))),
        b'* ESEARCH (TAG "A282") MIN 2 COUNT 3 ALL 2,10:11\r\n',
    ),
    (
        ESearchData("a", True, (ESearchAll([1, 2, 3, 5]), ESearchModSeq(1236))),
        b'* ESEARCH (TAG "a") UID ALL 1:3,5 MODSEQ 1236\r\n',
    ),
    (
        ESearchData("a", True, (ESearchCount(0), ESearchAll([]))),
        b'* ESEARCH (TAG "a") UID COUNT 0\r\n',
    ),
    (ESearchData(None, False, ()), b"* ESEARCH\r\n"),
    (ESearchData("t", False, (ESearchMax(7),)), b'* ESEARCH (TAG "t") MAX 7\r\n'),
    (
        ESearchData("A04", True, (ESearchPartial(1, 100, [43, 44, 45, 50, 51]),)),
        b'* ESEARCH (TAG "A04") UID PARTIAL (1:100 43:45,50:51)\r\n',
    ),
    (
        ESearchData("A05", True, (ESearchPartial(-1, -100, []),)),
        b'* ESEARCH (TAG "A05") UID PARTIAL (-1:-100 NIL)\r\n',
    ),
    (
        ThreadData(
            (
                T(2),
                T(3, (T(6, (T(4, (T(23),)), T(44, (T(7, (T(96),)),)))),)),
            )
        ),
        b"* THREAD (2)(3 6 (4 23)(44 7 96))\r\n",
    ),
    (ThreadData((T(None, (T(3), T(5))),)), b"* THREAD ((3)(5))\r\n"),
    (ThreadData((T(None, (T(3, (T(4),)),)),)), b"* THREAD (3 4)\r\n"),
    (ThreadData((T(1, (T(2), T(3, (T(4), T(5))))),)), b"* THREAD (1 (2)(3 (4)(5)))\r\n"),
    (ThreadData(()), b"* THREAD\r\n"),
    (
        IdData((("name", "Buz\u00f3n"), ("version", "0.1"), ("vendor", None))),
        b'* ID ("name" {6}\r\nBuz\xc3\xb3n "version" "0.1" "vendor" NIL)\r\n',
    ),
    (IdData(None), b"* ID NIL\r\n"),
    (IdData(()), b"* ID NIL\r\n"),
    (
        NamespaceData((("", "/"),), None, (("Public Folders/", "/"),)),
        b'* NAMESPACE (("" "/")) NIL (("Public Folders/" "/"))\r\n',
    ),
    (
        NamespaceData((("", None),), (("~", "/"), ("#u/", "/")), ()),
        b'* NAMESPACE (("" NIL)) (("~" "/")("#u/" "/")) NIL\r\n',
    ),
    (
        QuotaData("", (("STORAGE", 10, 512), ("MESSAGE", 3, 1000))),
        b'* QUOTA "" (STORAGE 10 512 MESSAGE 3 1000)\r\n',
    ),
    (QuotaRootData("INBOX", ("",)), b'* QUOTAROOT INBOX ""\r\n'),
    (QuotaRootData("comp.mail.mime", ()), b"* QUOTAROOT comp.mail.mime\r\n"),
    (
        AclData("INBOX", (("Fred", "rwipsldexta"), ("-team lead", "r"))),
        b'* ACL INBOX Fred rwipsldexta "-team lead" r\r\n',
    ),
    (
        ListRightsData("archive/imap", "anne", "", ("l", "r", "s", "w", "i")),
        b'* LISTRIGHTS archive/imap anne "" l r s w i\r\n',
    ),
    (MyRightsData("INBOX", "rwiptsldaex"), b"* MYRIGHTS INBOX rwiptsldaex\r\n"),
    (
        MetadataData("", (("/shared/comment", b"Shared comment"),)),
        b'* METADATA "" (/shared/comment "Shared comment")\r\n',
    ),
    (
        MetadataData("INBOX", (("/private/comment", None), ("/private/blob", b"a\x00b"))),
        b"* METADATA INBOX (/private/comment NIL /private/blob ~{3}\r\na\x00b)\r\n",
    ),
]


@pytest.mark.parametrize(("response", "wire"), DATA_CASES)
def test_untagged_data(response: Response, wire: bytes) -> None:
    assert encode(response) == wire


FETCH_CASES: list[tuple[FetchData, bytes]] = [
    (
        FetchData(
            12,
            (
                FetchFlags((Flag.SEEN,)),
                FetchUid(4827313),
                FetchInternalDate(dt.datetime(1996, 7, 17, 2, 44, 25, tzinfo=PDT)),
                FetchSize(44827),
            ),
        ),
        b'* 12 FETCH (FLAGS (\\Seen) UID 4827313 INTERNALDATE "17-Jul-1996 02:44:25 -0700"'
        b" RFC822.SIZE 44827)\r\n",
    ),
    (
        FetchData(1, (FetchFlags(()), FetchModSeq(624140003))),
        b"* 1 FETCH (FLAGS () MODSEQ (624140003))\r\n",
    ),
    (
        FetchData(2, (FetchSection("BODY[HEADER.FIELDS (SUBJECT)]<0>", b"Subject: hi\r\n\r\n"),)),
        b"* 2 FETCH (BODY[HEADER.FIELDS (SUBJECT)]<0> {15}\r\nSubject: hi\r\n\r\n)\r\n",
    ),
    (FetchData(3, (FetchSection("BODY[1]", None),)), b"* 3 FETCH (BODY[1] NIL)\r\n"),
    (FetchData(3, (FetchSection("BODY[1]", b""),)), b"* 3 FETCH (BODY[1] {0}\r\n)\r\n"),
    (
        FetchData(4, (FetchSection("BINARY[1]", b"\x00\x01\xff", binary=True),)),
        b"* 4 FETCH (BINARY[1] ~{3}\r\n\x00\x01\xff)\r\n",
    ),
    (
        FetchData(4, (FetchSection("BINARY[1]", b"plain", binary=True),)),
        b"* 4 FETCH (BINARY[1] {5}\r\nplain)\r\n",
    ),
    (
        FetchData(4, (FetchSection("BODY[]", b"a\x00b"),)),
        b"* 4 FETCH (BODY[] {3}\r\na\x80b)\r\n",
    ),
    (
        FetchData(5, (FetchSection("RFC822.TEXT", b"x"), FetchUid(9))),
        b"* 5 FETCH (RFC822.TEXT {1}\r\nx UID 9)\r\n",
    ),
    (
        FetchData(6, (FetchBinarySize("1.2", 1234), FetchBinarySize("", 7))),
        b"* 6 FETCH (BINARY.SIZE[1.2] 1234 BINARY.SIZE[] 7)\r\n",
    ),
    (
        FetchData(7, (FetchEmailId("M6d99ac3275bb4e"), FetchThreadId("T64b478a75b7ea9"))),
        b"* 7 FETCH (EMAILID (M6d99ac3275bb4e) THREADID (T64b478a75b7ea9))\r\n",
    ),
    (FetchData(7, (FetchThreadId(None),)), b"* 7 FETCH (THREADID NIL)\r\n"),
    (
        FetchData(
            8,
            (
                FetchSaveDate(dt.datetime(2019, 4, 1, 9, 0, 0, tzinfo=dt.UTC)),
                FetchSaveDate(None),
            ),
        ),
        b'* 8 FETCH (SAVEDATE " 1-Apr-2019 09:00:00 +0000" SAVEDATE NIL)\r\n',
    ),
    (
        FetchData(9, (FetchPreview('Hello "you"'), FetchPreview(None))),
        b'* 9 FETCH (PREVIEW "Hello \\"you\\"" PREVIEW NIL)\r\n',
    ),
    (
        FetchData(9, (FetchPreview("Gr\u00fc\u00dfe"),)),
        b"* 9 FETCH (PREVIEW {7}\r\nGr\xc3\xbc\xc3\x9fe)\r\n",
    ),
    (
        FetchData(10, (FetchRaw("ENVELOPE", b'(NIL "s" NIL NIL NIL NIL NIL NIL NIL NIL)'),)),
        b'* 10 FETCH (ENVELOPE (NIL "s" NIL NIL NIL NIL NIL NIL NIL NIL))\r\n',
    ),
    (FetchData(11, ()), b"* 11 FETCH ()\r\n"),
]


@pytest.mark.parametrize(("response", "wire"), FETCH_CASES)
def test_fetch(response: FetchData, wire: bytes) -> None:
    assert encode(response) == wire


def test_fetch_preview_utf8_mode_is_quoted() -> None:
    r = FetchData(9, (FetchPreview("Gr\u00fc\u00dfe"),))
    assert encode(r, utf8=True) == '* 9 FETCH (PREVIEW "Grüße")\r\n'.encode()


def test_mailbox_names_in_utf8_mode() -> None:
    r = ListData((), "/", "Entw\u00fcrfe/\u65e5\u672c")
    assert encode(r, utf8=True) == '* LIST () "/" "Entwürfe/日本"\r\n'.encode()
    s = StatusData("Entw\u00fcrfe", ((StatusItem.MESSAGES, 1),))
    assert encode(s) == b"* STATUS Entw&APw-rfe (MESSAGES 1)\r\n"
    n = NamespaceData((("\u00c4/", "/"),), None, None)
    assert encode(n) == b'* NAMESPACE (("&AMQ-/" "/")) NIL NIL\r\n'
    assert encode(n, utf8=True) == '* NAMESPACE (("Ä/" "/")) NIL NIL\r\n'.encode()


@pytest.mark.parametrize(
    "response",
    [
        FlagsData(("two words",)),
        FlagsData(("\\*",)),
        FetchFlags(("a(b",)),
        ListData(("NoBackslash",), "/", "x"),
        StatusData("x", ((StatusItem.MAILBOXID, 5),)),
        StatusData("x", ((StatusItem.MESSAGES, None),)),
        StatusData("x", ((StatusItem.MESSAGES, "7"),)),
        VanishedData([]),
        CapabilityData(("IMAP4rev1 IDLE",)),
        QuotaData("", (("STOR AGE", 1, 2),)),
        ListData((), "/", "x", (ChildInfo(("NOT ATOM",)),)),
    ],
)
def test_malformed_values_are_refused(response: Response | FetchFlags) -> None:
    wrapped = FetchData(1, (response,)) if isinstance(response, FetchFlags) else response
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        encode(wrapped)


@pytest.mark.parametrize(
    "build",
    [
        lambda: ListData((), "//", "x"),
        lambda: FetchSection("BODY[]\r\n", b""),
        lambda: FetchRaw("", b""),
        lambda: FetchRaw("ENVELOPE\u00e9", b"NIL"),
        lambda: FetchBinarySize("1]", 3),
        lambda: FetchEmailId(""),
        lambda: FetchThreadId("a b"),
    ],
)
def test_construction_checks(build: object) -> None:
    assert callable(build)
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        build()


# --- imapclient as an independent reader -----------------------------------------------------


def _imaplib_shape(wire: bytes) -> list[bytes | tuple[bytes, bytes]]:
    """Split a response the way imaplib hands it to imapclient: literals as (line, data)."""
    assert wire.endswith(b"\r\n")
    wire = wire[:-2]
    out: list[bytes | tuple[bytes, bytes]] = []
    while True:
        brace = wire.find(b"}\r\n")
        if brace < 0:
            out.append(wire)
            return out
        start = wire.rfind(b"{", 0, brace)
        size = int(wire[start + 1 : brace])
        head = wire[: brace + 1]
        data = wire[brace + 3 : brace + 3 + size]
        out.append((head, data))
        wire = wire[brace + 3 + size :]


def test_imapclient_reads_fetch() -> None:
    body = b'From: a@example.org\r\nSubject: "q" {3}\r\n\r\nbody'
    wire = encode(
        FetchData(
            12,
            (
                FetchUid(99),
                FetchFlags((Flag.SEEN, "$Forwarded")),
                FetchSection("BODY[]", body),
                FetchSize(len(body)),
                FetchModSeq(5),
                FetchInternalDate(dt.datetime(1996, 7, 17, 2, 44, 25, tzinfo=PDT)),
            ),
        )
    )
    assert wire.startswith(b"* 12 FETCH (")
    # imaplib drops "* " and the FETCH keyword before imapclient sees the line
    parsed = response_parser.parse_fetch_response(_imaplib_shape(b"12 " + wire[11:]))
    item = parsed[99]
    assert item[b"SEQ"] == 12
    assert item[b"BODY[]"] == body
    assert item[b"FLAGS"] == (b"\\Seen", b"$Forwarded")
    assert item[b"RFC822.SIZE"] == len(body)
    assert item[b"MODSEQ"] == (5,)
    internal = item[b"INTERNALDATE"]
    assert isinstance(internal, dt.datetime)
    # imapclient normalises to naive local time
    expected = dt.datetime(1996, 7, 17, 9, 44, 25, tzinfo=dt.UTC).astimezone()
    assert internal == expected.replace(tzinfo=None)


def test_imapclient_reads_list() -> None:
    wire = encode(ListData((MailboxAttr.HAS_CHILDREN,), "\\", 'a "b"\\c'), utf8=False)
    parsed = response_parser.parse_response(_imaplib_shape(wire[len(b"* LIST ") :]))
    assert parsed == ((b"\\HasChildren",), b"\\", b'a "b"\\c')
