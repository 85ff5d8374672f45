"""Typed IMAP commands: one frozen dataclass per command, named as the wire names it.

Core commands of RFC 3501 / RFC 9051 and their extensions live here; the second
group (SORT, THREAD, quota, ACL, metadata, ...) lives in `commands_ext`.
Every command has `tag`; the UID forms carry `uid: bool`.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from buzon.imap.commands_values import (
    FetchItem,
    ListReturn,
    ListSelect,
    SequenceSet,
    StatusItem,
    StoreOperation,
)
from buzon.imap.searchkeys import SearchKey

__all__ = [
    "Append",
    "AppendMessage",
    "Authenticate",
    "Capability",
    "CatenateText",
    "CatenateUrl",
    "Check",
    "Close",
    "Copy",
    "Create",
    "Delete",
    "Enable",
    "Examine",
    "Expunge",
    "Fetch",
    "Id",
    "Idle",
    "List",
    "Login",
    "Logout",
    "Lsub",
    "Move",
    "Namespace",
    "Noop",
    "QResync",
    "Rename",
    "Search",
    "SearchReturn",
    "Select",
    "StartTLS",
    "Status",
    "Store",
    "Subscribe",
    "Unselect",
    "Unsubscribe",
    "Xlist",
]


@dataclass(frozen=True, slots=True)
class Capability:
    tag: str


@dataclass(frozen=True, slots=True)
class Noop:
    tag: str


@dataclass(frozen=True, slots=True)
class Logout:
    tag: str


@dataclass(frozen=True, slots=True)
class StartTLS:
    tag: str


@dataclass(frozen=True, slots=True)
class Authenticate:
    """AUTHENTICATE mechanism [initial-response] (RFC 9051 §6.2.2, RFC 4959).

    `mechanism` is upper-cased. `initial_response` is the decoded SASL-IR
    (b"" for "="), or None when the client sent none.
    """

    tag: str
    mechanism: str
    initial_response: bytes | None = None


@dataclass(frozen=True, slots=True)
class Login:
    tag: str
    username: str
    password: str


@dataclass(frozen=True, slots=True)
class QResync:
    """QRESYNC (uidvalidity modseq [known-uids [(seq-match)]]) (RFC 7162 §3.2.5).

    `seq_match` is (known-sequence-set, known-uid-set).
    """

    uidvalidity: int
    modseq: int
    known_uids: SequenceSet | None = None
    seq_match: tuple[SequenceSet, SequenceSet] | None = None


@dataclass(frozen=True, slots=True)
class Select:
    tag: str
    mailbox: str
    condstore: bool = False
    qresync: QResync | None = None


@dataclass(frozen=True, slots=True)
class Examine:
    tag: str
    mailbox: str
    condstore: bool = False
    qresync: QResync | None = None


@dataclass(frozen=True, slots=True)
class Create:
    """CREATE mailbox [(USE (special-use ...))] (RFC 6154 §3)."""

    tag: str
    mailbox: str
    special_use: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Delete:
    tag: str
    mailbox: str


@dataclass(frozen=True, slots=True)
class Rename:
    tag: str
    mailbox: str
    new_name: str


@dataclass(frozen=True, slots=True)
class Subscribe:
    tag: str
    mailbox: str


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    tag: str
    mailbox: str


@dataclass(frozen=True, slots=True)
class List:
    """LIST, basic or extended (RFC 9051 §6.3.9, RFC 5258, RFC 5819, RFC 6154).

    `extended` is True when the client used any RFC 5258 syntax (selection
    options, a parenthesised pattern list or RETURN). `status_items` is the
    RETURN (STATUS (...)) list of RFC 5819; it is non-empty exactly when
    `ListReturn.STATUS` is in `return_options`.
    """

    tag: str
    reference: str
    patterns: tuple[str, ...]
    selection: frozenset[ListSelect] = frozenset()
    return_options: frozenset[ListReturn] = frozenset()
    status_items: tuple[StatusItem, ...] = ()
    extended: bool = False


@dataclass(frozen=True, slots=True)
class Lsub:
    tag: str
    reference: str
    pattern: str


@dataclass(frozen=True, slots=True)
class Xlist:
    """XLIST (Gmail's predecessor of SPECIAL-USE), same arguments as LSUB."""

    tag: str
    reference: str
    pattern: str


@dataclass(frozen=True, slots=True)
class Namespace:
    tag: str


@dataclass(frozen=True, slots=True)
class Status:
    tag: str
    mailbox: str
    items: tuple[StatusItem, ...]


@dataclass(frozen=True, slots=True)
class CatenateText:
    """TEXT literal part of CATENATE (RFC 4469)."""

    data: bytes
    binary: bool = False


@dataclass(frozen=True, slots=True)
class CatenateUrl:
    """URL part of CATENATE (RFC 4469)."""

    url: str


@dataclass(frozen=True, slots=True)
class AppendMessage:
    """One message of a (MULTI)APPEND (RFC 3502).

    `content` is the literal, or the CATENATE parts (RFC 4469). `binary` is
    True for a literal8 `~{n}` (RFC 3516), `utf8` for `UTF8 (literal)` (RFC 6855 §4).
    """

    content: bytes | tuple[CatenateText | CatenateUrl, ...]
    flags: tuple[str, ...] = ()
    internal_date: dt.datetime | None = None
    binary: bool = False
    utf8: bool = False


@dataclass(frozen=True, slots=True)
class Append:
    tag: str
    mailbox: str
    messages: tuple[AppendMessage, ...]


@dataclass(frozen=True, slots=True)
class Idle:
    tag: str


@dataclass(frozen=True, slots=True)
class Check:
    tag: str


@dataclass(frozen=True, slots=True)
class Close:
    tag: str


@dataclass(frozen=True, slots=True)
class Unselect:
    tag: str


@dataclass(frozen=True, slots=True)
class Expunge:
    """EXPUNGE, or UID EXPUNGE uid-set (RFC 4315 §2.1) when `uid`."""

    tag: str
    uid: bool = False
    uid_set: SequenceSet | None = None


class SearchReturn(enum.Enum):
    """RETURN options of extended SEARCH (RFC 4731, RFC 5182, RFC 9394)."""

    MIN = "MIN"
    MAX = "MAX"
    ALL = "ALL"
    COUNT = "COUNT"
    SAVE = "SAVE"
    PARTIAL = "PARTIAL"


@dataclass(frozen=True, slots=True)
class Search:
    """SEARCH / UID SEARCH (RFC 9051 §6.4.4, RFC 4731).

    `returns` is None for a classic SEARCH (untagged SEARCH response); an empty
    RETURN () means ALL (RFC 4731 §3.1), which the grammar already applies.
    `partial` is the range of RETURN (PARTIAL first:last) (RFC 9394), negative
    for ranges counted from the end. String values are decoded from `charset`.
    """

    tag: str
    key: SearchKey
    uid: bool = False
    charset: str | None = None
    returns: frozenset[SearchReturn] | None = None
    partial: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class Fetch:
    """FETCH / UID FETCH (RFC 9051 §6.4.5), macros expanded.

    `changedsince` and `vanished` are the RFC 7162 modifiers.
    """

    tag: str
    sequence_set: SequenceSet
    items: tuple[FetchItem, ...]
    uid: bool = False
    changedsince: int | None = None
    vanished: bool = False


@dataclass(frozen=True, slots=True)
class Store:
    """STORE / UID STORE (RFC 9051 §6.4.6), UNCHANGEDSINCE of RFC 7162 §3.1.3."""

    tag: str
    sequence_set: SequenceSet
    operation: StoreOperation
    flags: tuple[str, ...]
    uid: bool = False
    silent: bool = False
    unchangedsince: int | None = None


@dataclass(frozen=True, slots=True)
class Copy:
    tag: str
    sequence_set: SequenceSet
    mailbox: str
    uid: bool = False


@dataclass(frozen=True, slots=True)
class Move:
    """MOVE / UID MOVE (RFC 6851)."""

    tag: str
    sequence_set: SequenceSet
    mailbox: str
    uid: bool = False


@dataclass(frozen=True, slots=True)
class Enable:
    """ENABLE capability... (RFC 5161); names upper-cased."""

    tag: str
    capabilities: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Id:
    """ID NIL / ID (field value ...) (RFC 2971); fields as sent, values may be NIL."""

    tag: str
    parameters: tuple[tuple[str, str | None], ...] | None
