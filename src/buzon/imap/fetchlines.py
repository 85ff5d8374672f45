"""FETCH responses of message metadata rendered straight to bytes, a chunk at a time.

A client resynchronising a mailbox sends `UID FETCH 1:* (FLAGS)` (or with MODSEQ,
RFC822.SIZE, INTERNALDATE) and gets one response per message: 100,000 of them for a
large mailbox. Building response objects for each and running them through the general
encoder costs about 20 µs a message; here one format string per command renders every
line, about 1 µs a message. Only items whose values are numbers, flags and dates are
rendered this way; the bytes are identical to `encoder.encode(FetchData(...))`, which
tests/imap/test_fetchlines.py checks item by item.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from functools import lru_cache
from operator import itemgetter

from buzon.imap.commands_values import FetchAtt
from buzon.imap.encoder import flag_list, format_datetime

__all__ = ["LINE_ITEMS", "LineFormat", "Row", "date_bytes", "flag_list_bytes", "piece"]

# RFC 9051 §7.5.2 msg-att-dynamic / msg-att-static, RFC 7162 §3.1.4.1 (MODSEQ); the
# number is the position of the value in a `LineFormat.render` row.
_PIECES: dict[FetchAtt, tuple[bytes, int]] = {
    FetchAtt.UID: (b"UID %d", 1),
    FetchAtt.FLAGS: (b"FLAGS %s", 2),
    FetchAtt.MODSEQ: (b"MODSEQ (%d)", 3),
    FetchAtt.RFC822_SIZE: (b"RFC822.SIZE %d", 4),
    FetchAtt.INTERNALDATE: (b'INTERNALDATE "%s"', 5),
}
LINE_ITEMS: frozenset[FetchAtt] = frozenset(_PIECES)

# (msn, uid, flag list bytes, modseq, size, date bytes): the values a line may need.
Row = tuple[int, int, bytes, int, int | None, bytes | None]


class LineFormat:
    """The response lines of one FETCH whose items are all in `LINE_ITEMS`."""

    __slots__ = ("_format", "_pick")

    def __init__(self, items: Sequence[FetchAtt]) -> None:
        if not items or not LINE_ITEMS.issuperset(items):
            raise ValueError(f"not renderable as lines: {items!r}")
        pieces = [_PIECES[item] for item in items]
        self._format = b"* %d FETCH (" + b" ".join(p for p, _ in pieces) + b")\r\n"
        # Two or more indexes, so itemgetter always returns a tuple.
        self._pick = itemgetter(0, *(i for _, i in pieces))

    def render(self, rows: Iterable[Row]) -> bytes:
        """All lines for `rows`, concatenated."""
        fmt = self._format
        pick = self._pick
        return b"".join([fmt % pick(row) for row in rows])


def piece(item: FetchAtt) -> tuple[bytes, int]:
    """The format of one of `LINE_ITEMS` in a line, and the index of its value in a Row."""
    return _PIECES[item]


@lru_cache(maxsize=1024)
def flag_list_bytes(flags: frozenset[str]) -> bytes:
    """`(\\Answered \\Seen $Label)`: the flags sorted, checked as the encoder does."""
    return b"(" + flag_list(tuple(sorted(flags))).encode("ascii") + b")"


def date_bytes(value: dt.datetime) -> bytes:
    return format_datetime(value).encode("ascii")
