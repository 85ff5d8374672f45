"""`buzon user quota NAME [--storage SIZE] [--messages N] [--mailboxes N]`: show or set limits.

A limit not given keeps its value; `0` or `none` removes it. Usage is always exact (the
store keeps it in the same transaction as the messages), so the command only reads it.
"""

from __future__ import annotations

import argparse

from buzon.config import parse_size
from buzon.storage.api import QuotaUsage, Store

UNLIMITED = ("none", "0", "unlimited")


def _limit(kind: str, text: str, *, size: bool) -> int | None:
    if text.strip().lower() in UNLIMITED:
        return None
    try:
        value = parse_size(text) if size else int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a {kind}: {text!r}") from None
    if value <= 0:
        return None
    return value


def storage_limit(text: str) -> int | None:
    """A size with k/M/G suffix (binary), or 0/none for no limit."""
    return _limit("size", text, size=True)


def message_limit(text: str) -> int | None:
    """A number of messages, or 0/none for no limit."""
    return _limit("number of messages", text, size=False)


def mailbox_limit(text: str) -> int | None:
    """A number of mailboxes (RFC 9208 §5.3), or 0/none for no limit."""
    return _limit("number of mailboxes", text, size=False)


def add_parser(
    user_cmds: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    sub = user_cmds.add_parser("quota", help="show or set a user's quota (RFC 9208)")
    sub.add_argument("name")
    sub.add_argument(
        "--storage", type=storage_limit, default=False, help="e.g. 1G; 0 or none: unlimited"
    )
    sub.add_argument(
        "--messages", type=message_limit, default=False, help="e.g. 100000; 0 or none: unlimited"
    )
    sub.add_argument(
        "--mailboxes", type=mailbox_limit, default=False, help="e.g. 500; 0 or none: unlimited"
    )
    return sub


def describe(name: str, usage: QuotaUsage) -> str:
    def one(used: int, limit: int | None, unit: str) -> str:
        return f"{used} {unit} of {'unlimited' if limit is None else limit}"

    return (
        f"{name}: storage {one(usage.storage, usage.storage_limit, 'octets')},"
        f" messages {one(usage.messages, usage.message_limit, 'messages')},"
        f" mailboxes {one(usage.mailboxes, usage.mailbox_limit, 'mailboxes')}"
    )


async def quota_action(store: Store, args: argparse.Namespace) -> None:
    name: str = args.name
    current = await (await store.open_account(name)).quota()
    usage = current
    if args.storage is not False or args.messages is not False or args.mailboxes is not False:
        usage = await store.set_user_quota(
            name,
            storage=current.storage_limit if args.storage is False else args.storage,
            messages=current.message_limit if args.messages is False else args.messages,
            mailboxes=current.mailbox_limit if args.mailboxes is False else args.mailboxes,
        )
    print(describe(name, usage))
