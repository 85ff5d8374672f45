"""Evaluating a `query.Query` over one mailbox, on a reader thread.

Theory of operation
-------------------
One SELECT reads the mailbox's messages (restricted by UID when the query's top level
says so) with the columns the query needs; the query is compiled to a predicate over those
rows and evaluated in Python, cheap tests first inside each `And`. Substring tests read
the stored folded text of `msg_text` (no message is opened or parsed).

For a substring of 3 or more characters the FTS5 trigram index answers first. A phrase
query matches the rows holding every trigram of the string at consecutive positions of one
column, and the tokenizer (`case_sensitive 1`) emits one trigram per character position of
the text as stored: that is exactly "the column contains the string". So for TEXT and BODY
(`TextContains`, whose exact test is a substring of the stored body, or of the headers)
the index's answer is the result itself and no text is read (`_Context.matches`), unless
the string holds a character the tokenizer does not keep apart: it reads U+FFFE, U+FFFF
and invalid UTF-8 as U+FFFD, so a string containing U+FFFD has its FTS candidates checked
exactly, in SQL (`instr` on the stored folded text). The tokenizer stops at NUL; the
stored text has none (`index.store`). The index lives in `fts.db`, attached to the
reader's connection (`ftsdb.py`); the mailbox's texts the indexer has not reached
(`fts_pending`, read first) are checked the same way. HEADER keys (`HeaderContains`) take
the index's answer as candidates and check the one field in Python. The result is the
same as a scan (a hypothesis property asserts it, with the index filled and pending).
Shorter strings, a disabled index (`meta.fts_ok`) or an index that fails with a database
error fall back to the scan; the failure is logged once per search.

`sort_rows` returns what SORT and THREAD need per message (RFC 5256), one query.
"""

from __future__ import annotations

import bisect
import datetime as dt
import logging
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from buzon.storage import query as q
from buzon.storage.fields import ALT, header_values
from buzon.storage.sqlite import flags as fl
from buzon.storage.sqlite import index, txn
from buzon.storage.sqlite.ftsdb import FTS_SCHEMA

__all__ = ["run_search", "sort_rows"]

log = logging.getLogger("buzon.storage.search")

_SYSTEM_BITS = {
    "\\seen": fl.SEEN,
    "\\answered": fl.ANSWERED,
    "\\flagged": fl.FLAGGED,
    "\\deleted": fl.DELETED,
    "\\draft": fl.DRAFT,
}
MIN_INDEXED = 3  # the trigram tokenizer cannot look up shorter strings
# Characters the trigram tokenizer reads as U+FFFD (with invalid UTF-8, which a Python str
# cannot hold): a string with U+FFFD may match a text with one of the others. It also stops
# reading at NUL, so a string with NUL would match on its part before the NUL.
_CONFLATED = frozenset("\x00\ufffd\ufffe\uffff")

# Row layout of the main SELECT.
_UID: Final = 0
_BITS: Final = 1
_KW: Final = 2
_MODSEQ: Final = 3
_DATE: Final = 4
_CID: Final = 5
_SIZE: Final = 6
_SENT_DAY: Final = 7
_SAVED: Final = 8
_THREAD: Final = 9

_BATCH = 500  # content ids per exact-check query (SQLite allows 32766 parameters)
# Up to this many unindexed texts are checked by id, whoever's they are; more (after a bulk
# import, say) only those of the searched mailbox, found by walking the mailbox.
_FEW_PENDING = 2000

Row = tuple[int, int, str, int, str, int, int | None, str | None, str | None, str | None]
Pred = Callable[[Row], bool]


