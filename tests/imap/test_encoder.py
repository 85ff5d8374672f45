"""Encoder tables: status responses, response codes, string choice, dates and sequence sets."""

from __future__ import annotations

import datetime as dt

import pytest

from buzon.imap import encoder, responses
from buzon.imap.encoder import (
    compact,
    encode,
    encode_astring,
    encode_mailbox,
    encode_nstring,
    encode_string,
    format_datetime,
)
from buzon.imap.responses import (
    AppendUid,
    BadCharset,
    CapabilityCode,
    Code,
    CodeNumber,
    CodeText,
    Continuation,
    ContinuationData,
    CopyUid,
    InProgress,
    MailboxId,
    Modified,
    PermanentFlags,
    RespCode,
    Response,
    Tagged,
    UntaggedStatus,
)
from buzon.imap.words import Capability, Flag, ResponseCode, Status, appendlimit_capability


def test_public_names() -> None:
    assert set(encoder.__all__) == {
        "QUOTED_MAX",
        "Chunk",
        "compact",
        "encode",
        "encode_astring",
        "encode_chunks",
        "encode_mailbox",
        "encode_nstring",
        "encode_string",
        "flag_list",
        "format_datetime",
        "literal_data",
    }
    for name in responses.__all__:
        assert hasattr(responses, name), name


# --- status responses ------------------------------------------------------------------------

STATUS_CASES: list[tuple[Response, bytes]] = [
    (Tagged("a1", Status.OK, "LOGIN completed"), b"a1 OK LOGIN completed\r\n"),
    (Tagged("A.2", Status.NO, "no such mailbox"), b"A.2 NO no such mailbox\r\n"),
    (Tagged("x]y", Status.BAD, "syntax"), b"x]y BAD syntax\r\n"),
    (
        Tagged("a3", Status.NO, "Mailbox does not exist", Code(ResponseCode.TRYCREATE)),
        b"a3 NO [TRYCREATE] Mailbox does not exist\r\n",
    ),
    (Tagged("a4", Status.OK, ""), b"a4 OK completed\r\n"),
    (Tagged("a5", Status.NO, ""), b"a5 NO failed\r\n"),
    (Tagged("a6", Status.OK, "two\r\nlines\x00"), b"a6 OK two  lines \r\n"),
    (Tagged("a7", Status.OK, "caf\u00e9"), b"a7 OK caf?\r\n"),
    (Tagged("a8", Status.NO, "bad name {3}"), b"a8 NO bad name {3}.\r\n"),
    (Tagged("a9", Status.NO, "x{3+}"), b"a9 NO x{3+}.\r\n"),
    (Tagged("a0", Status.NO, "{3} at start"), b"a0 NO {3} at start\r\n"),
    (UntaggedStatus(Status.OK, "IMAP4rev2 ready"), b"* OK IMAP4rev2 ready\r\n"),
    (UntaggedStatus(Status.PREAUTH, "welcome"), b"* PREAUTH welcome\r\n"),
    (UntaggedStatus(Status.BYE, "Autologout"), b"* BYE Autologout\r\n"),
    (UntaggedStatus(Status.BYE, ""), b"* BYE closing connection\r\n"),
    (
        UntaggedStatus(Status.OK, "Predicted next UID", CodeNumber(ResponseCode.UIDNEXT, 4392)),
        b"* OK [UIDNEXT 4392] Predicted next UID\r\n",
    ),
    (
        UntaggedStatus(Status.NO, "", Code(ResponseCode.ALERT)),
        b"* NO [ALERT] failed\r\n",
    ),
    (Continuation("Ready for literal data"), b"+ Ready for literal data\r\n"),
    (Continuation(""), b"+ ready\r\n"),
    (Continuation("a\rb"), b"+ a b\r\n"),
    (Continuation("send {5}"), b"+ send {5}.\r\n"),
    (ContinuationData(b""), b"+ \r\n"),
    (ContinuationData(b"\x00user\x00pass"), b"+ AHVzZXIAcGFzcw==\r\n"),
]


@pytest.mark.parametrize(("response", "wire"), STATUS_CASES)
def test_status_responses(response: Response, wire: bytes) -> None:
    assert encode(response) == wire


