"""Untagged data responses other than FETCH (RFC 9051 §7.2-§7.4 and extensions).

Mailbox names are Unicode (``str``) here: the encoder writes them in modified UTF-7 or, once
UTF-8 is enabled, as UTF-8 (RFC 6855 §3). Numbers are plain ``int``s; the server's ``Uid`` and
``Msn`` NewTypes pass through unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias

from buzon.imap.words import AttrWord, CapabilityWord, FlagWord, StatusItem

__all__ = [
    "AclData",
    "CapabilityData",
    "ChildInfo",
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
    "FlagsData",
    "GenUrlAuthData",
    "IdData",
    "ListData",
    "ListExtendedItem",
    "ListRightsData",
    "LsubData",
    "MetadataData",
    "MetadataNames",
    "MyRightsData",
    "Namespace",
    "NamespaceData",
    "OldName",
    "QuotaData",
    "QuotaRootData",
    "RecentData",
    "SearchData",
    "SortData",
    "StatusData",
    "StatusValue",
    "ThreadData",
    "ThreadNode",
    "UrlFetchData",
    "VanishedData",
    "XlistData",
]


@dataclass(frozen=True, slots=True)
class CapabilityData:
    """``* CAPABILITY IMAP4rev1 ...`` (RFC 9051 §7.2.2)."""

    capabilities: tuple[CapabilityWord, ...]


@dataclass(frozen=True, slots=True)
class EnabledData:
    """``* ENABLED CONDSTORE`` (RFC 5161 §3.2); may be empty."""

    capabilities: tuple[CapabilityWord, ...]


# --- LIST family (RFC 9051 §7.3.1, RFC 5258 §3.5) --------------------------------------------


@dataclass(frozen=True, slots=True)
class ChildInfo:
    """``("CHILDINFO" ("SUBSCRIBED"))`` extended item (RFC 5258 §3.5)."""

    options: tuple[str, ...] = ("SUBSCRIBED",)


@dataclass(frozen=True, slots=True)
class OldName:
    """``("OLDNAME" ("old"))`` extended item after RENAME (RFC 9051 §6.3.9, RFC 5465 §5.4)."""

    name: str


ListExtendedItem: TypeAlias = ChildInfo | OldName


@dataclass(frozen=True, slots=True)
class _MailboxListing:
    attrs: tuple[AttrWord, ...]
    delimiter: str | None
    name: str
    extended: tuple[ListExtendedItem, ...] = ()

    def __post_init__(self) -> None:
        if self.delimiter is not None and len(self.delimiter) != 1:
            raise ValueError(f"hierarchy delimiter must be one character: {self.delimiter!r}")


@dataclass(frozen=True, slots=True)
class ListData(_MailboxListing):
    """``* LIST (\\HasNoChildren) "/" INBOX`` (RFC 9051 §7.3.1); ``None`` delimiter is NIL."""


@dataclass(frozen=True, slots=True)
class LsubData(_MailboxListing):
    """``* LSUB () "/" name`` (RFC 3501 §7.2.3)."""


@dataclass(frozen=True, slots=True)
class XlistData(_MailboxListing):
    """``* XLIST (\\Sent) "/" name``: the pre-RFC 6154 Gmail form, for old clients."""


StatusValue: TypeAlias = int | str | None
"""A STATUS value: a number, NIL (APPENDLIMIT), or an objectid (MAILBOXID)."""


@dataclass(frozen=True, slots=True)
class StatusData:
    """``* STATUS name (MESSAGES 2 UIDNEXT 44)`` (RFC 9051 §7.3.2)."""

    name: str
    items: tuple[tuple[StatusItem, StatusValue], ...]


@dataclass(frozen=True, slots=True)
class FlagsData:
    """``* FLAGS (\\Answered ...)`` (RFC 9051 §7.3.5)."""

    flags: tuple[FlagWord, ...]


# --- mailbox size and message status (RFC 9051 §7.4) -------------------------------------------


@dataclass(frozen=True, slots=True)
class ExistsData:
    """``* 23 EXISTS`` (RFC 9051 §7.4.1)."""

    count: int


@dataclass(frozen=True, slots=True)
class RecentData:
    """``* 5 RECENT`` (RFC 3501 §7.3.2; not in IMAP4rev2)."""

    count: int


@dataclass(frozen=True, slots=True)
class ExpungeData:
    """``* 44 EXPUNGE`` (RFC 9051 §7.5.1)."""

    msn: int


@dataclass(frozen=True, slots=True)
class VanishedData:
    """``* VANISHED (EARLIER) 41,43:116`` (RFC 7162 §3.2.10); ``uids`` must not be empty."""

    uids: Sequence[int]
    earlier: bool = False


# --- SEARCH, ESEARCH, SORT, THREAD ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SearchData:
    """``* SEARCH 2 3 6 (MODSEQ 917162500)`` (RFC 9051 §7.3.4 via RFC 3501, RFC 7162 §3.1.6).

    ``modseq`` is written only when ``numbers`` is not empty (RFC 7162 §3.1.6).
    """

    numbers: Sequence[int]
    modseq: int | None = None


@dataclass(frozen=True, slots=True)
class ESearchMin:
    """``MIN n`` (RFC 4731 §3.1)."""

    value: int


@dataclass(frozen=True, slots=True)
class ESearchMax:
    """``MAX n`` (RFC 4731 §3.1)."""

    value: int


@dataclass(frozen=True, slots=True)
class ESearchCount:
    """``COUNT n`` (RFC 4731 §3.1)."""

    value: int


@dataclass(frozen=True, slots=True)
class ESearchAll:
    """``ALL 1:3,5``; omitted when empty (RFC 4731 §3.1: ALL is not returned without matches).

    ``ordered`` keeps the given order (ESORT, RFC 5267 §3.1): only ascending runs merge.
    """

    numbers: Sequence[int]
    ordered: bool = False


@dataclass(frozen=True, slots=True)
class ESearchModSeq:
    """``MODSEQ n`` (RFC 7162 §3.1.10)."""

    value: int


@dataclass(frozen=True, slots=True)
class ESearchPartial:
    """``PARTIAL (-1:-100 200:250,252:300)`` (RFC 9394 §3.1); empty ``numbers`` gives NIL.

    ``first``/``last`` is the requested range as the client sent it (both negative for a
    range counted from the end).
    """

    first: int
    last: int
    numbers: Sequence[int]
    ordered: bool = False  # ESORT: in sort order (RFC 5267 §3.1)


ESearchItem: TypeAlias = (
    ESearchMin | ESearchMax | ESearchCount | ESearchAll | ESearchModSeq | ESearchPartial
)


@dataclass(frozen=True, slots=True)
class ESearchData:
    """``* ESEARCH (TAG "a1") UID MIN 2 COUNT 3`` (RFC 4731 §3.1, RFC 9051 §7.3.4).

    ``mailbox`` and ``uidvalidity`` are the multimailbox correlators (RFC 7377 §2.1); they
    are written only with a tag.
    """

    tag: str | None
    uid: bool
    items: tuple[ESearchItem, ...]
    mailbox: str | None = None
    uidvalidity: int | None = None


@dataclass(frozen=True, slots=True)
class SortData:
    """``* SORT 2 3 6`` (RFC 5256 §4), with ``(MODSEQ n)`` as for SEARCH (RFC 7162 §3.1.6)."""

    numbers: Sequence[int]
    modseq: int | None = None


@dataclass(frozen=True, slots=True)
class ThreadNode:
    """A node of a thread tree; ``message`` is ``None`` for a missing (dummy) parent."""

    message: int | None
    children: tuple[ThreadNode, ...] = ()


@dataclass(frozen=True, slots=True)
class ThreadData:
    """``* THREAD (2)(3 6 (4 23)(44 7 96))``: one tree per thread (RFC 5256 §4)."""

    threads: tuple[ThreadNode, ...]


# --- server and account data -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IdData:
    """``* ID ("name" "Buzón")``; ``None`` or no pairs gives ``* ID NIL`` (RFC 2971 §3.2)."""

    params: tuple[tuple[str, str | None], ...] | None


Namespace: TypeAlias = tuple[tuple[str, str | None], ...] | None
"""One NAMESPACE group: (prefix, delimiter) pairs, or NIL (``None`` or empty)."""


@dataclass(frozen=True, slots=True)
class NamespaceData:
    """``* NAMESPACE (("" "/")) NIL (("Shared/" "/"))`` (RFC 9051 §7.3.7, RFC 2342)."""

    personal: Namespace
    other: Namespace
    shared: Namespace


@dataclass(frozen=True, slots=True)
class QuotaData:
    """``* QUOTA "" (STORAGE 10 512)``: (resource, usage, limit) triples (RFC 9208 §5.1)."""

    root: str
    resources: tuple[tuple[str, int, int], ...]


@dataclass(frozen=True, slots=True)
class QuotaRootData:
    """``* QUOTAROOT INBOX ""`` (RFC 9208 §5.2)."""

    mailbox: str
    roots: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AclData:
    """``* ACL INBOX Fred rwipslxetad`` (RFC 4314 §3.6): (identifier, rights) pairs."""

    mailbox: str
    entries: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class ListRightsData:
    """``* LISTRIGHTS archive anne "" l r s`` (RFC 4314 §3.7)."""

    mailbox: str
    identifier: str
    required: str
    optional: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MyRightsData:
    """``* MYRIGHTS INBOX rwiptsldaex`` (RFC 4314 §3.8)."""

    mailbox: str
    rights: str


@dataclass(frozen=True, slots=True)
class MetadataData:
    """``* METADATA INBOX (/private/comment "text")`` (RFC 5464 §4.4.1); ``""`` is the server.

    A value of ``None`` is NIL; values with NUL are sent as ``literal8``.
    """

    mailbox: str
    entries: tuple[tuple[str, bytes | None], ...]


@dataclass(frozen=True, slots=True)
class MetadataNames:
    """``* METADATA INBOX /shared/comment`` (RFC 5464 §4.4.2, unsolicited): changed entries."""

    mailbox: str
    entries: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GenUrlAuthData:
    """``* GENURLAUTH "imap://...:INTERNAL:91354a..."`` (RFC 4467 §6.1): one URL per request."""

    urls: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UrlFetchData:
    """``* URLFETCH url nstring ...`` (RFC 4467 §6.2): the data, or None (NIL) when invalid."""

    items: tuple[tuple[str, bytes | None], ...]
