"""Typed IMAP responses: status responses, continuations and response codes.

Every server response is a frozen value; :mod:`buzon.imap.encoder` turns it into bytes. This
module holds the status responses (tagged, untagged, continuation) and the response codes;
untagged data lives in :mod:`buzon.imap.responses_data` and FETCH items in
:mod:`buzon.imap.responses_fetch`. All of them are re-exported here, with the ``Response`` union.

Values check the invariants the grammar cannot express in types (a ``Code`` word that needs
arguments, a tagged ``PREAUTH``) and raise ``ValueError`` when built wrongly: a bug in the
caller, caught where it is made rather than on the wire.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias

from buzon.imap.responses_data import (
    AclData,
    CapabilityData,
    ChildInfo,
    EnabledData,
    ESearchAll,
    ESearchCount,
    ESearchData,
    ESearchItem,
    ESearchMax,
    ESearchMin,
    ESearchModSeq,
    ESearchPartial,
    ExistsData,
    ExpungeData,
    FlagsData,
    GenUrlAuthData,
    IdData,
    ListData,
    ListExtendedItem,
    ListRightsData,
    LsubData,
    MetadataData,
    MetadataNames,
    MyRightsData,
    Namespace,
    NamespaceData,
    OldName,
    QuotaData,
    QuotaRootData,
    RecentData,
    SearchData,
    SortData,
    StatusData,
    StatusValue,
    ThreadData,
    ThreadNode,
    UrlFetchData,
    VanishedData,
    XlistData,
)
from buzon.imap.responses_fetch import (
    FetchBinarySize,
    FetchData,
    FetchEmailId,
    FetchFlags,
    FetchInternalDate,
    FetchItem,
    FetchModSeq,
    FetchPreview,
    FetchRaw,
    FetchSaveDate,
    FetchSection,
    FetchSize,
    FetchThreadId,
    FetchUid,
    UidFetchData,
    check_objectid,
)
from buzon.imap.words import CapabilityWord, FlagWord, ResponseCode, Status

__all__ = [
    "AclData",
    "AppendUid",
    "BadCharset",
    "CapabilityCode",
    "CapabilityData",
    "ChildInfo",
    "Code",
    "CodeNumber",
    "CodeText",
    "Continuation",
    "ContinuationData",
    "CopyUid",
    "ESearchAll",
    "ESearchCount",
    "ESearchData",
    "ESearchItem",
    "ESearchMax",
    "ESearchMin",
    "ESearchModSeq",
    "ESearchPartial",
    "EnabledData",
    "ExistsData",
    "ExpungeData",
    "FetchBinarySize",
    "FetchData",
    "FetchEmailId",
    "FetchFlags",
    "FetchInternalDate",
    "FetchItem",
    "FetchModSeq",
    "FetchPreview",
    "FetchRaw",
    "FetchSaveDate",
    "FetchSection",
    "FetchSize",
    "FetchThreadId",
    "FetchUid",
    "FlagsData",
    "GenUrlAuthData",
    "IdData",
    "InProgress",
    "ListData",
    "ListExtendedItem",
    "ListRightsData",
    "LsubData",
    "MailboxId",
    "MetadataData",
    "MetadataNames",
    "Modified",
    "MyRightsData",
    "Namespace",
    "NamespaceData",
    "OldName",
    "PermanentFlags",
    "QuotaData",
    "QuotaRootData",
    "RecentData",
    "RespCode",
    "Response",
    "SearchData",
    "SortData",
    "StatusData",
    "StatusValue",
    "Tagged",
    "ThreadData",
    "ThreadNode",
    "UidFetchData",
    "UntaggedStatus",
    "UrlFetchData",
    "VanishedData",
    "XlistData",
]

# ---------------------------------------------------------------------------------------------
# Response codes (RFC 9051 §7.1, RFC 5530 and extensions)

_NUMBER_CODES = frozenset(
    {
        ResponseCode.UIDNEXT,
        ResponseCode.UIDVALIDITY,
        ResponseCode.UNSEEN,
        ResponseCode.HIGHESTMODSEQ,
    }
)
_TYPED_CODES = frozenset(
    {
        ResponseCode.PERMANENTFLAGS,
        ResponseCode.CAPABILITY,
        ResponseCode.APPENDUID,
        ResponseCode.COPYUID,
        ResponseCode.MODIFIED,
        ResponseCode.MAILBOXID,
    }
)
# Codes whose grammar requires arguments: they have their own class or go through CodeText.
_NEEDS_ARGUMENTS = (
    _NUMBER_CODES
    | _TYPED_CODES
    | {ResponseCode.METADATA, ResponseCode.NOUPDATE, ResponseCode.REFERRAL}
)


@dataclass(frozen=True, slots=True)
class Code:
    """A response code without arguments: ``[TRYCREATE]``, ``[READ-ONLY]``, ``[BADCHARSET]``."""

    word: ResponseCode

    def __post_init__(self) -> None:
        if self.word in _NEEDS_ARGUMENTS:
            raise ValueError(f"response code {self.word} needs arguments")


@dataclass(frozen=True, slots=True)
class CodeNumber:
    """A code with one number: ``[UIDNEXT 5]``, UIDVALIDITY, UNSEEN, HIGHESTMODSEQ."""

    word: ResponseCode
    value: int

    def __post_init__(self) -> None:
        if self.word not in _NUMBER_CODES:
            raise ValueError(f"response code {self.word} does not take a number")
        if self.value < 0:
            raise ValueError(f"{self.word} must not be negative: {self.value}")


@dataclass(frozen=True, slots=True)
class CodeText:
    """A code with free-form arguments (``atom [SP 1*<any TEXT-CHAR except "]">]``, RFC 9051 §7.1).

    For codes without a class of their own: ``[METADATA LONGENTRIES 2199]``, ``[NOUPDATE "B"]``,
    ``[REFERRAL imap://...]``. The encoder removes "]", CR and LF from ``text``.
    """

    word: ResponseCode
    text: str

    def __post_init__(self) -> None:
        if self.word in _NUMBER_CODES or self.word in _TYPED_CODES:
            raise ValueError(f"response code {self.word} has a typed class")


@dataclass(frozen=True, slots=True)
class PermanentFlags:
    """``[PERMANENTFLAGS (\\Seen ... \\*)]``; ``new_keywords`` adds ``\\*`` (RFC 9051 §7.1)."""

    flags: tuple[FlagWord, ...]
    new_keywords: bool = True


@dataclass(frozen=True, slots=True)
class CapabilityCode:
    """``[CAPABILITY IMAP4rev1 ...]`` in a greeting or after LOGIN/AUTHENTICATE."""

    capabilities: tuple[CapabilityWord, ...]


@dataclass(frozen=True, slots=True)
class BadCharset:
    """``[BADCHARSET (UTF-8 US-ASCII)]``: the charsets the server supports (RFC 9051 §7.1)."""

    charsets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AppendUid:
    """``[APPENDUID uidvalidity uid-set]`` (RFC 4315 §3; several UIDs with MULTIAPPEND)."""

    uidvalidity: int
    uids: Sequence[int]


@dataclass(frozen=True, slots=True)
class CopyUid:
    """``[COPYUID uidvalidity source-set destination-set]`` (RFC 4315 §3).

    The two lists correspond by position; the encoder keeps their order (RFC 4315 §3: "Neither
    of the UID sets is required to be in numerical order"), merging only ascending runs.
    """

    uidvalidity: int
    source: Sequence[int]
    destination: Sequence[int]

    def __post_init__(self) -> None:
        if len(self.source) != len(self.destination):
            raise ValueError("COPYUID source and destination differ in length")


@dataclass(frozen=True, slots=True)
class Modified:
    """``[MODIFIED 7,9]``: messages a conditional STORE did not change (RFC 7162 §3.1.3)."""

    numbers: Sequence[int]


@dataclass(frozen=True, slots=True)
class MailboxId:
    """``[MAILBOXID (F2212ea87-6097-4256-9d51-71338625)]`` after CREATE (RFC 8474 §4.1)."""

    mailbox_id: str

    def __post_init__(self) -> None:
        check_objectid(self.mailbox_id)


@dataclass(frozen=True, slots=True)
class InProgress:
    """``[INPROGRESS ("A1" 2000 3000)]``: progress of a long command (RFC 9585)."""

    tag: str | None = None
    count: int | None = None
    total: int | None = None


RespCode: TypeAlias = (
    Code
    | CodeNumber
    | CodeText
    | PermanentFlags
    | CapabilityCode
    | BadCharset
    | AppendUid
    | CopyUid
    | Modified
    | MailboxId
    | InProgress
)

# ---------------------------------------------------------------------------------------------
# Status responses and continuations (RFC 9051 §7.1, §7.5)


@dataclass(frozen=True, slots=True)
class Tagged:
    """``tag OK|NO|BAD [code] text``: the completion of a command (RFC 9051 §2.2.2)."""

    tag: str
    status: Status
    text: str
    code: RespCode | None = None

    def __post_init__(self) -> None:
        # RFC 9051 §7.1: PREAUTH only in the greeting; BYE is untagged (response-fatal).
        if self.status not in (Status.OK, Status.NO, Status.BAD):
            raise ValueError(f"a tagged response cannot be {self.status}")
        if not self.tag:
            raise ValueError("empty tag")


@dataclass(frozen=True, slots=True)
class UntaggedStatus:
    """``* OK|NO|BAD|PREAUTH|BYE [code] text`` (RFC 9051 §7.1)."""

    status: Status
    text: str
    code: RespCode | None = None


@dataclass(frozen=True, slots=True)
class Continuation:
    """``+ text``: the server is ready for a literal or the rest of a command (RFC 9051 §7.5)."""

    text: str = ""


@dataclass(frozen=True, slots=True)
class ContinuationData:
    """``+ base64``: a SASL challenge (RFC 9051 §6.2.2); empty data gives ``+ `` (RFC 4959)."""

    data: bytes


Response: TypeAlias = (
    Tagged
    | UntaggedStatus
    | Continuation
    | ContinuationData
    | CapabilityData
    | EnabledData
    | ListData
    | LsubData
    | XlistData
    | StatusData
    | FlagsData
    | ExistsData
    | RecentData
    | ExpungeData
    | VanishedData
    | FetchData
    | UidFetchData
    | SearchData
    | ESearchData
    | SortData
    | ThreadData
    | IdData
    | NamespaceData
    | QuotaData
    | QuotaRootData
    | AclData
    | ListRightsData
    | MyRightsData
    | MetadataData
    | MetadataNames
    | GenUrlAuthData
    | UrlFetchData
)
"""Everything :func:`buzon.imap.encoder.encode` accepts."""