def test_text_keeps_utf8_only_in_utf8_mode() -> None:
    r = Tagged("a1", Status.OK, "Entwürfe geöffnet")
    assert encode(r) == b"a1 OK Entw?rfe ge?ffnet\r\n"
    assert encode(r, utf8=True) == "a1 OK Entwürfe geöffnet\r\n".encode()


@pytest.mark.parametrize("tag", ["a+1", "a b", "a{1", 'a"', "a*", "a%", "t\u00e9"])
def test_bad_tag_is_refused(tag: str) -> None:
    with pytest.raises(ValueError, match="bad tag"):
        encode(Tagged(tag, Status.OK, "x"))


@pytest.mark.parametrize("status", [Status.PREAUTH, Status.BYE])
def test_tagged_status_must_be_ok_no_bad(status: Status) -> None:
    with pytest.raises(ValueError, match="tagged"):
        Tagged("a1", status, "x")


def test_empty_tag_is_refused() -> None:
    with pytest.raises(ValueError, match="empty tag"):
        Tagged("", Status.OK, "x")


# --- response codes --------------------------------------------------------------------------

CODE_CASES: list[tuple[RespCode, str]] = [
    (Code(ResponseCode.READ_ONLY), "READ-ONLY"),
    (Code(ResponseCode.UNKNOWN_CTE), "UNKNOWN-CTE"),
    (Code(ResponseCode.BADCHARSET), "BADCHARSET"),
    (Code(ResponseCode.USEATTR), "USEATTR"),
    (CodeNumber(ResponseCode.UIDVALIDITY, 3857529045), "UIDVALIDITY 3857529045"),
    (CodeNumber(ResponseCode.UNSEEN, 17), "UNSEEN 17"),
    (CodeNumber(ResponseCode.HIGHESTMODSEQ, 715194045007), "HIGHESTMODSEQ 715194045007"),
    (
        PermanentFlags((Flag.DELETED, Flag.SEEN, "$Forwarded")),
        "PERMANENTFLAGS (\\Deleted \\Seen $Forwarded \\*)",
    ),
    (PermanentFlags((), new_keywords=False), "PERMANENTFLAGS ()"),
    (PermanentFlags(()), "PERMANENTFLAGS (\\*)"),
    (
        CapabilityCode((Capability.IMAP4REV1, Capability.IDLE, appendlimit_capability(35))),
        "CAPABILITY IMAP4rev1 IDLE APPENDLIMIT=35",
    ),
    (BadCharset(("UTF-8", "US-ASCII")), "BADCHARSET (UTF-8 US-ASCII)"),
    (BadCharset(("weird set",)), 'BADCHARSET ("weird set")'),
    (AppendUid(38505, [3955]), "APPENDUID 38505 3955"),
    (AppendUid(38505, [3955, 3956, 3957, 4000]), "APPENDUID 38505 3955:3957,4000"),
    (CopyUid(38505, [304, 319, 320], [3956, 3957, 3958]), "COPYUID 38505 304,319:320 3956:3958"),
    (CopyUid(1, [5, 3, 4], [10, 11, 12]), "COPYUID 1 5,3:4 10:12"),
    (Modified([7, 9, 8, 12]), "MODIFIED 7:9,12"),
    (
        MailboxId("F2212ea87-6097-4256-9d51-71338625"),
        "MAILBOXID (F2212ea87-6097-4256-9d51-71338625)",
    ),
    (InProgress("A1", 2000, 3000), 'INPROGRESS ("A1" 2000 3000)'),
    (InProgress(), "INPROGRESS (NIL NIL NIL)"),
    (InProgress('a"b', 1, None), 'INPROGRESS ("a\\"b" 1 NIL)'),
    (CodeText(ResponseCode.METADATA, "LONGENTRIES 2199"), "METADATA LONGENTRIES 2199"),
    (CodeText(ResponseCode.NOUPDATE, '"B"'), 'NOUPDATE "B"'),
    (CodeText(ResponseCode.REFERRAL, "imap://h/x]\r\n"), "REFERRAL imap://h/x"),
    (CodeText(ResponseCode.METADATA, ""), "METADATA"),
]


