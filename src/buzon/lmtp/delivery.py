"""Delivery: recipients to accounts and folders, trace headers, one append per recipient.

Theory of operation
-------------------
A recipient `local@domain` names the account `local` when `domain` is one of the
configured domains (any domain when none is configured, so that a single-domain site needs
no setting). With a detail delimiter ("+" by default) `user+detail@domain` goes to the
account `user`, into its folder `detail` when that folder exists and is selectable, else
into INBOX; an account whose name itself contains the delimiter is matched first. Account
names are case-sensitive in the store; a local part that matches no account exactly is
tried again in lower case, as mail users expect `Alice@` to reach `alice`.

The stored bytes are the trace headers (RFC 5321 §4.4: Return-Path, then Received) and the
message with every line ending made CRLF. The Received field names the recipient (`for`)
only when there is one, so that a message to several recipients has the same bytes for
each and the store keeps it once (the SQLite backend shares contents by hash). Each
recipient's append is its own transaction: one failing (over quota, a temporary store
failure) does not hold back the others, and its `Outcome` becomes that recipient's reply.
The append publishes on the change bus, which wakes the recipient's idling sessions.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import enum
import logging
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from buzon.lmtp import replies as r
from buzon.lmtp.address import Address
from buzon.lmtp.replies import Reply
from buzon.storage.api import (
    INBOX,
    Account,
    AppendRequest,
    NotFound,
    OverQuota,
    StorageError,
    Store,
    Temporary,
    TooBig,
)

log = logging.getLogger("buzon.lmtp")

_LINE_END = re.compile(rb"\r?\n")


class Outcome(enum.Enum):
    """What happened to one recipient's copy."""

    DELIVERED = "delivered"
    NO_SUCH_USER = "no such user"
    OVER_QUOTA = "over quota"
    TOO_BIG = "too big"
    TEMPORARY = "temporary failure"


# The LMTP reply for each outcome (RFC 2033 §4.2, codes from RFC 3463).
REPLIES: dict[Outcome, Reply] = {
    Outcome.DELIVERED: r.DELIVERED,
    Outcome.NO_SUCH_USER: r.NO_SUCH_USER,
    Outcome.OVER_QUOTA: r.OVER_QUOTA,
    Outcome.TOO_BIG: r.TOO_BIG,
    Outcome.TEMPORARY: r.TEMPORARY,
}


@dataclass(frozen=True, slots=True)
class Policy:
    """How recipients map to accounts and folders."""

    hostname: str = "localhost"
    domains: frozenset[str] = frozenset()  # lower case; empty: every domain is ours
    detail_delimiter: str = "+"  # "" turns +detail off
    detail_folder: bool = True  # deliver user+detail into the folder "detail" if it exists


@dataclass(frozen=True, slots=True)
class Target:
    """Where one copy goes: an account and the folder asked for (None: INBOX)."""

    user: str
    folder: str | None = None


@dataclass(frozen=True, slots=True)
class Trace:
    """What the Received field says about the transaction."""

    sender: Address | None  # None: the null reverse-path
    # RFC 3848 / RFC 6531 §3.7.3 "with" keyword: LMTP, LMTPS, UTF8LMTP...; "" omits it.
    protocol: str = ""
    helo: str = ""  # the LHLO name; "" for local delivery
    peer: str = ""  # "[127.0.0.1]", "unix socket"
    recipient: Address | None = None  # named in "for" when there is only one


class Deliverer:
    """Resolves recipients and delivers messages into a `Store`."""

    def __init__(self, store: Store, policy: Policy) -> None:
        self.store = store
        self.policy = policy

    async def resolve(self, address: Address) -> Target | None:
        """The account (and detail folder) of `address`, or None if it is not ours."""
        policy = self.policy
        if address.domain and policy.domains and address.domain.lower() not in policy.domains:
            return None
        local = address.local
        user = await self.find_user(local)
        if user is not None:
            return Target(user)
        delimiter = policy.detail_delimiter
        if delimiter and delimiter in local:
            base, _, detail = local.partition(delimiter)
            user = await self.find_user(base)
            if user is not None:
                return Target(user, detail if policy.detail_folder and detail else None)
        return None

    async def find_user(self, name: str) -> str | None:
        """The account called `name`, or its lower-case spelling; None if neither exists."""
        for candidate in dict.fromkeys((name, name.lower())):
            if candidate and await self.store.get_user_secret(candidate) is not None:
                return candidate
        return None

    async def deliver(
        self, content: bytes, trace: Trace, targets: Sequence[Target | None]
    ) -> list[Outcome]:
        """Add the trace headers and append one copy per target; None targets fail."""
        message = with_trace(content, trace, self.policy.hostname)
        return list(await asyncio.gather(*(self._one(message, t) for t in targets)))

    async def _one(self, message: bytes, target: Target | None) -> Outcome:
        if target is None:
            return Outcome.NO_SUCH_USER
        try:
            account = await self.store.open_account(target.user)
            name = INBOX
            if target.folder:
                name = await _existing_folder(account, target.folder) or INBOX
            try:
                await account.append(name, [AppendRequest(message)])
            except NotFound:
                if name == INBOX:
                    raise
                await account.append(INBOX, [AppendRequest(message)])  # deleted meanwhile
        except NotFound:
            return Outcome.NO_SUCH_USER  # the account went away since RCPT
        except OverQuota:
            return Outcome.OVER_QUOTA
        except TooBig:
            return Outcome.TOO_BIG
        except Temporary as exc:
            log.warning("delivery to %s failed temporarily: %s", target.user, exc)
            return Outcome.TEMPORARY
        except StorageError as exc:
            log.error("delivery to %s failed: %s", target.user, exc)
            return Outcome.TEMPORARY
        log.debug("delivered %d bytes to %s", len(message), target.user)
        return Outcome.DELIVERED


async def _existing_folder(account: Account, wanted: str) -> str | None:
    """The selectable mailbox named `wanted`, matched exactly or else ignoring case."""
    selectable = [b.name for b in await account.list_mailboxes() if b.selectable]
    if wanted in selectable:
        return wanted
    folded = wanted.casefold()
    return next((name for name in selectable if name.casefold() == folded), None)


def with_trace(
    content: bytes, trace: Trace, hostname: str, *, now: dt.datetime | None = None
) -> bytes:
    """RFC 5321 §4.4: Return-Path and Received before the message, line ends made CRLF."""
    when = now or dt.datetime.now(dt.UTC).astimezone()
    sender = "" if trace.sender is None else str(trace.sender)
    received = ["Received: "]
    if trace.helo:
        received.append(f"from {trace.helo} ({trace.peer or 'unknown'})\r\n\t")
    received.append(f"by {hostname} (Buzon)")
    if trace.protocol:
        received.append(f" with {trace.protocol}")
    received.append(f" id {secrets.token_hex(8)}")
    if trace.recipient is not None:
        received.append(f"\r\n\tfor <{trace.recipient}>")
    received.append(f"; {email.utils.format_datetime(when)}\r\n")
    # RFC 6532 §3: with SMTPUTF8, header fields may hold UTF-8.
    header = f"Return-Path: <{sender}>\r\n{''.join(received)}".encode()
    return header + normalize_line_ends(content)


def normalize_line_ends(content: bytes) -> bytes:
    """Every LF (with or without its CR) becomes CRLF; a message ends with a line end."""
    data = _LINE_END.sub(b"\r\n", content)
    if data and not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data
