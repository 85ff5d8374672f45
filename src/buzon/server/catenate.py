"""CATENATE (RFC 4469): build an APPEND message from literals and IMAP URLs.

Theory of operation
-------------------
`assemble` turns an `AppendMessage` whose content is a CATENATE list into one whose
content is the bytes: TEXT parts as sent, URL parts as the octets ``FETCH BODY.PEEK[...]``
would return for the named section (RFC 4469 §3, "as if the literal returned in a FETCH
BODY response were put in place"), read with the same section code as FETCH
(`buzon.imap.sections`), so the bytes are exact. Nothing is stored here: APPEND (and
MULTIAPPEND, and REPLACE) assemble every message first and store them in one
transaction afterwards, so a bad URL in the last message leaves everything untouched.

`resolve` reads what one IMAP URL names; URLFETCH uses it too. A URL that carries
``;URLAUTH=`` is checked by `buzon.server.urlauth` and read from its owner's mailbox;
any other URL must name a mailbox of the session's own user (RFC 4469 §3: relative URLs,
based on ``imap://user@server/`` or the selected mailbox).

Decisions
---------
- An absolute URL without URLAUTH is accepted when its user is the session's user (or
  absent); its host is not compared with ours, since this server is the only one the
  session can reach (RFC 4469 §3 leaves absolute URLs to extensions).
- A section that does not exist is a BADURL (RFC 4469 §4.1 "invalid body part"), even
  though FETCH answers an empty string for it.
- The assembled size is bounded while assembling, by the APPENDLIMIT (TOOBIG, §4.2).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from buzon.imap import commands as c
from buzon.imap.imapurl import ImapUrl, UrlError, parse
from buzon.imap.responses import Code, CodeText
from buzon.imap.sections import section_bytes
from buzon.imap.words import ResponseCode
from buzon.mime import part_at
from buzon.server import urlauth
from buzon.server.outcome import No
from buzon.storage.api import Account, MetaItem, StorageError, Uid

if TYPE_CHECKING:
    from buzon.server.connection import Connection

__all__ = ["BadUrl", "assemble", "resolve", "session_base"]


class BadUrl(Exception):
    """The URL names nothing this session may read."""


def session_base(conn: Connection) -> ImapUrl | None:
    """RFC 4469 §3: the base URL, ``imap://user@server/`` or the selected mailbox."""
    user = conn.session.user
    host = conn.ctx.settings.server.hostname
    sel = conn.selection
    if sel is None:
        return None
    info = sel.mailbox.info
    return ImapUrl(info.name, 1, user=user, host=host)


async def resolve(conn: Connection, text: str) -> bytes:
    """The octets `text` names, for this session; BadUrl when it may not have them."""
    own = conn.session.account
    assert own is not None, "only authenticated sessions resolve URLs"
    try:
        url = parse(text, session_base(conn))
    except UrlError as exc:
        raise BadUrl(str(exc)) from None
    account: Account = own
    if url.access is not None:
        owner = await urlauth.verify(conn, url)
        if owner is None:
            raise BadUrl("URLAUTH does not grant access")
        if owner != own.name:
            account = await conn.ctx.store.open_account(owner)
    elif url.user is not None and url.user != own.name:
        raise BadUrl("URL names another user's mailbox")
    return await read_section(account, url)


async def read_section(account: Account, url: ImapUrl) -> bytes:
    """The bytes of the message or section `url` names in `account` (BadUrl if none)."""
    try:
        mailbox = await account.open_mailbox(url.mailbox, read_only=True)
        if url.uidvalidity is not None and url.uidvalidity != (await mailbox.status()).uidvalidity:
            raise BadUrl("UIDVALIDITY does not match")
        metas = await mailbox.fetch_meta([Uid(url.uid)], frozenset({MetaItem.STRUCTURE}))
        if not metas or metas[0].structure is None:
            raise BadUrl("no such message")
        structure = metas[0].structure
        section = url.body_section()
        if section.part and part_at(structure, section.part) is None:
            raise BadUrl("no such body part")
        raw = await mailbox.read_message(Uid(url.uid))
    except StorageError as exc:
        raise BadUrl(str(exc) or "no such mailbox or message") from None
    data = section_bytes(raw, structure, section)
    if url.partial is not None:
        origin, length = url.partial
        data = data[origin:] if length is None else data[origin : origin + length]
    return data


async def assemble(conn: Connection, message: c.AppendMessage) -> c.AppendMessage:
    """The message with its CATENATE parts joined (RFC 4469 §3); literals pass through."""
    if isinstance(message.content, bytes):
        return message
    limit = conn.ctx.settings.limits.max_literal
    out = bytearray()
    for part in message.content:
        if isinstance(part, c.CatenateText):
            out += part.data
        else:
            try:
                out += await resolve(conn, part.url)
            except BadUrl as exc:
                # RFC 4469 §4.1: BADURL carries the first URL that failed.
                raise No(f"Bad URL: {exc}", CodeText(ResponseCode.BADURL, part.url)) from None
        if len(out) > limit:
            # RFC 4469 §4.2: TOOBIG when the result exceeds the server's message size limit.
            raise No(
                f"Message is larger than the limit of {limit} octets", Code(ResponseCode.TOOBIG)
            )
    return dataclasses.replace(message, content=bytes(out))
