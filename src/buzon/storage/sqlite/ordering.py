"""SORT by SQL ORDER BY, and the THREAD keys as plain tuples, on a reader thread.

Theory of operation
-------------------
SORT (RFC 5256 §3) compares keys stored at delivery (`msg_fields`, `contents.size`,
`messages.internal_date`); ties fall back to mailbox order, which is UID order, and REVERSE
reverses only its own criterion. That is exactly `ORDER BY k1 [DESC], k2 [DESC], ...,
m.uid`, so SQLite sorts in C and only the UIDs come back to Python. It must give the same
order as the reference (`server/sorting.py` over `SortFields`), which a hypothesis property
checks:

- strings: Python compares `str` by code point; SQLite's BINARY collation compares the
  UTF-8 bytes, and UTF-8 byte order is code point order. An absent `msg_fields` row is the
  empty string there, as it is here (COALESCE).
- the Date: header's key is stored at delivery in microseconds since the epoch
  (`msg_fields.sent_key`, migration 10). Internal dates are stored as ISO 8601 text with
  a UTC offset (`txn.encode_date`), which does not sort as text across offsets; `_micros`
  turns one into microseconds since the epoch:
  whole seconds by SQLite's strftime('%s') of the text without its fraction (exact for
  any offset of whole minutes, before or after 1970), plus the six fraction digits that
  `isoformat` writes when there are microseconds. Text SQLite cannot read gives NULL;
  then the rows are sorted in Python with the exact key instead (`_python_micros`).

THREAD gets `(uid, date key, base subject, is reply, Message-ID, references)` tuples in
one query (`ThreadRow`): no datetime objects, no 13-field objects per message.

A search program other than ALL is evaluated first (`search.run_search`); its matches
then restrict the ordered rows, by UID ranges when few, else by a set in Python.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence
from operator import itemgetter
from typing import Any, cast

from buzon.storage import query as q
from buzon.storage.api import ModSeq, SortField, SortOrder, ThreadRow, Uid
from buzon.storage.sqlite import search, txn

__all__ = ["python_micros", "sort", "thread_rows"]

_Row = tuple[Any, ...]  # a row of sqlite3: uid, modseq, then the key of each date criterion
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_FEW = 1000  # matches restricted in SQL up to this many, by a set in Python beyond


def _micros(column: str) -> str:
    """SQL: microseconds since the epoch of an `isoformat` date in `column`, or NULL."""
    frac = f"substr({column}, 20, 1) = '.'"
    whole = (
        f"CASE WHEN {frac} THEN substr({column}, 1, 19) || substr({column}, 27) ELSE {column} END"
    )
    return (
        f"(CAST(strftime('%s', {whole}) AS INTEGER) * 1000000"
        f" + CASE WHEN {frac} THEN CAST(substr({column}, 21, 6) AS INTEGER) ELSE 0 END)"
    )


def python_micros(text: str) -> int:
    """The exact key `_micros` computes, for text SQLite cannot read."""
    return (txn.decode_date(text) - _EPOCH) // dt.timedelta(microseconds=1)


_SENT = "COALESCE(f.sent, m.internal_date)"
# RFC 5256 §2.2: the sent date, else the internal date. `sent_key` is the Date: header
# already in microseconds (stored at delivery, migration 10): no text converted per row.
_SENT_KEY = f"COALESCE(f.sent_key, {_micros('m.internal_date')})"
_EXPRESSIONS: dict[SortField, str] = {
    SortField.ARRIVAL: _micros("m.internal_date"),
    SortField.DATE: _SENT_KEY,
    SortField.SIZE: "c.size",
    SortField.SUBJECT: "COALESCE(f.base_subject, '')",
    SortField.FROM: "COALESCE(f.from_mailbox, '')",
    SortField.TO: "COALESCE(f.to_mailbox, '')",
    SortField.CC: "COALESCE(f.cc_mailbox, '')",
    SortField.DISPLAYFROM: "COALESCE(f.from_display, '')",
    SortField.DISPLAYTO: "COALESCE(f.to_display, '')",
}
_DATE_TEXT = {SortField.ARRIVAL: "m.internal_date", SortField.DATE: _SENT}


def _matches(
    conn: sqlite3.Connection, mailbox_id: int, query: q.Query
) -> tuple[str, list[int | str], set[int] | None]:
    """(WHERE term, params, set to filter by in Python) restricting rows to the matches."""
    if isinstance(query, q.MatchAll):
        return "1", [], None
    hits = [uid for uid, _ in search.run_search(conn, mailbox_id, query)]
    if len(hits) <= _FEW:
        clause, params = txn.uid_clause("m.uid", hits)
        return clause, params, None
    return "1", [], set(hits)


def sort(
    conn: sqlite3.Connection, mailbox_id: int, query: q.Query, order: Sequence[SortOrder]
) -> tuple[tuple[Uid, ...], tuple[ModSeq, ...]]:
    """The UIDs and modseqs of the messages matching `query`, in the order `order` asks."""
    where, params, keep = _matches(conn, mailbox_id, query)
    dates = [o.field for o in order if o.field in _DATE_TEXT]
    # Each date criterion also returns its key, to find dates SQLite could not read.
    extra = "".join(f", {_EXPRESSIONS[d]}" for d in dates)
    keys = "".join(f"{_EXPRESSIONS[o.field]}{' DESC' if o.reverse else ''}, " for o in order)
    join = (
        " JOIN contents c ON c.id = m.content_id"
        if SortField.SIZE in {o.field for o in order}
        else ""
    )
    rows = conn.execute(
        f"SELECT m.uid, m.modseq{extra} FROM messages m{join}"
        " LEFT JOIN msg_fields f ON f.content_id = m.content_id"
        f" WHERE m.mailbox_id = ? AND {where} ORDER BY {keys}m.uid",
        (mailbox_id, *params),
    ).fetchall()
    if keep is not None:
        rows = [r for r in rows if r[0] in keep]
    if dates and any(r[2 + i] is None for r in rows for i in range(len(dates))):
        rows = _python_sort(conn, mailbox_id, rows, order, dates)
    # Two C-level passes: 100,000 (Uid, ModSeq) pairs built in Python cost more than the sort.
    uids = cast(tuple[Uid, ...], tuple(map(itemgetter(0), rows)))
    return uids, cast(tuple[ModSeq, ...], tuple(map(itemgetter(1), rows)))


def _python_sort(
    conn: sqlite3.Connection,
    mailbox_id: int,
    rows: list[_Row],
    order: Sequence[SortOrder],
    dates: list[SortField],
) -> list[_Row]:
    """The same order, sorted here: a date SQLite could not read is compared exactly."""
    uids = [r[0] for r in rows]
    by_uid = {r[0]: r for r in rows}
    fields = {o.field for o in order if o.field not in _DATE_TEXT}
    values: dict[SortField, dict[int, Any]] = {}
    for field in fields:
        got = conn.execute(
            f"SELECT m.uid, {_EXPRESSIONS[field]} FROM messages m"
            " JOIN contents c ON c.id = m.content_id"
            " LEFT JOIN msg_fields f ON f.content_id = m.content_id"
            f" WHERE m.mailbox_id = ?",
            (mailbox_id,),
        )
        values[field] = dict(got.fetchall())
    for i, d in enumerate(dates):
        texts = dict(
            conn.execute(
                f"SELECT m.uid, {_DATE_TEXT[d]} FROM messages m"
                " LEFT JOIN msg_fields f ON f.content_id = m.content_id WHERE m.mailbox_id = ?",
                (mailbox_id,),
            ).fetchall()
        )
        values[d] = {
            r[0]: r[2 + i] if r[2 + i] is not None else python_micros(texts[r[0]]) for r in rows
        }
    ordered = sorted(uids)
    for o in reversed(order):
        column = values[o.field]
        ordered.sort(key=column.__getitem__, reverse=o.reverse)  # stable, as the reference
    return [by_uid[u] for u in ordered]


def thread_rows(conn: sqlite3.Connection, mailbox_id: int, query: q.Query) -> list[ThreadRow]:
    """The THREAD keys of the messages matching `query`, in UID order."""
    where, params, keep = _matches(conn, mailbox_id, query)
    rows = conn.execute(
        f"SELECT m.uid, {_SENT_KEY}, CASE WHEN f.sent_key IS NULL THEN {_SENT} END,"
        " COALESCE(f.base_subject, ''),"
        " COALESCE(f.is_reply, 0), f.message_id, COALESCE(f.refs, '')"
        " FROM messages m LEFT JOIN msg_fields f ON f.content_id = m.content_id"
        f" WHERE m.mailbox_id = ? AND {where} ORDER BY m.uid",
        (mailbox_id, *params),
    ).fetchall()
    return [
        (
            Uid(uid),
            micros if micros is not None else python_micros(text),
            subject,
            bool(reply),
            message_id,
            tuple(refs.split()) if refs else (),
        )
        for uid, micros, text, subject, reply, message_id, refs in rows
        if keep is None or uid in keep
    ]
