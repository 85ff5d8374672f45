"""Typed commands of the second group of extensions.

SORT/THREAD (RFC 5256, RFC 5957, RFC 5267), multimailbox ESEARCH (RFC 7377),
QUOTA (RFC 9208), ACL (RFC 4314), METADATA (RFC 5464), COMPRESS (RFC 4978),
UNAUTHENTICATE (RFC 8437), REPLACE (RFC 8508), NOTIFY (RFC 5465), URLAUTH (RFC 4467).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from buzon.imap.commands import AppendMessage, SearchReturn
from buzon.imap.commands_values import FetchItem
from buzon.imap.searchkeys import SearchKey

__all__ = [
    "Compress",
    "DeleteAcl",
    "Esearch",
    "ExtCommand",
    "GenUrlAuth",
    "GetAcl",
    "GetMetadata",
    "GetQuota",
    "GetQuotaRoot",
    "ListRights",
    "MailboxFilter",
    "MyRights",
    "Notify",
    "NotifyEvent",
    "NotifyGroup",
    "Replace",
    "ResetKey",
    "SetAcl",
    "SetMetadata",
    "SetQuota",
    "Sort",
    "SortCriterion",
    "SortKey",
    "Thread",
    "Unauthenticate",
    "UrlFetch",
]


class SortKey(enum.Enum):
    """sort-key of RFC 5256 §5 and RFC 5957 §3."""

    ARRIVAL = "ARRIVAL"
    CC = "CC"
    DATE = "DATE"
    FROM = "FROM"
    SIZE = "SIZE"
    SUBJECT = "SUBJECT"
    TO = "TO"
    DISPLAYFROM = "DISPLAYFROM"
    DISPLAYTO = "DISPLAYTO"


@dataclass(frozen=True, slots=True)
class SortCriterion:
    key: SortKey
    reverse: bool = False


@dataclass(frozen=True, slots=True)
class Sort:
    """[UID] SORT [RETURN (...)] (criteria) charset search-key... (RFC 5256 §3, RFC 5267)."""

    tag: str
    criteria: tuple[SortCriterion, ...]
    charset: str
    key: SearchKey
    uid: bool = False
    returns: frozenset[SearchReturn] | None = None
    partial: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class Thread:
    """[UID] THREAD algorithm charset search-key... (RFC 5256 §3); algorithm upper-cased."""

    tag: str
    algorithm: str
    charset: str
    key: SearchKey
    uid: bool = False


@dataclass(frozen=True, slots=True)
class MailboxFilter:
    """A filter-mailboxes of RFC 7377 / RFC 5465: kind ("SELECTED", "SUBTREE", ...)."""

    kind: str
    mailboxes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Esearch:
    """ESEARCH [IN (filters)] [RETURN (...)] program (RFC 7377 §2)."""

    tag: str
    key: SearchKey
    sources: tuple[MailboxFilter, ...] = ()
    charset: str | None = None
    returns: frozenset[SearchReturn] | None = None
    partial: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class GetQuota:
    tag: str
    root: str


@dataclass(frozen=True, slots=True)
class GetQuotaRoot:
    tag: str
    mailbox: str


@dataclass(frozen=True, slots=True)
class SetQuota:
    """SETQUOTA root (resource limit ...) (RFC 9208 §4.3); resources upper-cased."""

    tag: str
    root: str
    limits: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class SetAcl:
    """SETACL mailbox identifier rights (RFC 4314 §3.1); rights may start with + or -."""

    tag: str
    mailbox: str
    identifier: str
    rights: str


@dataclass(frozen=True, slots=True)
class DeleteAcl:
    tag: str
    mailbox: str
    identifier: str


@dataclass(frozen=True, slots=True)
class GetAcl:
    tag: str
    mailbox: str


@dataclass(frozen=True, slots=True)
class ListRights:
    tag: str
    mailbox: str
    identifier: str


@dataclass(frozen=True, slots=True)
class MyRights:
    tag: str
    mailbox: str


@dataclass(frozen=True, slots=True)
class GetMetadata:
    """GETMETADATA [(MAXSIZE n DEPTH d)] mailbox entries (RFC 5464 §4.2).

    `mailbox` is "" for server annotations; depth is "0", "1" or "infinity".
    """

    tag: str
    mailbox: str
    entries: tuple[str, ...]
    maxsize: int | None = None
    depth: str | None = None


@dataclass(frozen=True, slots=True)
class SetMetadata:
    """SETMETADATA mailbox (entry value ...) (RFC 5464 §4.3); None removes the entry."""

    tag: str
    mailbox: str
    values: tuple[tuple[str, bytes | None], ...]


@dataclass(frozen=True, slots=True)
class Compress:
    """COMPRESS mechanism (RFC 4978 §3); upper-cased."""

    tag: str
    mechanism: str


@dataclass(frozen=True, slots=True)
class Unauthenticate:
    tag: str


@dataclass(frozen=True, slots=True)
class Replace:
    """[UID] REPLACE number mailbox append-message (RFC 8508 §3)."""

    tag: str
    number: int
    mailbox: str
    message: AppendMessage
    uid: bool = False


@dataclass(frozen=True, slots=True)
class GenUrlAuth:
    """GENURLAUTH 1*(SP url-rump SP mechanism) (RFC 4467 §6.1); mechanisms upper-cased."""

    tag: str
    requests: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class ResetKey:
    """RESETKEY [SP mailbox *(SP mechanism)] (RFC 4467 §4.1); no mailbox: every key."""

    tag: str
    mailbox: str | None = None
    mechanisms: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class UrlFetch:
    """URLFETCH 1*(SP url) (RFC 4467 §6.2)."""

    tag: str
    urls: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NotifyEvent:
    """An event name of RFC 5465 §5 (upper-cased) with MessageNew's fetch items."""

    name: str
    fetch_items: tuple[FetchItem, ...] = ()


@dataclass(frozen=True, slots=True)
class NotifyGroup:
    """A filter and its events; empty `events` is NONE."""

    filter: MailboxFilter
    events: tuple[NotifyEvent, ...]


@dataclass(frozen=True, slots=True)
class Notify:
    """NOTIFY NONE (`groups` empty, `none`) or NOTIFY SET [STATUS] groups (RFC 5465 §3)."""

    tag: str
    none: bool
    status: bool = False
    groups: tuple[NotifyGroup, ...] = ()


ExtCommand = (
    Sort
    | Thread
    | Esearch
    | GetQuota
    | GetQuotaRoot
    | SetQuota
    | SetAcl
    | DeleteAcl
    | GetAcl
    | ListRights
    | MyRights
    | GetMetadata
    | SetMetadata
    | Compress
    | Unauthenticate
    | Replace
    | Notify
    | GenUrlAuth
    | ResetKey
    | UrlFetch
)
