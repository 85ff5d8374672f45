"""ESORT: SORT with RETURN options, answered as ESEARCH (RFC 5267 §3, RFC 9394 §3, RFC 5182).

Theory of operation
-------------------
The extended SORT "always returns results in the requested sort order, but is otherwise
identical in its behaviour to the extended SEARCH command" (RFC 5267 §3). So the options
mean what they mean for SEARCH, over the sorted list instead of the mailbox-ordered one:
MIN and MAX are the first and last message in sort order (§3.1), ALL lists every match in
sort order as a sequence-set whose ranges only ever ascend (§3.2), PARTIAL m:n slices the
sorted list (RFC 9394 §3.1, positions counted in the sort order; -1 is the last sorted),
COUNT is the count. SAVE keeps a result for "$" (RFC 5182 §1: "as well as any command
based on SEARCH, e.g., SORT and THREAD"); what it keeps follows RFC 5182 §2.4 and the
table of RFC 9394 §3.2. "$" is a set, so it is saved in UID order.

`answer` computes the items and the saved UIDs from the sorted list; it is pure, so the
handler (`cmd_sort.handle_sort`) only sends what it returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from buzon.imap.commands import SearchReturn
from buzon.imap.responses import (
    ESearchAll,
    ESearchCount,
    ESearchItem,
    ESearchMax,
    ESearchMin,
    ESearchModSeq,
    ESearchPartial,
)
from buzon.storage.api import ModSeq, Uid

__all__ = ["Answer", "answer", "window"]


@dataclass(frozen=True, slots=True)
class Answer:
    """What an extended SORT returns: ESEARCH items (None: send no ESEARCH) and "$"."""

    items: tuple[ESearchItem, ...] | None
    saved: tuple[Uid, ...] | None  # None: "$" is left as it was


def window(count: int, bounds: tuple[int, int]) -> range:
    """RFC 9394 §3.1: positions (0-based) of a 1-based slice, negatives counting from the end."""
    lo, hi = bounds
    if lo > 0:
        return range(min(lo - 1, count), min(hi, count))
    start = max(count + lo, 0)  # -100:-1 -> the last hundred
    stop = max(count + hi + 1, 0)
    return range(min(start, stop), stop)


def answer(
    returns: frozenset[SearchReturn],
    partial: tuple[int, int] | None,
    uids: Sequence[Uid],
    numbers: Sequence[int],
    modseqs: Sequence[ModSeq] | None,
) -> Answer:
    """The ESEARCH items for `uids` (in sort order) and their `numbers` (UIDs or MSNs).

    `modseqs` (parallel to `uids`) is given when the search program used MODSEQ: the items
    then end with the highest modseq of the messages returned (RFC 7162 §3.1.10).
    """
    n = len(uids)
    wants = returns
    picked: list[int] = []  # positions of the messages the response reports
    items: list[ESearchItem] = []
    if n and SearchReturn.MIN in wants:
        items.append(ESearchMin(numbers[0]))  # RFC 5267 §3.1: "the lowest sorted message"
        picked.append(0)
    if n and SearchReturn.MAX in wants:
        items.append(ESearchMax(numbers[-1]))
        picked.append(n - 1)
    if SearchReturn.COUNT in wants:
        items.append(ESearchCount(n))
        picked.extend(range(n))
    if n and SearchReturn.ALL in wants:
        items.append(ESearchAll(list(numbers), ordered=True))  # RFC 5267 §3.2
        picked.extend(range(n))
    part: range = range(0)
    if SearchReturn.PARTIAL in wants and partial is not None:
        lo, hi = partial
        part = window(n, partial)
        first, last = (lo, hi) if lo > 0 else (hi, lo)
        items.append(ESearchPartial(first, last, [numbers[i] for i in part], ordered=True))
        picked.extend(part)
    if modseqs is not None and picked:
        items.append(ESearchModSeq(max(modseqs[i] for i in picked)))
    saved: tuple[Uid, ...] | None = None
    if SearchReturn.SAVE in wants:
        saved = tuple(sorted(uids[i] for i in _to_save(wants, n, part)))
        if wants == {SearchReturn.SAVE}:
            return Answer(None, saved)  # RFC 5182 §2.4: SAVE alone returns no ESEARCH
    return Answer(tuple(items), saved)


def _to_save(wants: frozenset[SearchReturn], n: int, part: range) -> set[int]:
    """Positions "$" keeps: RFC 5182 §2.4, and RFC 9394 §3.2 Table 1 with PARTIAL."""
    every = set(range(n))
    ends: set[int] = set()
    if n and SearchReturn.MIN in wants:
        ends.add(0)
    if n and SearchReturn.MAX in wants:
        ends.add(n - 1)
    if SearchReturn.ALL in wants or SearchReturn.COUNT in wants:
        return every
    if SearchReturn.PARTIAL in wants:
        return set(part) | ends  # SAVE PARTIAL [MIN] [MAX]: what PARTIAL returned, and those
    if SearchReturn.MIN in wants or SearchReturn.MAX in wants:
        return ends  # RFC 5182 §2.4: MIN and/or MAX alone save only those
    return every
