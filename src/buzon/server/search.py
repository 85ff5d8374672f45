"""SEARCH and UID SEARCH (RFC 9051 §6.4.4, RFC 3501 §6.4.4), ESEARCH, SEARCHRES, PARTIAL.

Theory of operation
-------------------
`to_query` translates the reader's search-key tree into the protocol-neutral
`storage.query` tree. What only the session knows is resolved here: sequence numbers and
UID sets (against the selected view, so `*` and `$` mean what the client sees), \\Recent
(the session's own set), OLDER/YOUNGER (RFC 5032, against the clock now). Storage then
returns matching UIDs; those the client does not know yet (not announced) are dropped.

The result is answered as `* SEARCH` (with `(MODSEQ n)` when the program used MODSEQ,
RFC 7162 §3.1.5) or, with RETURN, as one `* ESEARCH` (RFC 4731 §3.1) whose options
MIN/MAX/COUNT/ALL/PARTIAL (RFC 9394) are computed from the same list. SAVE (RFC 5182)
keeps the UIDs on the view for `$`.

Internal dates compare by their UTC day (the server's time zone is UTC); sent dates by
the day written in the Date: header (RFC 9051 §6.4.4: time and zone disregarded).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from buzon.imap import commands as c
from buzon.imap import searchkeys as k
from buzon.imap.commands_values import SequenceSet
from buzon.imap.responses import (
    BadCharset,
    ESearchAll,
    ESearchCount,
    ESearchData,
    ESearchItem,
    ESearchMax,
    ESearchMin,
    ESearchModSeq,
    ESearchPartial,
    SearchData,
)
from buzon.server import rev2, selection
from buzon.server.cmd_select import resolve
from buzon.server.outcome import Bad, No, Ok
from buzon.server.selected import SelectedMailbox
from buzon.storage import query as q
from buzon.storage.api import ModSeq, SearchResult, Uid

if TYPE_CHECKING:
    from buzon.server.connection import Connection

__all__ = [
    "check_charset",
    "handle_search",
    "matches",
    "result_items",
    "saved_result",
    "to_query",
    "uses_modseq",
]

# RFC 9051 §6.4.4: "US-ASCII and UTF-8 charsets MUST be implemented"; the others are not.
CHARSETS = ("US-ASCII", "UTF-8")
_DATE_FIELDS = {
    k.DateField.INTERNAL: q.DateField.INTERNAL,
    k.DateField.SENT: q.DateField.SENT,
    k.DateField.SAVED: q.DateField.SAVED,  # RFC 8514 §4.3
}
_DATE_OPS = {
    k.DateOp.BEFORE: q.DateOp.BEFORE,
    k.DateOp.ON: q.DateOp.ON,
    k.DateOp.SINCE: q.DateOp.SINCE,
}


def check_charset(charset: str | None) -> None:
    """RFC 9051 §6.4.4: an unsupported charset is NO [BADCHARSET (charsets)]."""
    if charset is not None and charset.upper() not in CHARSETS:
        raise No(f"Unsupported charset {charset}", BadCharset(CHARSETS))


def _uids(view: SelectedMailbox, seqset: SequenceSet, *, uid: bool) -> q.UidRanges:
    return q.UidRanges.of(list(resolve(view, seqset, uid=uid)))


def to_query(key: k.SearchKey, view: SelectedMailbox, now: dt.datetime) -> q.Query:
    """The storage query for a search key; Bad for keys this server does not offer."""
    match key:
        case k.All():
            return q.MatchAll()
        case k.FlagKey(flag=flag, present=present):
            if flag.lower() == "\\recent":
                # RFC 3501 §2.3.2: \Recent is this session's, the view knows it.
                recent = q.UidRanges.of([u for u in view.recent if view.msn_of(u) is not None])
                return recent if present else q.Not(recent)
            return q.FlagTest(flag, present)
        case k.HeaderKey(field=field, value=value):
            return q.HeaderContains(field.lower(), value)
        case k.TextKey(scope=scope, value=value):
            return q.TextContains(value, body_only=scope is k.TextScope.BODY)
        case k.DateKey(field=field, op=op, date=date):
            return q.DateTest(_DATE_FIELDS[field], _DATE_OPS[op], date)
        case k.SizeKey(larger=larger, size=size):
            return q.SizeTest(larger, size)
        case k.SequenceKey(sequence_set=seqset):
            return _uids(view, seqset, uid=False)
        case k.UidKey(sequence_set=seqset):
            return _uids(view, seqset, uid=True)
        case k.SaveDateSupported():
            # RFC 8514 §4.3: every mailbox here has save dates, so it matches every message.
            return q.MatchAll()
        case k.EmailIdKey(object_id=oid):
            return q.EmailIdIs(oid)  # RFC 8474 §6
        case k.ThreadIdKey(object_id=oid):
            return q.ThreadIdIs(oid)
        case k.ModSeqKey(modseq=modseq):
            # RFC 7162 §3.1.5: one modseq per message here, whatever the entry named.
            return q.ModSeqAtLeast(modseq)
        case k.AgeKey(older=older, seconds=seconds):
            # RFC 5032 §3: OLDER is <= now - n, YOUNGER is >= now - n.
            return q.TimeTest(older, now - dt.timedelta(seconds=seconds))
        case k.Not(key=inner):
            return q.Not(to_query(inner, view, now))
        case k.Or(left=left, right=right):
            return q.Or((to_query(left, view, now), to_query(right, view, now)))
        case k.And(keys=keys):
            return q.And(tuple(to_query(x, view, now) for x in keys))
    raise Bad("Search key not supported")


def uses_modseq(key: k.SearchKey) -> bool:
    return any(isinstance(leaf, k.ModSeqKey) for leaf in k.leaves(key))


async def matches(
    conn: Connection, key: k.SearchKey, charset: str | None
) -> tuple[list[Uid], list[ModSeq]]:
    """The known UIDs (ascending) matching a search program, and their modseqs."""
    sel = conn.selection
    assert sel is not None, "the registry only admits selected sessions"
    check_charset(charset)
    if uses_modseq(key):
        # RFC 7162 §3.1.5: SEARCH MODSEQ is a CONDSTORE enabling command.
        conn.session.enabled.add(selection.CONDSTORE)
    view = sel.view
    query = to_query(key, view, dt.datetime.now(dt.UTC))
    return known(view, await sel.mailbox.search(query))


def known(view: SelectedMailbox, result: SearchResult) -> tuple[list[Uid], list[ModSeq]]:
    """The matches the session knows of (its view), with their modseqs: a message
    delivered since the session's last EXISTS has no number for it yet."""
    uids: list[Uid] = []
    modseqs: list[ModSeq] = []
    for uid, modseq in zip(result.uids, result.modseqs, strict=True):
        if view.msn_of(uid) is not None:
            uids.append(uid)
            modseqs.append(modseq)
    return uids, modseqs


