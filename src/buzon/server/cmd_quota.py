"""QUOTA (RFC 9208): GETQUOTA, GETQUOTAROOT and SETQUOTA on each user's one quota root.

Theory of operation
-------------------
Every user has exactly one quota root, named "" (RFC 9208 §3 leaves the naming to the
server; "" is its own example), covering all of the user's mailboxes. Three resources
are supported: STORAGE (RFC 9208 §5.1, in units of 1024 octets: the sum of RFC822.SIZE,
rounded up), MESSAGE (§5.2, exact) and MAILBOX (§5.3, the selectable mailboxes). The
storage layer keeps the usage exact and refuses an APPEND or COPY, or a CREATE or RENAME
that would create mailboxes, past a limit with `OverQuota`, which becomes
NO [OVERQUOTA] in `errors.py`. Limits are set with `buzon user quota` or, by the users
named in the `auth.admins` setting, with SETQUOTA; everyone else gets NO [NOPERM].
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from buzon.imap import commands_ext as x
from buzon.imap.responses import Code, QuotaData, QuotaRootData
from buzon.imap.words import QuotaResource, ResponseCode
from buzon.server.outcome import No, Ok
from buzon.storage.api import Account, QuotaUsage

if TYPE_CHECKING:
    from buzon.server.connection import Connection

ROOT = ""
KIB = 1024
# A STORAGE limit above this many KiB would not fit the database's 64-bit integers.
MAX_STORAGE_KIB = 2**53


def quota_data(usage: QuotaUsage) -> QuotaData:
    """RFC 9208 §4.2.1: only limited resources are listed; an empty list is no limit."""
    resources: list[tuple[str, int, int]] = []
    if usage.storage_limit is not None:
        used = -(-usage.storage // KIB)  # rounded up: a non-empty account never shows 0
        resources.append((QuotaResource.STORAGE, used, usage.storage_limit // KIB))
    if usage.message_limit is not None:
        resources.append((QuotaResource.MESSAGE, usage.messages, usage.message_limit))
    if usage.mailbox_limit is not None:
        resources.append((QuotaResource.MAILBOX, usage.mailboxes, usage.mailbox_limit))
    return QuotaData(ROOT, tuple(resources))


def _account(conn: Connection) -> Account:
    account = conn.session.account
    assert account is not None, "the registry only admits authenticated sessions"
    return account


def _check_root(root: str) -> None:
    if root != ROOT:
        raise No(
            f'No quota root {root!r}; each user has one, named ""', Code(ResponseCode.NONEXISTENT)
        )


async def handle_getquota(conn: Connection, cmd: x.GetQuota) -> Ok:
    """RFC 9208 §4.1.1."""
    _check_root(cmd.root)
    await conn.send(quota_data(await _account(conn).quota()))
    return Ok()


async def handle_getquotaroot(conn: Connection, cmd: x.GetQuotaRoot) -> Ok:
    """RFC 9208 §4.1.2: the mailbox need not exist; every one falls under the user's root."""
    await conn.send(QuotaRootData(cmd.mailbox, (ROOT,)))
    await conn.send(quota_data(await _account(conn).quota()))
    return Ok()


async def handle_setquota(conn: Connection, cmd: x.SetQuota) -> Ok:
    """RFC 9208 §4.1.3: the limits given replace all previous ones."""
    if conn.session.user not in conn.ctx.settings.auth.admins:
        raise No("Only an administrator may set quotas", Code(ResponseCode.NOPERM))
    _check_root(cmd.root)
    storage: int | None = None
    messages: int | None = None
    mailboxes: int | None = None
    seen: set[str] = set()
    for resource, limit in cmd.limits:
        if resource in seen:
            raise No(f"{resource} given twice", Code(ResponseCode.CLIENTBUG))
        seen.add(resource)
        if resource == QuotaResource.STORAGE:
            if limit > MAX_STORAGE_KIB:
                raise No("STORAGE limit too large", Code(ResponseCode.LIMIT))
            storage = limit * KIB
        elif resource == QuotaResource.MESSAGE:
            messages = limit
        elif resource == QuotaResource.MAILBOX:  # RFC 9208 §5.3
            mailboxes = limit
        else:
            raise No(f"Unsupported quota resource {resource}", Code(ResponseCode.CANNOT))
    usage = await _account(conn).set_quota(storage=storage, messages=messages, mailboxes=mailboxes)
    await conn.send(quota_data(usage))
    return Ok()
