"""URLAUTH (RFC 4467): making and checking authorized URLs (handlers: cmd_urlauth.py).

Theory of operation
-------------------
A URLAUTH-authorized URL is ``rump ":" mechanism ":" token`` where the rump is an
absolute IMAP URL ending in ``;URLAUTH=access`` (RFC 4467 §3). The one mechanism,
INTERNAL, makes the token HMAC-SHA1 (RFC 2104) of the rump's exact text, keyed with the
mailbox access key of the URL's mailbox (`Account.urlauth_key`, RFC 4467 §7 suggests
exactly this). RESETKEY replaces the key, so every URL made with the old one stops
working.

Who may use a URL (RFC 4467 §3 access identifiers): "anonymous" anyone, "authuser" any
authenticated session, "user+NAME" only NAME, "submit+NAME" only a message submission
server acting for NAME: a session of one of the users named in `auth.submit_users`.

Decisions
---------
- Only the owner of a mailbox may authorize URLs for it: GENURLAUTH refuses a URL whose
  user is not the session's user (RFC 4467 §5 "the userid ... MUST be the authorization
  identity").
- The host of the URL is not compared with ours (one server; see catenate.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import TYPE_CHECKING

from buzon.imap.imapurl import ImapUrl
from buzon.storage.api import StorageError

if TYPE_CHECKING:
    from buzon.server.connection import Connection

MECHANISM = "INTERNAL"


def token(key: bytes, rump: str) -> str:
    """The INTERNAL mechanism's token for `rump` (RFC 4467 §7: HMAC-SHA1, hex)."""
    return hmac.new(key, rump.encode("utf-8"), hashlib.sha1).hexdigest()


def may_access(access: str, user: str | None, submitters: tuple[str, ...] = ()) -> bool:
    """RFC 4467 §3: whether a session authenticated as `user` may use a URL for `access`.

    `submitters` are the users a submission server logs in as (`auth.submit_users`).
    """
    kind, _, name = access.partition("+")
    if kind == "anonymous":
        return True
    if kind == "authuser":
        return user is not None
    if kind == "user":
        return user is not None and name == user
    # "submit+NAME": the submission server, acting for NAME (it checks that itself).
    return kind == "submit" and user is not None and user in submitters


async def verify(conn: Connection, url: ImapUrl) -> str | None:
    """The owning user when `url` carries a valid URLAUTH this session may use, else None."""
    if (
        url.access is None
        or url.mechanism != MECHANISM
        or url.token is None
        or url.rump is None
        or url.user is None
        or url.host is None
    ):
        return None
    # RFC 4467 §3: past its EXPIRE date-time a URL is invalid.
    if url.expire is not None and url.expire <= dt.datetime.now(dt.UTC):
        return None
    if not may_access(url.access, conn.session.user, conn.ctx.settings.auth.submit_users):
        return None
    try:
        account = await conn.ctx.store.open_account(url.user)
        key = await account.urlauth_key(url.mailbox, create=False)
    except StorageError:
        return None
    if key is None or not hmac.compare_digest(token(key, url.rump), url.token):
        return None
    return url.user