@dataclass(slots=True)
class _Context:
    conn: sqlite3.Connection
    use_index: bool
    mailbox_id: int
    texts: dict[int, tuple[str, str]] = field(default_factory=dict)
    needs_size: bool = False
    needs_sent: bool = False
    needs_saved: bool = False
    needs_thread: bool = False
    index_failed: bool = False

    def text(self, cid: int) -> tuple[str, str]:
        got = self.texts.get(cid)
        if got is None:
            row = self.conn.execute(
                "SELECT headers, body FROM msg_text WHERE content_id = ?", (cid,)
            ).fetchone()
            got = ("", "") if row is None else (str(row[0]), str(row[1]))
            if len(self.texts) > 4096:
                self.texts.clear()
            self.texts[cid] = got
        return got

    def _indexed(self, column: str | None, value: str) -> tuple[set[int], set[int]] | None:
        """(contents the index matches, contents not indexed yet); None: scan instead."""
        if not self.use_index or len(value) < MIN_INDEXED:
            return None
        phrase = '"' + value.replace('"', '""') + '"'
        match = phrase if column is None else f"{{{column}}} : {phrase}"
        try:
            # Texts the indexer has not reached yet, read BEFORE the index (ftsdb.py: a
            # text leaves the queue only after the index holds it). The index may still
            # hold an older text of a pending id: for those only the exact check counts.
            waiting = index.pending(self.conn)
            found = {
                int(r[0])
                for r in self.conn.execute(
                    f"SELECT rowid FROM {FTS_SCHEMA}.msg_fts WHERE msg_fts MATCH ?", (match,)
                )
            }
            return found - waiting, waiting
        except sqlite3.DatabaseError as exc:
            if not self.index_failed:
                log.warning("full-text index unusable, scanning instead: %s", exc)
            self.index_failed = True
            self.use_index = False
            return None

    def candidates(self, column: str | None, value: str) -> set[int] | None:
        """Contents the index says may contain `value`; None: no index, scan."""
        got = self._indexed(column, value)
        return None if got is None else got[0] | got[1]

    def matches(self, body_only: bool, value: str) -> set[int] | None:
        """The contents whose body (or headers) contain `value`, exactly; None: scan.

        `value` is folded, so it holds no TAB (`ALT`) and a match in the headers text is a
        match in one alternative, as `_text_pred` tests it.
        """
        if ALT in value or "\n" in value:
            return None
        got = self._indexed("body" if body_only else None, value)
        if got is None:
            return None
        found, pending = got
        if _CONFLATED.isdisjoint(value):
            if len(pending) <= _FEW_PENDING:  # usually: the last deliveries, or none
                return found | self._contain(pending, body_only, value)
            return found | self._pending_containing(body_only, value)
        return self._contain(found | pending, body_only, value)

    def _pending_containing(self, body_only: bool, value: str) -> set[int]:
        """This mailbox's contents not indexed yet whose stored text contains `value`."""
        test = "instr(t.body, ?) > 0"
        if not body_only:
            test = f"({test} OR instr(t.headers, ?) > 0)"
        rows = self.conn.execute(
            "SELECT m.content_id FROM messages m"
            " JOIN fts_pending p ON p.content_id = m.content_id"
            " JOIN msg_text t ON t.content_id = m.content_id"
            f" WHERE m.mailbox_id = ? AND {test}",
            (self.mailbox_id, value) if body_only else (self.mailbox_id, value, value),
        )
        return {int(r[0]) for r in rows}

    def _contain(self, cids: set[int], body_only: bool, value: str) -> set[int]:
        """Those of `cids` whose stored text contains `value` (instr: a byte substring of
        the UTF-8 text, which is a character substring)."""
        if not cids:
            return set()
        test = (
            "instr(body, ?) > 0" if body_only else "(instr(body, ?) > 0 OR instr(headers, ?) > 0)"
        )
        params = (value,) if body_only else (value, value)
        ordered = sorted(cids)
        out: set[int] = set()
        for i in range(0, len(ordered), _BATCH):
            chunk = ordered[i : i + _BATCH]
            marks = ",".join("?" * len(chunk))
            out.update(
                int(r[0])
                for r in self.conn.execute(
                    f"SELECT content_id FROM msg_text WHERE content_id IN ({marks}) AND {test}",
                    (*chunk, *params),
                )
            )
        return out


def _day(value: str) -> dt.date:
    return txn.decode_date(value).astimezone(dt.UTC).date()


def _compare(op: q.DateOp, day: dt.date, date: dt.date) -> bool:
    if op is q.DateOp.BEFORE:
        return day < date
    if op is q.DateOp.ON:
        return day == date
    return day >= date


