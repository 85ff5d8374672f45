"""The general encoder's items for flags and numbers: the oracle of the rendered paths
(`imap.fetchlines`, `server.fetchwhole`)."""

from __future__ import annotations

import datetime as dt

from buzon.imap.commands_values import FetchAtt
from buzon.imap.responses import (
    FetchFlags,
    FetchInternalDate,
    FetchItem,
    FetchModSeq,
    FetchSize,
    FetchUid,
)

# (msn, uid, flags, modseq, size, internal date)
Row = tuple[int, int, frozenset[str], int, int, dt.datetime]


def general_item(item: FetchAtt, row: Row) -> FetchItem:
    """The response item the general path builds for `item` of the message in `row`."""
    _, uid, flags, modseq, size, date = row
    match item:
        case FetchAtt.UID:
            return FetchUid(uid)
        case FetchAtt.FLAGS:
            return FetchFlags(tuple(sorted(flags)))
        case FetchAtt.MODSEQ:
            return FetchModSeq(modseq)
        case FetchAtt.RFC822_SIZE:
            return FetchSize(size)
        case FetchAtt.INTERNALDATE:
            return FetchInternalDate(date)
    raise AssertionError(item)
