"""`buzon deliver [-m FOLDER] [-f SENDER] USER`: one message from standard input.

For MTAs that deliver by piping to a program (Postfix `mailbox_command`, Exim's pipe
transport, procmail-style setups). The exit status follows sendmail's sysexits.h, which is
what those MTAs interpret: 0 delivered, 65 (EX_DATAERR) an empty or too large message,
67 (EX_NOUSER) no such user (the MTA bounces), 73 (EX_CANTCREAT) the mailbox is over
quota, 75 (EX_TEMPFAIL) a temporary failure (the MTA keeps the message and retries),
64 (EX_USAGE) a sender address that cannot be read.

USER is an account name, or an address resolved like an LMTP recipient (domains, +detail).
`-m FOLDER` delivers into that folder when it exists, into INBOX when it does not (mail is
never refused for a missing folder). The message gets Return-Path (from `-f`, else `<>`)
and Received header fields like mail delivered over LMTP.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import BinaryIO

from buzon.config import Settings
from buzon.lmtp.address import Address, AddressError, parse_path_args
from buzon.lmtp.delivery import Deliverer, Outcome, Target, Trace
from buzon.lmtp.service import policy
from buzon.server.stores import open_store
from buzon.storage.api import StorageError

EX_OK = 0
EX_USAGE = 64
EX_DATAERR = 65
EX_NOUSER = 67
EX_CANTCREAT = 73
EX_TEMPFAIL = 75

EXIT_CODES: dict[Outcome, int] = {
    Outcome.DELIVERED: EX_OK,
    Outcome.NO_SUCH_USER: EX_NOUSER,
    Outcome.OVER_QUOTA: EX_CANTCREAT,
    Outcome.TOO_BIG: EX_DATAERR,
    Outcome.TEMPORARY: EX_TEMPFAIL,
}


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `deliver` to the subcommands (options `--config`/`--data-dir` come from main)."""
    parser = commands.add_parser(
        "deliver", help="deliver one message from standard input (for an MTA's pipe)"
    )
    parser.add_argument("user", metavar="USER", help="account name or recipient address")
    parser.add_argument("-m", "--mailbox", metavar="FOLDER", help="folder (default INBOX)")
    parser.add_argument("-f", "--from", dest="sender", metavar="SENDER", help="envelope sender")


def parse_sender(text: str | None) -> Address | None:
    """`-f` as given by MTAs: `a@b`, `<a@b>`, `<>` or empty (the null sender)."""
    if text is None:
        return None
    text = text.strip()
    if not text.startswith("<"):
        text = f"<{text}>"
    path = parse_path_args(text, allow_null=True)
    if path.params:
        raise AddressError("junk after the sender address")
    return path.address


def run(args: argparse.Namespace, settings: Settings, stdin: BinaryIO | None = None) -> int:
    """Read the message and deliver it; the exit status is the result."""
    try:
        sender = parse_sender(args.sender)
    except AddressError as exc:
        print(f"buzon deliver: bad sender {args.sender!r}: {exc}", file=sys.stderr)
        return EX_USAGE
    limit = settings.lmtp.max_message_size
    source = stdin if stdin is not None else sys.stdin.buffer
    content = source.read(limit + 1)
    if not content.strip():
        print("buzon deliver: empty message", file=sys.stderr)
        return EX_DATAERR
    if len(content) > limit:
        print(f"buzon deliver: message larger than {limit} octets", file=sys.stderr)
        return EX_DATAERR
    status = asyncio.run(_deliver(settings, args.user, args.mailbox, sender, content))
    if status != EX_OK:
        print(f"buzon deliver: {args.user}: {_WORDS[status]}", file=sys.stderr)
    return status


_WORDS = {
    EX_NOUSER: "no such user",
    EX_CANTCREAT: "mailbox over quota",
    EX_DATAERR: "message too big",
    EX_TEMPFAIL: "temporary failure, try again later",
}


async def _deliver(
    settings: Settings, user: str, folder: str | None, sender: Address | None, content: bytes
) -> int:
    try:
        store = await open_store(settings)
    except StorageError:
        return EX_TEMPFAIL
    try:
        deliverer = Deliverer(store, policy(settings))
        recipient = _recipient(user)
        if recipient.domain:
            target = await deliverer.resolve(recipient)
        else:
            name = await deliverer.find_user(user)
            target = None if name is None else Target(name)
        if target is None:
            return EX_NOUSER
        if folder:
            target = Target(target.user, folder)
        trace = Trace(sender=sender, recipient=recipient)
        [outcome] = await deliverer.deliver(content, trace, [target])
        return EXIT_CODES[outcome]
    except StorageError:
        return EX_TEMPFAIL
    finally:
        await store.close()


def _recipient(user: str) -> Address:
    local, at, domain = user.rpartition("@")
    return Address(local, domain) if at and local else Address(user, "")
