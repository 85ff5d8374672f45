"""Values shared by several commands: sequence sets, flags, fetch items, enums.

`SequenceSet` keeps the ranges as the client wrote them, with `*` as the
`STAR` marker, and resolves them against the largest number of a mailbox on
demand (`iter_ranges`) without materialising `1:*`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from buzon.imap.words import StatusItem  # one enum for the reader and the encoder

__all__ = [
    "STAR",
    "BodySection",
    "FetchAtt",
    "FetchBinary",
    "FetchBinarySize",
    "FetchBody",
    "FetchItem",
    "FetchPreview",
    "ListReturn",
    "ListSelect",
    "SectionText",
    "SeqNumber",
    "SequenceSet",
    "StatusItem",
    "StoreOperation",
    "canonical_flag",
]


class _Star(enum.Enum):
    STAR = "*"

    def __repr__(self) -> str:
        return "STAR"


STAR: Final = _Star.STAR
"""The `*` of a sequence set: the largest number in use (RFC 9051 §9 seq-number)."""

SeqNumber = int | _Star


@dataclass(frozen=True, slots=True)
class SequenceSet:
    """A sequence-set (RFC 9051 §9) or the `$` of RFC 5182 (`saved=True`).

    `ranges` holds (first, last) pairs as written ("3" is (3, 3); "5:2" stays
    (5, 2)); resolution orders each range.
    """

    ranges: tuple[tuple[SeqNumber, SeqNumber], ...] = ()
    saved: bool = False

    @classmethod
    def of(cls, *items: int | tuple[int, int]) -> SequenceSet:
        """Build a set from numbers and (lo, hi) pairs (tests, handlers)."""
        ranges = [(i, i) if isinstance(i, int) else i for i in items]
        return cls(tuple(ranges))

    @property
    def uses_star(self) -> bool:
        return any(STAR in r for r in self.ranges)

    def iter_ranges(self, largest: int) -> Iterator[tuple[int, int]]:
        """Yield sorted, merged, inclusive (lo, hi) ranges with `*` = `largest`.

        Numbers below 1 are dropped (`*` in an empty mailbox names nothing).
        A saved set (`$`) cannot be resolved here: the session keeps the result.
        """
        if self.saved:
            raise ValueError("the $ sequence set must be resolved by the session")
        spans: list[tuple[int, int]] = []
        for a, b in self.ranges:
            x = largest if a is STAR else a
            y = largest if b is STAR else b
            lo, hi = (x, y) if x <= y else (y, x)
            lo = max(lo, 1)
            if lo <= hi:
                spans.append((lo, hi))
        spans.sort()
        cur: tuple[int, int] | None = None
        for lo, hi in spans:
            if cur is None:
                cur = (lo, hi)
            elif lo <= cur[1] + 1:
                cur = (cur[0], max(cur[1], hi))
            else:
                yield cur
                cur = (lo, hi)
        if cur is not None:
            yield cur

    def resolve(self, largest: int) -> list[int]:
        """All numbers in the set, sorted and deduplicated (materialises the set)."""
        return [n for lo, hi in self.iter_ranges(largest) for n in range(lo, hi + 1)]

    def contains(self, number: int, largest: int) -> bool:
        return any(lo <= number <= hi for lo, hi in self.iter_ranges(largest))

    def __str__(self) -> str:
        if self.saved:
            return "$"

        def one(n: SeqNumber) -> str:
            return "*" if n is STAR else str(n)

        return ",".join(one(a) if a == b else f"{one(a)}:{one(b)}" for a, b in self.ranges)


_SYSTEM_FLAGS = {
    f.lower(): f for f in ("\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft", "\\Recent")
}


def canonical_flag(flag: str) -> str:
    """System flags in their RFC spelling (matched case-insensitively); others as given."""
    return _SYSTEM_FLAGS.get(flag.lower(), flag)


class StoreOperation(enum.Enum):
    """STORE FLAGS / +FLAGS / -FLAGS (RFC 9051 §6.4.6)."""

    REPLACE = "FLAGS"
    ADD = "+FLAGS"
    REMOVE = "-FLAGS"


class ListSelect(enum.Enum):
    """LIST selection options (RFC 5258 §3.1, RFC 6154 §3)."""

    SUBSCRIBED = "SUBSCRIBED"
    REMOTE = "REMOTE"
    RECURSIVEMATCH = "RECURSIVEMATCH"
    SPECIAL_USE = "SPECIAL-USE"


class ListReturn(enum.Enum):
    """LIST return options (RFC 5258 §3.2, RFC 5819, RFC 6154, RFC 8440)."""

    SUBSCRIBED = "SUBSCRIBED"
    CHILDREN = "CHILDREN"
    SPECIAL_USE = "SPECIAL-USE"
    STATUS = "STATUS"
    MYRIGHTS = "MYRIGHTS"


class FetchAtt(enum.Enum):
    """Simple FETCH attributes (RFC 9051 §6.4.5, RFC 3501, RFC 7162, RFC 8474, RFC 8514)."""

    ENVELOPE = "ENVELOPE"
    FLAGS = "FLAGS"
    INTERNALDATE = "INTERNALDATE"
    RFC822 = "RFC822"
    RFC822_HEADER = "RFC822.HEADER"
    RFC822_SIZE = "RFC822.SIZE"
    RFC822_TEXT = "RFC822.TEXT"
    BODY = "BODY"
    BODYSTRUCTURE = "BODYSTRUCTURE"
    UID = "UID"
    MODSEQ = "MODSEQ"
    EMAILID = "EMAILID"
    THREADID = "THREADID"
    SAVEDATE = "SAVEDATE"


class SectionText(enum.Enum):
    """The text part of a BODY[] section (RFC 9051 §6.4.5)."""

    HEADER = "HEADER"
    HEADER_FIELDS = "HEADER.FIELDS"
    HEADER_FIELDS_NOT = "HEADER.FIELDS.NOT"
    TEXT = "TEXT"
    MIME = "MIME"


@dataclass(frozen=True, slots=True)
class BodySection:
    """A section-spec: `part` numbers (empty = whole message), then text and fields."""

    part: tuple[int, ...] = ()
    text: SectionText | None = None
    fields: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FetchBody:
    """BODY[section]<origin.size> or BODY.PEEK[...]; partial is (origin, size)."""

    section: BodySection
    peek: bool = False
    partial: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class FetchBinary:
    """BINARY[part]<origin.size> / BINARY.PEEK (RFC 3516)."""

    part: tuple[int, ...]
    peek: bool = False
    partial: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class FetchBinarySize:
    """BINARY.SIZE[part] (RFC 3516)."""

    part: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class FetchPreview:
    """PREVIEW or PREVIEW (LAZY) (RFC 8970)."""

    lazy: bool = False


FetchItem = FetchAtt | FetchBody | FetchBinary | FetchBinarySize | FetchPreview