@pytest.mark.parametrize(("code", "inside"), CODE_CASES)
def test_response_codes(code: RespCode, inside: str) -> None:
    wire = encode(Tagged("t", Status.OK, "done", code))
    assert wire == f"t OK [{inside}] done\r\n".encode()


@pytest.mark.parametrize(
    "word", [ResponseCode.UIDNEXT, ResponseCode.PERMANENTFLAGS, ResponseCode.COPYUID]
)
def test_code_without_its_arguments_is_refused(word: ResponseCode) -> None:
    with pytest.raises(ValueError, match="needs arguments"):
        Code(word)


def test_code_shape_checks() -> None:
    with pytest.raises(ValueError, match="does not take a number"):
        CodeNumber(ResponseCode.ALERT, 1)
    with pytest.raises(ValueError, match="negative"):
        CodeNumber(ResponseCode.UIDNEXT, -1)
    with pytest.raises(ValueError, match="typed class"):
        CodeText(ResponseCode.APPENDUID, "1 2")
    with pytest.raises(ValueError, match="differ in length"):
        CopyUid(1, [1, 2], [3])
    with pytest.raises(ValueError, match="objectid"):
        MailboxId("has space")


@pytest.mark.parametrize(
    "code",
    [
        PermanentFlags(("bad flag",)),
        PermanentFlags(("\\",)),
        CapabilityCode(("NOT AN ATOM",)),
        AppendUid(1, []),
        Modified([0]),
    ],
)
def test_malformed_code_values_are_refused(code: RespCode) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        encode(Tagged("t", Status.NO, "x", code))


# --- string choice ---------------------------------------------------------------------------

STRING_CASES: list[tuple[str | bytes, bool, bytes]] = [
    ("", False, b'""'),
    ("hello", False, b'"hello"'),
    ("NIL", False, b'"NIL"'),
    ('say "hi"', False, b'"say \\"hi\\""'),
    ("back\\slash", False, b'"back\\\\slash"'),
    ("tab\there", False, b'"tab\there"'),
    ("caf\u00e9", False, b"{5}\r\ncaf\xc3\xa9"),
    ("caf\u00e9", True, b'"caf\xc3\xa9"'),
    ("line\r\nbreak", False, b"{11}\r\nline\r\nbreak"),
    ("line\r\nbreak", True, b"{11}\r\nline\r\nbreak"),
    ("lf\n", False, b"{3}\r\nlf\n"),
    ("x" * 1024, False, b'"' + b"x" * 1024 + b'"'),
    ("x" * 1025, False, b"{1025}\r\n" + b"x" * 1025),
    (b"bytes", False, b'"bytes"'),
    (b"\xff\xfe", True, b"{2}\r\n\xff\xfe"),
    ("\u00e9".encode(), True, b'"\xc3\xa9"'),
    (b"nul\x00", False, b"{4}\r\nnul\x80"),
    ("del\x7f", False, b'"del\x7f"'),
]


@pytest.mark.parametrize(("value", "utf8", "wire"), STRING_CASES)
def test_string_choice(value: str | bytes, utf8: bool, wire: bytes) -> None:
    assert encode_string(value, utf8=utf8) == wire


def test_literal8_only_for_binary_with_nul() -> None:
    assert encode_string(b"a\x00b", binary=True) == b"~{3}\r\na\x00b"
    assert encode_string(b"a\x00b") == b"{3}\r\na\x80b"
    assert encode_string(b"a\xffb", binary=True) == b"{3}\r\na\xffb"


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (None, b"NIL"),
        ("NIL", b'"NIL"'),
        ("nil", b'"nil"'),
        ("", b'""'),
        ("x", b'"x"'),
    ],
)
def test_nstring(value: str | None, wire: bytes) -> None:
    assert encode_nstring(value) == wire


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        ("fred", b"fred"),
        ("a]b", b"a]b"),
        ("", b'""'),
        ("NIL", b'"NIL"'),
        ("Nil", b'"Nil"'),
        ("two words", b'"two words"'),
        ("a(b", b'"a(b"'),
        ("a{b", b'"a{b"'),
        ("a%", b'"a%"'),
        ("a*", b'"a*"'),
        ('a"', b'"a\\""'),
        ("\u00e9", b"{2}\r\n\xc3\xa9"),
    ],
)
def test_astring(value: str, wire: bytes) -> None:
    assert encode_astring(value) == wire


