"""APPEND with MULTIAPPEND (RFC 9051 §6.3.12, RFC 3502), APPENDUID (RFC 4315 §3)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from buzon.imap import commands as c
from buzon.imap.responses import AppendUid, Code
from buzon.imap.words import ResponseCode
from buzon.mime import normalize_crlf
from buzon.server import catenate, rev2
from buzon.server.outcome import No, Ok
from buzon.server.selected import RECENT_FLAG
from buzon.storage.api import AppendRequest, NotFound

if TYPE_CHECKING:
    from buzon.server.connection import Connection


async def handle_append(conn: Connection, cmd: c.Append) -> Ok:
    """Store every message or none; the tagged OK follows the commit (and fsync)."""
    account = conn.session.account
    assert account is not None
    limit = conn.ctx.settings.limits.max_literal
    requests: list[AppendRequest] = []
    for message in cmd.messages:
        # RFC 4469 §3: CATENATE parts are joined (URLs resolved) before anything is stored.
        message = await catenate.assemble(conn, message)  # noqa: PLW2901
        assert isinstance(message.content, bytes)
        if not message.content:
            raise No("An empty message cannot be appended", Code(ResponseCode.CANNOT))
        rev2.check_append(conn, message)  # RFC 6855 §4: 8-bit headers need UTF8=ACCEPT
        if len(message.content) > limit:
            # RFC 7889 §4: over APPENDLIMIT.
            raise No(
                f"Message is larger than the limit of {limit} octets", Code(ResponseCode.TOOBIG)
            )
        # Be lenient: bare LF line ends are stored as CRLF, so RFC822.SIZE and every
        # byte offset agree with what a client fetches (RFC 5322 §2.1 wants CRLF).
        requests.append(
            AppendRequest(
                normalize_crlf(message.content),
                frozenset(f for f in message.flags if f != RECENT_FLAG),
                message.internal_date,
            )
        )
    try:
        result = await account.append(cmd.mailbox, requests)
    except NotFound:
        # RFC 9051 §6.3.12: the client may create the mailbox and try again.
        raise No(f"Mailbox {cmd.mailbox} does not exist", Code(ResponseCode.TRYCREATE)) from None
    return Ok(code=AppendUid(result.uidvalidity, result.dest_uids))
