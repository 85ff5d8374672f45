"""SELECT, EXAMINE, CLOSE, UNSELECT, CHECK and EXPUNGE (RFC 9051 §6.3.2, §6.4; RFC 7162)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from buzon.imap import commands as c
from buzon.imap.commands_values import SequenceSet
from buzon.imap.responses import (
    Code,
    CodeNumber,
    ExistsData,
    FetchData,
    FetchFlags,
    FetchModSeq,
    FetchUid,
    MailboxId,
    RecentData,
    UntaggedStatus,
    VanishedData,
)
from buzon.imap.words import ResponseCode, Status
from buzon.server import rev2, selection
from buzon.server.outcome import Bad, No, Ok
from buzon.server.selected import BadSequence, SelectedMailbox
from buzon.server.session import State
from buzon.storage.api import Mailbox, ModSeq, Uid

if TYPE_CHECKING:
    from buzon.server.connection import Connection


async def handle_select(conn: Connection, cmd: c.Select) -> Ok:
    """RFC 9051 §6.3.2."""
    return await _open(
        conn, cmd.mailbox, read_only=False, condstore=cmd.condstore, qresync=cmd.qresync
    )


async def handle_examine(conn: Connection, cmd: c.Examine) -> Ok:
    """RFC 9051 §6.3.3: SELECT without changes, \\Recent untouched."""
    return await _open(
        conn, cmd.mailbox, read_only=True, condstore=cmd.condstore, qresync=cmd.qresync
    )


async def _open(
    conn: Connection, name: str, *, read_only: bool, condstore: bool, qresync: c.QResync | None
) -> Ok:
    session = conn.session
    account = session.account
    assert account is not None
    if qresync is not None and selection.QRESYNC not in session.enabled:
        # RFC 7162 §3.2.5: QRESYNC parameters need ENABLE QRESYNC first.
        raise Bad("QRESYNC needs ENABLE QRESYNC first")
    if conn.selection is not None:
        selection.close(conn)
        session.state = State.AUTHENTICATED
        # RFC 7162 §3.2.11: the previous mailbox is closed; say so before the new data.
        await conn.send(
            UntaggedStatus(Status.OK, "Previous mailbox closed", Code(ResponseCode.CLOSED))
        )
    if condstore:
        # RFC 7162 §3.1.8: SELECT (CONDSTORE) is a CONDSTORE enabling command.
        session.enabled.add(selection.CONDSTORE)
    mailbox = await account.open_mailbox(name, read_only=read_only)
    is_rev2 = rev2.on(session)
    # RFC 9051 Appendix E item 12: no \Recent in rev2, so a rev2 session claims none.
    snapshot = await mailbox.snapshot(claim_recent=not read_only and not is_rev2)
    if is_rev2:
        snapshot = dataclasses.replace(snapshot, recent=())
    view = SelectedMailbox(snapshot, read_only=read_only)
    sel = selection.Selection(mailbox, view, wake=conn.wake, feed=conn.ctx.feed)
    for response in selection.flags_responses(snapshot.keywords, read_only=read_only):
        await conn.send(response)
    await conn.send(ExistsData(view.exists))
    if not is_rev2:  # RFC 9051 Appendix E items 11, 12: no RECENT, no UNSEEN code
        await conn.send(RecentData(view.recent_count))
    # RFC 9586 §3: a UIDONLY session is sent no message numbers; UNSEEN is one.
    uidonly = selection.UIDONLY in session.enabled
    if snapshot.first_unseen is not None and not is_rev2 and not uidonly:
        msn = view.msn_of(snapshot.first_unseen)
        if msn is not None:
            await conn.send(
                UntaggedStatus(
                    Status.OK,
                    f"Message {msn} is first unseen",
                    CodeNumber(ResponseCode.UNSEEN, msn),
                )
            )
    await conn.send(
        UntaggedStatus(
            Status.OK, "UIDs valid", CodeNumber(ResponseCode.UIDVALIDITY, snapshot.uidvalidity)
        )
    )
    await conn.send(
        UntaggedStatus(
            Status.OK, "Predicted next UID", CodeNumber(ResponseCode.UIDNEXT, snapshot.uidnext)
        )
    )
    if mailbox.info.objectid:
        # RFC 8474 §4.2: every successful SELECT and EXAMINE reports the MAILBOXID.
        await conn.send(UntaggedStatus(Status.OK, "Ok", MailboxId(mailbox.info.objectid)))
    if selection.condstore_on(conn):
        # RFC 7162 §3.1.2.1: after a CONDSTORE enabling command, every SELECT reports it.
        await conn.send(
            UntaggedStatus(
                Status.OK,
                "Highest",
                CodeNumber(ResponseCode.HIGHESTMODSEQ, snapshot.highest_modseq),
            )
        )
    if is_rev2:
        # RFC 9051 §6.3.2: "The server MUST return a LIST response with the mailbox name."
        listed = await rev2.select_list(conn, mailbox.info.name)
        if listed is not None:
            await conn.send(listed)
    if qresync is not None and qresync.uidvalidity == snapshot.uidvalidity:
        await _resync(conn, mailbox, view, qresync)
    sel.subscription = conn.ctx.store.bus.subscribe(account.name, sel.on_notice)
    # A change committed between the snapshot and the subscription is pulled right away.
    sel.dirty = True
    conn.selection = sel
    session.state = State.SELECTED
    code = ResponseCode.READ_ONLY if read_only else ResponseCode.READ_WRITE
    return Ok(code=Code(code))


async def _resync(
    conn: Connection, mailbox: Mailbox, view: SelectedMailbox, params: c.QResync
) -> None:
    """RFC 7162 §3.2.5.1: VANISHED (EARLIER) and FETCH for what changed since `modseq`."""
    changes = await mailbox.changes_since(ModSeq(params.modseq))
    known = params.known_uids
    largest = changes.uidnext - 1
    expunged = [u for u in changes.expunged if known is None or known.contains(u, largest)]
    if expunged:
        await conn.send(VanishedData(expunged, earlier=True))
    for flags in changes.updated:
        msn = view.msn_of(flags.uid)
        if msn is None:
            continue
        shown = view.shown_flags(flags.uid, flags.flags)
        await conn.send(
            FetchData(
                msn,
                (FetchUid(flags.uid), FetchFlags(tuple(sorted(shown))), FetchModSeq(flags.modseq)),
            )
        )


def _selected(conn: Connection) -> selection.Selection:
    sel = conn.selection
    assert sel is not None, "the registry only admits selected sessions"
    return sel


async def handle_close(conn: Connection, cmd: c.Close) -> Ok:
    """RFC 9051 §6.4.1: expunge silently (read-write only), then leave the selected state."""
    sel = _selected(conn)
    if not sel.view.read_only:
        await sel.mailbox.expunge()
    selection.close(conn)
    conn.session.state = State.AUTHENTICATED
    return Ok()


async def handle_unselect(conn: Connection, cmd: c.Unselect) -> Ok:
    """RFC 3691 §2: leave the selected state without expunging."""
    selection.close(conn)
    conn.session.state = State.AUTHENTICATED
    return Ok()


async def handle_check(conn: Connection, cmd: c.Check) -> Ok:
    """RFC 3501 §6.4.1: every acknowledged change is already durable; nothing to do."""
    return Ok()


async def handle_expunge(conn: Connection, cmd: c.Expunge) -> Ok:
    """RFC 9051 §6.4.3, UID EXPUNGE of RFC 4315 §2.1 (and RFC 9051 §6.4.9)."""
    sel = _selected(conn)
    if sel.view.read_only:
        raise No("The mailbox is read-only", Code(ResponseCode.READ_ONLY))
    uids: list[Uid] | None = None
    if cmd.uid_set is not None:
        uids = resolve(sel.view, cmd.uid_set, uid=True)
    removed = await sel.mailbox.expunge(uids)
    sel.view.note_expunged(removed)
    sel.dirty = True
    return Ok()


def resolve(view: SelectedMailbox, seqset: SequenceSet, *, uid: bool) -> list[Uid]:
    """The UIDs a command's sequence set names (RFC 9051 §6.4.x); BAD for a bad number."""
    if seqset.saved:
        # RFC 5182 §2.1: "$" is the saved result; messages expunged since are left out.
        return [u for u in view.saved if view.msn_of(u) is not None]
    try:
        return view.resolve_uids(seqset) if uid else view.resolve_msns(seqset)
    except BadSequence as exc:
        raise Bad(str(exc)) from None
