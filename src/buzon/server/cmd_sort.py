"""SORT and THREAD, with their UID forms (RFC 5256 §3, RFC 5957 §3).

Both first search like SEARCH (`search.matches`), then ask storage for the keys computed
at delivery (`Mailbox.sort_fields`) and order or thread them here. No message is opened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from buzon.imap import commands_ext as cx
from buzon.imap.responses import SortData, ThreadData, ThreadNode
from buzon.server import search, sorting, threading_
from buzon.server.outcome import Bad, Ok
from buzon.server.selected import SelectedMailbox

if TYPE_CHECKING:
    from buzon.server.connection import Connection

ALGORITHMS = ("ORDEREDSUBJECT", "REFERENCES")


async def handle_sort(conn: Connection, cmd: cx.Sort) -> Ok:
    """RFC 5256 §BASE.6.4.SORT; (MODSEQ n) as for SEARCH (RFC 7162 §3.1.5)."""
    if cmd.returns is not None:
        raise Bad("SORT RETURN (ESORT) is not supported")
    sel = conn.selection
    assert sel is not None
    uids, modseqs = await search.matches(conn, cmd.key, cmd.charset)
    fields = await sel.mailbox.sort_fields(uids) if uids else []
    ordered = sorting.sort_uids(fields, cmd.criteria)
    view = sel.view
    numbers = list(ordered) if cmd.uid else list(view.msns_of(ordered))
    top = max(modseqs) if search.uses_modseq(cmd.key) and modseqs else None
    await conn.send(SortData(numbers, top))
    return Ok()


def _node(tree: threading_.Tree, view: SelectedMailbox, uid: bool) -> ThreadNode:
    number: int | None = tree.uid()
    if number is not None and not uid:
        number = view.msn_of(tree.message.uid) if tree.message is not None else None
    return ThreadNode(number, tuple(_node(child, view, uid) for child in tree.children))


async def handle_thread(conn: Connection, cmd: cx.Thread) -> Ok:
    """RFC 5256 §BASE.6.4.THREAD."""
    if cmd.algorithm not in ALGORITHMS:
        raise Bad(f"Unknown threading algorithm {cmd.algorithm}")
    sel = conn.selection
    assert sel is not None
    uids, _ = await search.matches(conn, cmd.key, cmd.charset)
    fields = await sel.mailbox.sort_fields(uids) if uids else []
    if cmd.algorithm == "ORDEREDSUBJECT":
        trees = threading_.ordered_subject(fields)
    else:
        trees = threading_.references(fields)
    view = sel.view
    await conn.send(ThreadData(tuple(_node(t, view, cmd.uid) for t in trees)))
    return Ok()