def _partial(found: Sequence[int], bounds: tuple[int, int]) -> list[int]:
    """RFC 9394 §3.1: a 1-based slice of the result, negative counting from the end."""
    lo, hi = bounds
    n = len(found)
    if lo > 0:
        return list(found[lo - 1 : hi])
    start = max(n + lo, 0)  # -100:-1 -> the last hundred
    stop = n + hi + 1
    return list(found[start:stop]) if stop > 0 else []


async def handle_search(conn: Connection, cmd: c.Search) -> Ok:
    """RFC 9051 §6.4.4; RETURN options of RFC 4731 §3.1, RFC 5182 §2.4, RFC 9394 §3."""
    sel = conn.selection
    assert sel is not None
    view = sel.view
    rev2.check_search_charset(conn, cmd.charset)
    # RFC 9051 §6.4.4: in IMAP4rev2 the answer is always ESEARCH.
    returns = rev2.search_returns(conn, cmd)
    saving = returns is not None and c.SearchReturn.SAVE in returns
    try:
        uids, modseqs = await matches(conn, cmd.key, cmd.charset)
    except No:
        if saving:
            view.saved = ()  # RFC 5182 §2.1: NO empties "$"; BAD leaves it alone
        raise
    with_modseq = uses_modseq(cmd.key)
    numbers: list[int] = list(uids) if cmd.uid else list(view.msns_of(uids))
    if returns is None:
        top = max(modseqs) if with_modseq and modseqs else None
        await conn.send(SearchData(numbers, top))
        return Ok()
    wants = returns
    if saving:
        view.saved = saved_result(uids, wants)
        if wants == {c.SearchReturn.SAVE}:
            return Ok()  # RFC 5182 §2.4: SAVE alone suppresses the ESEARCH response
    items = result_items(numbers, modseqs, wants, cmd.partial, with_modseq=with_modseq)
    await conn.send(ESearchData(cmd.tag, cmd.uid, items))
    return Ok()


def saved_result(uids: Sequence[Uid], wants: frozenset[c.SearchReturn]) -> tuple[Uid, ...]:
    """RFC 5182 §2.4: what SAVE keeps for "$"; with MIN and/or MAX alone, only those."""
    if wants & {c.SearchReturn.ALL, c.SearchReturn.COUNT} or not wants & {
        c.SearchReturn.MIN,
        c.SearchReturn.MAX,
    }:
        return tuple(uids)
    kept: list[Uid] = []
    if uids and c.SearchReturn.MIN in wants:
        kept.append(uids[0])
    if uids and c.SearchReturn.MAX in wants and uids[-1] not in kept:
        kept.append(uids[-1])
    return tuple(kept)


def result_items(
    numbers: Sequence[int],
    modseqs: Sequence[ModSeq],
    wants: frozenset[c.SearchReturn],
    partial: tuple[int, int] | None,
    *,
    with_modseq: bool,
) -> tuple[ESearchItem, ...]:
    """The ESEARCH items for an ascending result (RFC 4731 §3.1, RFC 9394 §3.1)."""
    items: list[ESearchItem] = []
    returned: list[int] = []  # indexes of the messages the response reports
    if numbers and c.SearchReturn.MIN in wants:
        items.append(ESearchMin(numbers[0]))
        returned.append(0)
    if numbers and c.SearchReturn.MAX in wants:
        items.append(ESearchMax(numbers[-1]))
        returned.append(len(numbers) - 1)
    if c.SearchReturn.COUNT in wants:
        items.append(ESearchCount(len(numbers)))
        returned.extend(range(len(numbers)))
    if numbers and c.SearchReturn.ALL in wants:
        items.append(ESearchAll(numbers))
        returned.extend(range(len(numbers)))
    if c.SearchReturn.PARTIAL in wants and partial is not None:
        lo, hi = partial
        window = _partial(range(len(numbers)), partial)
        first, last = (lo, hi) if lo > 0 else (hi, lo)
        items.append(ESearchPartial(first, last, [numbers[i] for i in window]))
        returned.extend(window)
    if with_modseq and returned:
        # RFC 7162 §3.1.10: the highest modseq of the messages the response returns.
        items.append(ESearchModSeq(max(modseqs[i] for i in returned)))
    return tuple(items)
