"""REPLACE and UID REPLACE (RFC 8508): append a new message, expunge the old, atomically.

The new message goes through exactly what APPEND checks (flags, date, CATENATE,
APPENDLIMIT, 8-bit headers, TRYCREATE, quota), then storage appends it and expunges the
old one in one transaction (`Mailbox.replace`), so a failure leaves both mailboxes as they
were (RFC 8508 §3.4). The APPENDUID goes out in an untagged OK before the EXPUNGE (or
VANISHED under QRESYNC), as RFC 8508 §4.3 advises; the expunge itself is announced by the
usual drain after the command, like MOVE's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from buzon.imap import commands as c
from buzon.imap import commands_ext as cx
from buzon.imap.responses import AppendUid, Code, UntaggedStatus
from buzon.imap.words import ResponseCode, Status
from buzon.mime import normalize_crlf
from buzon.server import catenate, rev2
from buzon.server.outcome import Bad, No, Ok
from buzon.server.selected import RECENT_FLAG, Msn
from buzon.storage.api import AppendRequest, Mailbox, NotFound, Uid

if TYPE_CHECKING:
    from buzon.server.connection import Connection


async def append_request(conn: Connection, message: c.AppendMessage) -> AppendRequest:
    """The storage request for one APPEND message, with APPEND's checks (RFC 9051 §6.3.12)."""
    message = await catenate.assemble(conn, message)
    assert isinstance(message.content, bytes)
    if not message.content:
        raise No("An empty message cannot be appended", Code(ResponseCode.CANNOT))
    rev2.check_append(conn, message)
    limit = conn.ctx.settings.limits.max_literal
    if len(message.content) > limit:
        # RFC 7889 §4: over APPENDLIMIT.
        raise No(f"Message is larger than the limit of {limit} octets", Code(ResponseCode.TOOBIG))
    return AppendRequest(
        normalize_crlf(message.content),
        frozenset(f for f in message.flags if f != RECENT_FLAG),
        message.internal_date,
    )


async def handle_replace(conn: Connection, cmd: cx.Replace) -> Ok:
    """RFC 8508 §3.2-§3.4."""
    sel = conn.selection
    assert sel is not None, "the registry only admits selected sessions"
    view = sel.view
    if view.read_only:
        raise No("The mailbox is read-only", Code(ResponseCode.READ_ONLY))
    if cmd.uid:
        uid: Uid | None = Uid(cmd.number) if view.msn_of(Uid(cmd.number)) is not None else None
    else:
        if cmd.number > view.exists:
            # RFC 9051 §9: a sequence number above the message count is invalid.
            raise Bad(f"No message with sequence number {cmd.number}")
        uid = view.uid_at(Msn(cmd.number))
    if uid is None or view.is_expunged(uid):
        raise No("The message to replace does not exist", Code(ResponseCode.NONEXISTENT))
    request = await append_request(conn, cmd.message)
    account = conn.session.account
    assert account is not None
    target: Mailbox
    if cmd.mailbox == sel.mailbox.info.name:
        target = sel.mailbox
    else:
        try:
            target = await account.open_mailbox(cmd.mailbox)
        except NotFound:
            # RFC 8508 §3.4: TRYCREATE as for APPEND (RFC 9051 §6.3.12).
            raise No(
                f"Mailbox {cmd.mailbox} does not exist", Code(ResponseCode.TRYCREATE)
            ) from None
    try:
        result = await sel.mailbox.replace(uid, target, request)
    except NotFound:
        if target is not sel.mailbox:
            raise
        raise No("The message to replace does not exist", Code(ResponseCode.NONEXISTENT)) from None
    # RFC 8508 §4.3: APPENDUID in an untagged OK before the EXPUNGE.
    append_uid = AppendUid(result.uidvalidity, result.dest_uids)
    await conn.send(UntaggedStatus(Status.OK, "Replacement Message ready", append_uid))
    view.note_expunged(result.source_uids)
    sel.dirty = True
    return Ok()
