"""GENURLAUTH, RESETKEY and URLFETCH (RFC 4467 §4.1, §6.1, §6.2); see urlauth.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

from buzon.imap import commands_ext as cx
from buzon.imap.imapurl import UrlError, parse
from buzon.imap.responses import CodeText, GenUrlAuthData, UrlFetchData
from buzon.imap.words import ResponseCode
from buzon.server import catenate
from buzon.server.errors import storage_refusal
from buzon.server.outcome import No, Ok
from buzon.server.urlauth import MECHANISM, token, verify
from buzon.storage.api import StorageError

if TYPE_CHECKING:
    from buzon.server.connection import Connection


async def handle_genurlauth(conn: Connection, cmd: cx.GenUrlAuth) -> Ok:
    """RFC 4467 §6.1: one authorized URL per request, in one GENURLAUTH response."""
    account = conn.session.account
    assert account is not None
    urls: list[str] = []
    for text, mechanism in cmd.requests:
        if mechanism != MECHANISM:
            raise No(f"Unsupported URLAUTH mechanism {mechanism}")
        try:
            url = parse(text)
        except UrlError as exc:
            raise No(f"Bad URL: {exc}", CodeText(ResponseCode.BADURL, text)) from None
        # RFC 4467 §6.1: an absolute URL with ";URLAUTH=access" and no verifier yet, whose
        # user is the one asking (only the owner authorizes access to a mailbox).
        if url.host is None or url.rump is None or url.mechanism is not None:
            raise No("GENURLAUTH needs an absolute URL ending in ;URLAUTH=access", _bad(text))
        if url.user != account.name:
            raise No("Only the mailbox owner may authorize a URL", _bad(text))
        try:
            key = await account.urlauth_key(url.mailbox, create=True)
        except StorageError as exc:
            raise No(f"Bad URL: {exc}", _bad(text)) from None
        assert key is not None
        urls.append(f"{url.rump}:{MECHANISM}:{token(key, url.rump)}")
    await conn.send(GenUrlAuthData(tuple(urls)))
    return Ok()


def _bad(url: str) -> CodeText:
    return CodeText(ResponseCode.BADURL, url)


async def handle_resetkey(conn: Connection, cmd: cx.ResetKey) -> Ok:
    """RFC 4467 §4.1: a new access key for one mailbox, or forget every key of the user."""
    account = conn.session.account
    assert account is not None
    unknown = [m for m in cmd.mechanisms if m != MECHANISM]
    if unknown:
        raise No(f"Unsupported URLAUTH mechanism {unknown[0]}")
    try:
        await account.reset_urlauth_keys(cmd.mailbox)
    except StorageError as exc:
        raise storage_refusal(exc) from None
    if cmd.mailbox is None:
        return Ok("All keys removed")
    return Ok("Key reset", CodeText(ResponseCode.URLMECH, MECHANISM))


async def handle_urlfetch(conn: Connection, cmd: cx.UrlFetch) -> Ok:
    """RFC 4467 §6.2: each URL with its data, or NIL when it is not valid for this session."""
    items: list[tuple[str, bytes | None]] = []
    for text in cmd.urls:
        data: bytes | None = None
        try:
            url = parse(text)
        except UrlError:
            url = None
        if url is not None and url.access is not None:
            owner = await verify(conn, url)
            if owner is not None:
                try:
                    account = await conn.ctx.store.open_account(owner)
                    data = await catenate.read_section(account, url)
                except (StorageError, catenate.BadUrl):
                    data = None
        items.append((text, data))
    await conn.send(UrlFetchData(tuple(items)))
    return Ok()
