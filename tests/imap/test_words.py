"""Wire words: canonical spellings and case-insensitive lookup."""

from __future__ import annotations

import enum
import re

import pytest

from buzon.imap import words
from buzon.imap.words import (
    Capability,
    Flag,
    MailboxAttr,
    QuotaResource,
    ResponseCode,
    Status,
    StatusItem,
    appendlimit_capability,
)

_ATOM = re.compile(r'[^\x00-\x20\x7f(){%*"\\\]]+')


def test_public_names() -> None:
    assert set(words.__all__) == {
        "AttrWord",
        "Capability",
        "CapabilityWord",
        "Flag",
        "FlagWord",
        "MailboxAttr",
        "QuotaResource",
        "ResponseCode",
        "Status",
        "StatusItem",
        "appendlimit_capability",
    }


@pytest.mark.parametrize(
    ("member", "wire"),
    [
        (Status.PREAUTH, "PREAUTH"),
        (ResponseCode.READ_ONLY, "READ-ONLY"),
        (ResponseCode.UNKNOWN_CTE, "UNKNOWN-CTE"),
        (ResponseCode.INPROGRESS, "INPROGRESS"),
        (Capability.IMAP4REV1, "IMAP4rev1"),
        (Capability.LITERAL_PLUS, "LITERAL+"),
        (Capability.AUTH_SCRAM_SHA_256, "AUTH=SCRAM-SHA-256"),
        (Capability.RIGHTS_TEXK, "RIGHTS=texk"),
        (Flag.SEEN, "\\Seen"),
        (Flag.RECENT, "\\Recent"),
        (MailboxAttr.HAS_NO_CHILDREN, "\\HasNoChildren"),
        (MailboxAttr.NONEXISTENT, "\\NonExistent"),
        (MailboxAttr.IMPORTANT, "\\Important"),
        (StatusItem.DELETED_STORAGE, "DELETED-STORAGE"),
        (QuotaResource.ANNOTATION_STORAGE, "ANNOTATION-STORAGE"),
    ],
)
def test_canonical_spelling(member: str, wire: str) -> None:
    assert member == wire
    assert str(member) == wire
    assert f"{member}" == wire


@pytest.mark.parametrize(
    ("word_type", "spelling", "member"),
    [
        (Flag, "\\SEEN", Flag.SEEN),
        (Flag, "\\seen", Flag.SEEN),
        (Capability, "idle", Capability.IDLE),
        (Capability, "imap4REV2", Capability.IMAP4REV2),
        (Capability, "rights=TEXK", Capability.RIGHTS_TEXK),
        (ResponseCode, "trycreate", ResponseCode.TRYCREATE),
        (MailboxAttr, "\\noselect", MailboxAttr.NOSELECT),
        (StatusItem, "uidNext", StatusItem.UIDNEXT),
        (Status, "bye", Status.BYE),
    ],
)
def test_case_insensitive_lookup(
    word_type: type[enum.Enum], spelling: str, member: enum.Enum
) -> None:
    assert word_type(spelling) is member


@pytest.mark.parametrize(
    ("word_type", "spelling"),
    [(Flag, "\\Nope"), (Flag, "Seen"), (Capability, "IMAP5"), (Status, 1), (ResponseCode, "")],
)
def test_unknown_word_is_rejected(word_type: type[enum.Enum], spelling: object) -> None:
    with pytest.raises(ValueError, match="is not a valid"):
        word_type(spelling)


def test_every_word_is_wire_safe() -> None:
    for word_enum in (Status, ResponseCode, Capability, StatusItem, QuotaResource):
        for member in word_enum:
            assert _ATOM.fullmatch(member.value), member
    for attr_enum in (Flag, MailboxAttr):
        for attr in attr_enum:
            assert attr.value.startswith("\\")
            assert _ATOM.fullmatch(attr.value[1:]), attr


def test_required_response_codes_exist() -> None:
    required = {
        "ALERT",
        "BADCHARSET",
        "CAPABILITY",
        "PARSE",
        "PERMANENTFLAGS",
        "READ-ONLY",
        "READ-WRITE",
        "TRYCREATE",
        "UIDNEXT",
        "UIDVALIDITY",
        "UNSEEN",
        "UNAVAILABLE",
        "AUTHENTICATIONFAILED",
        "AUTHORIZATIONFAILED",
        "EXPIRED",
        "PRIVACYREQUIRED",
        "CONTACTADMIN",
        "NOPERM",
        "INUSE",
        "EXPUNGEISSUED",
        "CORRUPTION",
        "SERVERBUG",
        "CLIENTBUG",
        "CANNOT",
        "LIMIT",
        "OVERQUOTA",
        "ALREADYEXISTS",
        "NONEXISTENT",
        "HASCHILDREN",
        "CLOSED",
        "NOTSAVED",
        "UNKNOWN-CTE",
        "TOOBIG",
        "APPENDUID",
        "COPYUID",
        "UIDNOTSTICKY",
        "HIGHESTMODSEQ",
        "NOMODSEQ",
        "MODIFIED",
        "COMPRESSIONACTIVE",
        "USEATTR",
        "MAILBOXID",
        "INPROGRESS",
    }
    assert {c.value for c in ResponseCode} >= required


def test_appendlimit_capability() -> None:
    assert appendlimit_capability(1048576) == "APPENDLIMIT=1048576"
    assert appendlimit_capability(0) == "APPENDLIMIT=0"
    with pytest.raises(ValueError, match="negative"):
        appendlimit_capability(-1)
