"""STORE, COPY and MOVE, with their UID forms (RFC 9051 §6.4.6-§6.4.9, RFC 6851, RFC 7162)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from buzon.imap import commands as c
from buzon.imap.commands_values import StoreOperation
from buzon.imap.responses import (
    Code,
    CopyUid,
    FetchData,
    FetchFlags,
    FetchItem,
    FetchModSeq,
    FetchUid,
    Modified,
    UntaggedStatus,
)
from buzon.imap.words import ResponseCode, Status
from buzon.server import selection
from buzon.server.cmd_select import resolve
from buzon.server.outcome import No, Ok
from buzon.server.selected import RECENT_FLAG
from buzon.storage.api import CopyResult, FlagOp, ModSeq, NotFound

if TYPE_CHECKING:
    from buzon.server.connection import Connection

_OPS = {
    StoreOperation.REPLACE: FlagOp.REPLACE,
    StoreOperation.ADD: FlagOp.ADD,
    StoreOperation.REMOVE: FlagOp.REMOVE,
}


def _selection(conn: Connection) -> selection.Selection:
    sel = conn.selection
    assert sel is not None, "the registry only admits selected sessions"
    return sel


async def handle_store(conn: Connection, cmd: c.Store) -> Ok:
    """RFC 9051 §6.4.6; UNCHANGEDSINCE of RFC 7162 §3.1.3."""
    sel = _selection(conn)
    view = sel.view
    if view.read_only:
        raise No("The mailbox is read-only", Code(ResponseCode.READ_ONLY))
    if cmd.unchangedsince is not None:
        conn.session.enabled.add(selection.CONDSTORE)
    uids = [u for u in resolve(view, cmd.sequence_set, uid=cmd.uid) if not view.is_expunged(u)]
    # RFC 3501 §2.3.2: \Recent is the server's to set; a client asking for it is ignored.
    flags = frozenset(f for f in cmd.flags if f != RECENT_FLAG)
    result = await sel.mailbox.store_flags(
        uids,
        _OPS[cmd.operation],
        flags,
        unchanged_since=None if cmd.unchangedsince is None else ModSeq(cmd.unchangedsince),
    )
    view.note_flags(result.updated)
    condstore = selection.condstore_on(conn)
    answers: list[FetchData] = []
    for mf in result.updated:
        msn = view.msn_of(mf.uid)
        # RFC 7162 §3.1.3: with UNCHANGEDSINCE the FETCH is sent even for .SILENT.
        if msn is None or (cmd.silent and cmd.unchangedsince is None):
            continue
        items: list[FetchItem] = []
        if cmd.uid:
            items.append(FetchUid(mf.uid))
        if not cmd.silent:
            items.append(FetchFlags(tuple(sorted(view.shown_flags(mf.uid, mf.flags)))))
        if condstore:
            items.append(FetchModSeq(mf.modseq))
        answers.append(FetchData(msn, tuple(items)))
    await conn.send_all(answers)
    sel.dirty = True
    if result.modified:
        numbers = list(result.modified) if cmd.uid else view.msns_of(result.modified)
        return Ok("Conditional STORE failed for some messages", Modified(numbers))
    return Ok()


async def _transfer(conn: Connection, cmd: c.Copy | c.Move, *, move: bool) -> CopyResult | None:
    sel = _selection(conn)
    view = sel.view
    if move and view.read_only:
        raise No("The mailbox is read-only", Code(ResponseCode.READ_ONLY))
    uids = [u for u in resolve(view, cmd.sequence_set, uid=cmd.uid) if not view.is_expunged(u)]
    if not uids:
        return None
    try:
        if move:
            return await sel.mailbox.move(uids, cmd.mailbox)
        return await sel.mailbox.copy(uids, cmd.mailbox)
    except NotFound:
        # RFC 9051 §6.4.7: a missing destination gets [TRYCREATE].
        raise No(f"Mailbox {cmd.mailbox} does not exist", Code(ResponseCode.TRYCREATE)) from None


def _copyuid(result: CopyResult) -> CopyUid:
    return CopyUid(result.uidvalidity, result.source_uids, result.dest_uids)


async def handle_copy(conn: Connection, cmd: c.Copy) -> Ok:
    """RFC 9051 §6.4.7 with COPYUID (RFC 4315 §3)."""
    result = await _transfer(conn, cmd, move=False)
    if result is None or not result.source_uids:
        return Ok("No messages copied")
    return Ok(code=_copyuid(result))


async def handle_move(conn: Connection, cmd: c.Move) -> Ok:
    """RFC 6851 §3: copy and expunge atomically; COPYUID in an untagged OK first (§4.3)."""
    result = await _transfer(conn, cmd, move=True)
    if result is None or not result.source_uids:
        return Ok("No messages moved")
    sel = _selection(conn)
    await conn.send(UntaggedStatus(Status.OK, "Moved", _copyuid(result)))
    sel.view.note_expunged(result.source_uids)
    sel.dirty = True
    return Ok()