def _cost(node: q.Query) -> int:
    """Rough evaluation cost, to try cheap tests first inside an And."""
    match node:
        case q.TextContains() | q.HeaderContains():
            return 3
        case q.And(parts=parts) | q.Or(parts=parts):
            return max((_cost(p) for p in parts), default=0)
        case q.Not(part=part):
            return _cost(part)
        case _:
            return 0


def _text_pred(ctx: _Context, node: q.TextContains) -> Pred:
    value = q.fold(node.value)
    cached: list[set[int] | None] = []

    def pred(row: Row) -> bool:
        if not cached:
            cached.append(ctx.matches(node.body_only, value))
        found = cached[0]
        cid = row[_CID]
        if found is not None:
            return cid in found
        headers, body = ctx.text(cid)
        if value in body:
            return True
        # TEXT: header or body (RFC 9051 §6.4.4); alternatives never join across ALT.
        return not node.body_only and any(value in part for part in headers.split(ALT))

    return pred


def _header_pred(ctx: _Context, node: q.HeaderContains) -> Pred:
    name = node.field.lower()
    value = q.fold(node.value)
    cached: list[set[int] | None] = []

    def pred(row: Row) -> bool:
        cid = row[_CID]
        if value:
            if not cached:
                cached.append(ctx.candidates("headers", value))
            cands = cached[0]
            if cands is not None and cid not in cands:
                return False
        values = header_values(ctx.text(cid)[0], name)
        if not value:
            return bool(values)  # RFC 9051 §6.4.4: HEADER field "" matches when present
        return any(value in alt for v in values for alt in v.split(ALT))

    return pred


def _compile(ctx: _Context, node: q.Query) -> Pred:
    match node:
        case q.MatchAll():
            return lambda row: True
        case q.FlagTest(flag=flag, present=present):
            bit = _SYSTEM_BITS.get(flag.lower())
            if bit is not None:
                return lambda row: bool(row[_BITS] & bit) == present
            if flag.lower() == "\\recent":
                return lambda row: not present  # never stored; the server resolves it
            key = fl.fold(flag)
            return lambda row: (key in {fl.fold(k) for k in row[_KW].split()}) == present
        case q.HeaderContains():
            return _header_pred(ctx, node)
        case q.TextContains():
            return _text_pred(ctx, node)
        case q.DateTest(field=q.DateField.INTERNAL, op=op, date=date):
            return lambda row: _compare(op, _day(row[_DATE]), date)
        case q.DateTest(field=q.DateField.SENT, op=op, date=date):
            ctx.needs_sent = True

            def sent(row: Row) -> bool:
                raw = row[_SENT_DAY]
                day = _day(row[_DATE]) if raw is None else dt.date.fromisoformat(raw)
                return _compare(op, day, date)

            return sent
        case q.DateTest(field=q.DateField.SAVED, op=op, date=date):
            ctx.needs_saved = True
            return lambda row: _compare(op, _day(row[_SAVED] or row[_DATE]), date)
        case q.EmailIdIs(object_id=oid):
            ids = {
                int(r[0])
                for r in ctx.conn.execute("SELECT id FROM contents WHERE emailid = ?", (oid,))
            }
            return lambda row: row[_CID] in ids
        case q.ThreadIdIs(object_id=oid):
            ctx.needs_thread = True
            return lambda row: row[_THREAD] == oid
        case q.TimeTest(at_or_before=before, when=when):
            if before:
                return lambda row: txn.decode_date(row[_DATE]) <= when
            return lambda row: txn.decode_date(row[_DATE]) >= when
        case q.SizeTest(larger=larger, size=size):
            ctx.needs_size = True
            if larger:
                return lambda row: (row[_SIZE] or 0) > size
            return lambda row: (row[_SIZE] or 0) < size
        case q.UidRanges(ranges=ranges):
            return _in_ranges(ranges)
        case q.ModSeqAtLeast(modseq=modseq):
            return lambda row: row[_MODSEQ] >= modseq
        case q.And(parts=parts):
            preds = [_compile(ctx, p) for p in sorted(parts, key=_cost)]
            return lambda row: all(p(row) for p in preds)
        case q.Or(parts=parts):
            preds = [_compile(ctx, p) for p in sorted(parts, key=_cost)]
            return lambda row: any(p(row) for p in preds)
        case q.Not(part=part):
            inner = _compile(ctx, part)
            return lambda row: not inner(row)
    raise AssertionError(f"unknown query node {node!r}")


