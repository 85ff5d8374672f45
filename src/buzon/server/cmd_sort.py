"""SORT and THREAD, with their UID forms (RFC 5256 §3, RFC 5957 §3), and ESORT (RFC 5267).

Both translate the search program like SEARCH (`search.to_query`), then let storage do
the work on the keys computed at delivery: `Mailbox.sort` orders the matches (SQL ORDER
BY), `Mailbox.thread_rows` gives the THREAD keys as tuples for `threading_`. No message
is opened. Matches the client has not been told about yet are left out, as for SEARCH.

SORT RETURN (...) is answered as one ESEARCH in sort order (RFC 5267 §3, `esort.py`).
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Sequence
from itertools import compress
from typing import TYPE_CHECKING

from buzon.imap import commands_ext as cx
from buzon.imap import searchkeys as k
from buzon.imap.commands import SearchReturn
from buzon.imap.responses import ESearchData, SortData, ThreadData, ThreadNode
from buzon.server import esort, search, selection, sorting, threading_
from buzon.server.outcome import Bad, No, Ok
from buzon.server.selected import SelectedMailbox
from buzon.storage import query as q
from buzon.storage.api import ModSeq, Uid

if TYPE_CHECKING:
    from buzon.server.connection import Connection

ALGORITHMS = ("ORDEREDSUBJECT", "REFERENCES")


def _query(conn: Connection, key: k.SearchKey, charset: str | None) -> q.Query:
    """The storage query of a search program, as `search.matches` makes it."""
    sel = conn.selection
    assert sel is not None, "the registry only admits selected sessions"
    search.check_charset(charset)
    if search.uses_modseq(key):
        # RFC 7162 §3.1.5: a MODSEQ search key is a CONDSTORE enabling command.
        conn.session.enabled.add(selection.CONDSTORE)
    return search.to_query(key, sel.view, dt.datetime.now(dt.UTC))


def _positions(view: SelectedMailbox) -> dict[Uid, int]:
    """Sequence number by UID of the messages the client knows."""
    known = view.uids()
    return dict(zip(known, range(1, len(known) + 1), strict=True))


async def handle_sort(conn: Connection, cmd: cx.Sort) -> Ok:
    """RFC 5256 §BASE.6.4.SORT; RETURN per RFC 5267 §3; (MODSEQ n) as for SEARCH (RFC 7162)."""
    sel = conn.selection
    assert sel is not None
    view = sel.view
    returns = cmd.returns
    if returns is not None and {SearchReturn.ALL, SearchReturn.PARTIAL} <= returns:
        # RFC 9394 §3.1: "either one PARTIAL, one ALL, or neither"
        raise Bad("RETURN may not have both ALL and PARTIAL")
    saving = returns is not None and SearchReturn.SAVE in returns
    try:
        query = _query(conn, cmd.key, cmd.charset)
        result = await sel.mailbox.sort(query, sorting.orders(cmd.criteria))
    except No:
        if saving:
            view.saved = ()  # RFC 5182 §2.1: NO empties "$"; BAD leaves it alone
        raise
    # Only the messages the client knows (new ones are announced later); C-level passes
    # over 100,000 UIDs rather than a Python loop.
    known = frozenset(view.uids())
    mask = list(map(known.__contains__, result.uids))
    uids: list[Uid] = list(compress(result.uids, mask))
    modseqs: list[ModSeq] = list(compress(result.modseqs, mask))
    numbers: Sequence[int] = uids if cmd.uid else list(map(_positions(view).__getitem__, uids))
    with_modseq = search.uses_modseq(cmd.key)
    if returns is None:
        top = max(modseqs) if with_modseq and modseqs else None
        await conn.send(SortData(numbers, top))
        return Ok()
    answer = esort.answer(returns, cmd.partial, uids, numbers, modseqs if with_modseq else None)
    if answer.saved is not None:
        view.saved = answer.saved
    if answer.items is not None:
        await conn.send(ESearchData(cmd.tag, cmd.uid, answer.items))
    return Ok()


def _render(
    trees: list[threading_.Tree], positions: dict[Uid, int], uid: bool
) -> tuple[ThreadNode, ...]:
    """The response's nodes, built bottom-up without recursion (threads may be deep)."""

    def number(node: threading_.Tree) -> int | None:
        found = node.uid()
        return found if found is None or uid else positions[found]

    inner: list[threading_.Tree] = []  # the nodes with children, parents first
    stack = [t for t in trees if t.children]
    while stack:
        node = stack.pop()
        inner.append(node)
        stack.extend(c for c in node.children if c.children)
    built: dict[int, ThreadNode] = {}
    for node in reversed(inner):
        built[id(node)] = ThreadNode(
            number(node),
            tuple(
                built.pop(id(c)) if c.children else ThreadNode(number(c), ()) for c in node.children
            ),
        )
    return tuple(built.pop(id(t)) if t.children else ThreadNode(number(t), ()) for t in trees)


async def handle_thread(conn: Connection, cmd: cx.Thread) -> Ok:
    """RFC 5256 §BASE.6.4.THREAD."""
    if cmd.algorithm not in ALGORITHMS:
        raise Bad(f"Unknown threading algorithm {cmd.algorithm}")
    sel = conn.selection
    assert sel is not None
    query = _query(conn, cmd.key, cmd.charset)
    rows = await sel.mailbox.thread_rows(query)
    positions = _positions(sel.view)
    known = [r for r in rows if r[0] in positions]
    # A node per message, all alive until the end: the cyclic collector would scan them
    # over and over as they are made (half the time of a 100,000-message THREAD), and
    # they hold no cycles afterwards (`threading_`), so it is paused while they are built.
    paused = gc.isenabled()
    gc.disable()
    try:
        if cmd.algorithm == "ORDEREDSUBJECT":
            trees = threading_.ordered_subject(known)
        else:
            trees = threading_.references(known)
        nodes = _render(trees, positions, cmd.uid)
    finally:
        if paused:
            gc.enable()
    await conn.send(ThreadData(nodes))
    return Ok()
