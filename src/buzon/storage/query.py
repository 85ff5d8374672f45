"""A protocol-neutral message query: what `Mailbox.search` evaluates.

Theory of operation
-------------------
The server translates a client's search program into this small tree (IMAP search keys,
sequence numbers and \\Recent are the server's business and never reach storage). Leaves
test one message: a flag, a header or text substring, a date, a size, a UID range, a
modseq. `And`, `Or` and `Not` combine them. Every value is plain data, so a backend may
evaluate the tree however it likes (SQL, an index, a scan) as long as the result equals the
reference semantics written on each class; `sqlite/search.py` is one such evaluator.

String matching everywhere is a case-insensitive substring test on decoded text, after
`fold()` on both sides: Unicode case folding and every run of white space made one space.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

__all__ = [
    "And",
    "DateField",
    "DateOp",
    "DateTest",
    "EmailIdIs",
    "FlagTest",
    "HeaderContains",
    "MatchAll",
    "ModSeqAtLeast",
    "Not",
    "Or",
    "Query",
    "SizeTest",
    "TextContains",
    "ThreadIdIs",
    "TimeTest",
    "UidRanges",
    "fold",
]


def fold(text: str) -> str:
    """The form both sides of a substring test take: case-folded, white space collapsed.

    Each run of white space becomes one space, as `re.sub(r"\\s+", " ", text)` would do;
    written with str.split, which is several times faster on whole message bodies.
    """
    # Every white space character but " " is unprintable: a printable text without a
    # double space has nothing to collapse (most header values and sort keys).
    if text.isprintable() and "  " not in text:
        return text.casefold()
    parts = text.split()
    if not parts:
        return " " if text else ""
    out = " ".join(parts)
    if text[0].isspace():
        out = " " + out
    if text[-1].isspace():
        out += " "
    return out.casefold()


class DateField(enum.Enum):
    INTERNAL = "internal"  # the arrival date (UTC day)
    SENT = "sent"  # the Date: header's own day, time and zone disregarded
    SAVED = "saved"  # the save date (UTC day), RFC 8514 §4.3


class DateOp(enum.Enum):
    BEFORE = "before"  # day < date
    ON = "on"  # day == date
    SINCE = "since"  # day >= date


@dataclass(frozen=True, slots=True)
class MatchAll:
    """Every message."""


@dataclass(frozen=True, slots=True)
class FlagTest:
    """A flag is set (`present`) or not; keywords compare case-insensitively."""

    flag: str
    present: bool = True


@dataclass(frozen=True, slots=True)
class HeaderContains:
    """A top-level header field `field` (any case) contains `value`.

    An empty `value` matches every message that has the field. Address fields (from, to,
    cc, bcc, ...) also match on each address's decoded display name and mailbox@host.
    """

    field: str
    value: str


@dataclass(frozen=True, slots=True)
class TextContains:
    """The decoded body (`body_only`) or the header and body contain `value`."""

    value: str
    body_only: bool


@dataclass(frozen=True, slots=True)
class DateTest:
    """A day comparison on the internal date (UTC) or the sent date.

    A message whose Date: header cannot be read uses its internal date as its sent date.
    """

    field: DateField
    op: DateOp
    date: dt.date


@dataclass(frozen=True, slots=True)
class TimeTest:
    """The internal date is at or before (`at_or_before`) / at or after an instant."""

    at_or_before: bool
    when: dt.datetime


@dataclass(frozen=True, slots=True)
class SizeTest:
    """The message size is larger (`larger`) / smaller than `size` octets."""

    larger: bool
    size: int


@dataclass(frozen=True, slots=True)
class UidRanges:
    """The UID lies in one of the inclusive (lo, hi) ranges (sorted, not overlapping)."""

    ranges: tuple[tuple[int, int], ...]

    @classmethod
    def of(cls, uids: list[int] | tuple[int, ...]) -> UidRanges:
        """Ranges covering exactly `uids` (any order, duplicates allowed)."""
        out: list[tuple[int, int]] = []
        for u in sorted(set(uids)):
            if out and out[-1][1] == u - 1:
                out[-1] = (out[-1][0], u)
            else:
                out.append((u, u))
        return cls(tuple(out))


@dataclass(frozen=True, slots=True)
class ModSeqAtLeast:
    """The message's modseq is >= `modseq`."""

    modseq: int


@dataclass(frozen=True, slots=True)
class EmailIdIs:
    """The message's EMAILID is exactly `object_id` (RFC 8474 §6; case matters)."""

    object_id: str


@dataclass(frozen=True, slots=True)
class ThreadIdIs:
    """The message's THREADID is exactly `object_id` (RFC 8474 §6; case matters)."""

    object_id: str


@dataclass(frozen=True, slots=True)
class And:
    parts: tuple[Query, ...]


@dataclass(frozen=True, slots=True)
class Or:
    parts: tuple[Query, ...]


@dataclass(frozen=True, slots=True)
class Not:
    part: Query


Query = (
    MatchAll
    | FlagTest
    | HeaderContains
    | TextContains
    | DateTest
    | TimeTest
    | SizeTest
    | UidRanges
    | ModSeqAtLeast
    | EmailIdIs
    | ThreadIdIs
    | And
    | Or
    | Not
)