_said_disabled: list[bool] = [False]  # logged once per process while the index is off


def _index_usable(conn: sqlite3.Connection) -> bool:
    ok = index.fts_ok(conn)
    if not ok and not _said_disabled[0]:
        log.warning("full-text index disabled or being rebuilt: searches scan")
    _said_disabled[0] = not ok
    return ok


def _top_uids(node: q.Query) -> q.UidRanges | None:
    """A UID restriction every match must satisfy, for the SELECT."""
    if isinstance(node, q.UidRanges):
        return node
    if isinstance(node, q.And):
        for part in node.parts:
            if isinstance(part, q.UidRanges):
                return part
    return None


def run_search(
    conn: sqlite3.Connection, mailbox_id: int, query: q.Query, *, use_index: bool = True
) -> list[tuple[int, int]]:
    """(uid, modseq) of the matching messages, ascending by UID."""
    ctx = _Context(conn, use_index and _index_usable(conn), mailbox_id)
    pred = _compile(ctx, query)
    where = "m.mailbox_id = ?"
    params: list[int | str] = [mailbox_id]
    top = _top_uids(query)
    if top is not None:
        if not top.ranges:
            return []
        if len(top.ranges) <= txn.MAX_RANGES:
            where += " AND (" + " OR ".join("m.uid BETWEEN ? AND ?" for _ in top.ranges) + ")"
            params.extend(b for pair in top.ranges for b in pair)
    size = "c.size" if ctx.needs_size else "NULL"
    sent = "f.sent_day" if ctx.needs_sent else "NULL"
    saved = "m.save_date" if ctx.needs_saved else "NULL"
    thread = "m.thread" if ctx.needs_thread else "NULL"
    joins = ""
    if ctx.needs_size:
        joins += " JOIN contents c ON c.id = m.content_id"
    if ctx.needs_sent:
        joins += " LEFT JOIN msg_fields f ON f.content_id = m.content_id"
    sql = (
        "SELECT m.uid, m.sysflags, m.keywords, m.modseq, m.internal_date, m.content_id,"
        f" {size}, {sent}, {saved}, {thread} FROM messages m{joins} WHERE {where} ORDER BY m.uid"
    )
    rows: list[Row] = conn.execute(sql, params).fetchall()
    return [(row[_UID], row[_MODSEQ]) for row in rows if pred(row)]


def _in_ranges(ranges: tuple[tuple[int, int], ...]) -> Pred:
    starts = [lo for lo, _ in ranges]

    def pred(row: Row) -> bool:
        i = bisect.bisect_right(starts, row[_UID]) - 1
        return i >= 0 and row[_UID] <= ranges[i][1]

    return pred


_SORT_COLUMNS = (
    "m.uid, m.internal_date, c.size, f.sent, f.base_subject, f.is_reply, f.from_mailbox,"
    " f.from_display, f.to_mailbox, f.to_display, f.cc_mailbox, f.message_id, f.refs"
)

SortRow = tuple[
    int,
    str,
    int,
    str | None,
    str | None,
    int | None,
    str | None,
    str | None,
    str | None,
    str | None,
    str | None,
    str | None,
    str | None,
]


def sort_rows(conn: sqlite3.Connection, mailbox_id: int, uids: Sequence[int]) -> list[SortRow]:
    """The stored sort and threading fields of the existing messages among `uids`."""
    clause, params = txn.uid_clause("m.uid", uids)
    rows: list[SortRow] = conn.execute(
        f"SELECT {_SORT_COLUMNS} FROM messages m JOIN contents c ON c.id = m.content_id"
        " LEFT JOIN msg_fields f ON f.content_id = m.content_id"
        f" WHERE m.mailbox_id = ? AND {clause} ORDER BY m.uid",
        (mailbox_id, *params),
    ).fetchall()
    return rows
