"""The SEARCH key tree (RFC 9051 §6.4.4, RFC 3501 §6.4.4 and extensions).

The grammar turns the wire keys into a small typed tree. Keys that RFC 3501
defines in terms of others are expanded here so handlers meet fewer shapes:
ANSWERED/UNANSWERED/.../KEYWORD/UNKEYWORD/RECENT/OLD become `FlagKey`,
NEW becomes `And(FlagKey(\\Recent), FlagKey(\\Seen, present=False))`,
FROM/TO/CC/BCC/SUBJECT/HEADER become `HeaderKey`, a top-level list of keys and
a parenthesised list become `And`.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterator
from dataclasses import dataclass

from buzon.imap.commands_values import SequenceSet

__all__ = [
    "AgeKey",
    "All",
    "And",
    "DateField",
    "DateKey",
    "DateOp",
    "EmailIdKey",
    "FlagKey",
    "HeaderKey",
    "ModSeqEntryType",
    "ModSeqKey",
    "Not",
    "Or",
    "SaveDateSupported",
    "SearchKey",
    "SequenceKey",
    "SizeKey",
    "TextKey",
    "TextScope",
    "ThreadIdKey",
    "UidKey",
    "leaves",
]


class DateField(enum.Enum):
    """Which date a date key compares: INTERNALDATE, the Date: header, the save date."""

    INTERNAL = "INTERNAL"  # BEFORE ON SINCE
    SENT = "SENT"  # SENTBEFORE SENTON SENTSINCE
    SAVED = "SAVED"  # SAVEDBEFORE SAVEDON SAVEDSINCE (RFC 8514)


class DateOp(enum.Enum):
    BEFORE = "BEFORE"
    ON = "ON"
    SINCE = "SINCE"


class TextScope(enum.Enum):
    BODY = "BODY"
    TEXT = "TEXT"


class ModSeqEntryType(enum.Enum):
    """entry-type-req of RFC 7162 §3.1.5."""

    PRIV = "priv"
    SHARED = "shared"
    ALL = "all"


@dataclass(frozen=True, slots=True)
class All:
    """ALL."""


@dataclass(frozen=True, slots=True)
class FlagKey:
    """A flag is set (`present`) or not: ANSWERED, UNSEEN, KEYWORD k, OLD, ..."""

    flag: str
    present: bool = True


@dataclass(frozen=True, slots=True)
class HeaderKey:
    """HEADER field value; FROM/TO/CC/BCC/SUBJECT use the upper-case field name."""

    field: str
    value: str


@dataclass(frozen=True, slots=True)
class TextKey:
    """BODY string / TEXT string."""

    scope: TextScope
    value: str


@dataclass(frozen=True, slots=True)
class DateKey:
    field: DateField
    op: DateOp
    date: dt.date


@dataclass(frozen=True, slots=True)
class SizeKey:
    """LARGER n (`larger=True`) / SMALLER n."""

    larger: bool
    size: int


@dataclass(frozen=True, slots=True)
class SequenceKey:
    """A bare sequence set (message sequence numbers)."""

    sequence_set: SequenceSet


@dataclass(frozen=True, slots=True)
class UidKey:
    """UID sequence-set."""

    sequence_set: SequenceSet


@dataclass(frozen=True, slots=True)
class ModSeqKey:
    """MODSEQ [entry-name entry-type] modseq (RFC 7162 §3.1.5)."""

    modseq: int
    entry: str | None = None
    entry_type: ModSeqEntryType | None = None


@dataclass(frozen=True, slots=True)
class AgeKey:
    """OLDER n (`older=True`) / YOUNGER n, in seconds (RFC 5032)."""

    older: bool
    seconds: int


@dataclass(frozen=True, slots=True)
class SaveDateSupported:
    """SAVEDATESUPPORTED (RFC 8514)."""


@dataclass(frozen=True, slots=True)
class EmailIdKey:
    """EMAILID objectid (RFC 8474)."""

    object_id: str


@dataclass(frozen=True, slots=True)
class ThreadIdKey:
    """THREADID objectid (RFC 8474)."""

    object_id: str


@dataclass(frozen=True, slots=True)
class Not:
    key: SearchKey


@dataclass(frozen=True, slots=True)
class Or:
    left: SearchKey
    right: SearchKey


@dataclass(frozen=True, slots=True)
class And:
    keys: tuple[SearchKey, ...]


SearchKey = (
    All
    | FlagKey
    | HeaderKey
    | TextKey
    | DateKey
    | SizeKey
    | SequenceKey
    | UidKey
    | ModSeqKey
    | AgeKey
    | SaveDateSupported
    | EmailIdKey
    | ThreadIdKey
    | Not
    | Or
    | And
)


def leaves(key: SearchKey) -> Iterator[SearchKey]:
    """The keys under NOT, OR and AND, in order: what a question about a whole search
    program (does it use MODSEQ? sequence numbers? "$"?) looks at."""
    stack: list[SearchKey] = [key]
    while stack:
        match stack.pop():
            case Not(key=inner):
                stack.append(inner)
            case Or(left=left, right=right):
                stack.extend((right, left))
            case And(keys=keys):
                stack.extend(reversed(keys))
            case leaf:
                yield leaf