@pytest.mark.parametrize(
    ("name", "utf8", "wire"),
    [
        ("INBOX", False, b"INBOX"),
        ("inbox", False, b"INBOX"),
        ("InBox", True, b"INBOX"),
        ("INBOX/Sub", False, b"INBOX/Sub"),
        ("Entw\u00fcrfe", False, b"Entw&APw-rfe"),
        ("Entw\u00fcrfe", True, b'"Entw\xc3\xbcrfe"'),
        ("A&B", False, b"A&-B"),
        ("A&B", True, b"A&B"),
        ("My Mail", False, b'"My Mail"'),
        ("~peter/mail/\u53f0\u5317/\u65e5\u672c\u8a9e", False, b"~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
        ("Nil", False, b'"Nil"'),
        ("Sent]", False, b"Sent]"),
        ("%", False, b'"%"'),
    ],
)
def test_mailbox_names(name: str, utf8: bool, wire: bytes) -> None:
    assert encode_mailbox(name, utf8=utf8) == wire


# --- dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (
            dt.datetime(1996, 7, 17, 2, 44, 25, tzinfo=dt.timezone(-dt.timedelta(hours=7))),
            "17-Jul-1996 02:44:25 -0700",
        ),
        (dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC), " 2-Jan-2026 03:04:05 +0000"),
        (dt.datetime(2026, 12, 31, 23, 59, 59), "31-Dec-2026 23:59:59 +0000"),
        (
            dt.datetime(
                2020, 2, 29, 0, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=45))
            ),
            "29-Feb-2020 00:00:00 +0545",
        ),
        (
            dt.datetime(
                2020, 3, 1, 0, 0, 0, tzinfo=dt.timezone(-dt.timedelta(hours=3, minutes=30))
            ),
            " 1-Mar-2020 00:00:00 -0330",
        ),
        (dt.datetime(999, 5, 5, 5, 5, 5, tzinfo=dt.UTC), " 5-May-0999 05:05:05 +0000"),
    ],
)
def test_format_datetime(value: dt.datetime, wire: str) -> None:
    assert format_datetime(value) == wire


# --- sequence sets ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numbers", "keep_order", "wire"),
    [
        ([1], False, "1"),
        ([1, 2, 3, 5, 7, 8, 9], False, "1:3,5,7:9"),
        ([9, 8, 7, 5, 3, 2, 1], False, "1:3,5,7:9"),
        ([3, 3, 1, 2, 2], False, "1:3"),
        ([4294967295, 4294967294], False, "4294967294:4294967295"),
        ([3, 1, 2], True, "3,1:2"),
        ([10, 11, 12, 1, 2], True, "10:12,1:2"),
        ((n for n in (5, 6)), False, "5:6"),
    ],
)
def test_compact(numbers: list[int], keep_order: bool, wire: str) -> None:
    assert compact(numbers, keep_order=keep_order) == wire


@pytest.mark.parametrize("numbers", [[], [0], [1, -1]])
def test_compact_refuses_empty_and_non_positive(numbers: list[int]) -> None:
    with pytest.raises(ValueError, match="sequence set"):
        compact(numbers)


def test_compact_large_input() -> None:
    evens = list(range(2, 2_000_002, 2))
    wire = compact(evens)
    assert wire.count(",") == len(evens) - 1
    assert compact(range(1, 1_000_001)) == "1:1000000"
    assert compact([*range(1, 500_001), *range(500_002, 1_000_001)]) == "1:500000,500002:1000000"


def test_literal_data_sends_no_nul() -> None:
    # RFC 9051 §4.3: no NUL in a literal; lenient like Dovecot, 0x80 goes instead.
    assert encoder.literal_data(b"a\x00b\x00") == b"a\x80b\x80"
    clean = b"Subject: x\r\n\r\nbody\r\n"
    assert encoder.literal_data(clean) is clean  # nothing to change: not copied
