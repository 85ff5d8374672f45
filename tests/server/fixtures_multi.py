"""Starting data for the multimailbox ESEARCH transcripts (RFC 7377)."""

from __future__ import annotations

import datetime as dt

from buzon.storage.api import AppendRequest, Store


def _message(n: int, subject: str) -> bytes:
    return (
        "From: Sam <sam@example.org>\r\n"
        f"Subject: {subject}\r\n"
        f"Date: Mon, {n:02d} Nov 2026 10:00:00 +0000\r\n"
        f"Message-ID: <x{n}@example.org>\r\n"
        "\r\n"
        "Hello.\r\n"
    ).encode()


async def mailboxes_search(store: Store) -> None:
    """alice's mail spread over a tree: "invoice" in INBOX 2, Work 1, Work/Q1 2, Work/Q1/Old 1.

    INBOX: 1 "Lunch", 2 "Invoice 7" (\\Seen), 3 "Invoice 8"; Work: 1 "Invoice 9" (\\Seen),
    2 "Plans"; Work/Q1: 1 "Invoice 10", 2 "Invoice 11" (\\Flagged); Work/Q1/Old: 1
    "Invoice 1". Work is unsubscribed; the special-use folders are empty.
    """
    account = await store.open_account("alice")
    for name in ("Work", "Work/Q1", "Work/Q1/Old"):
        await account.create_mailbox(name)
    await account.subscribe("Work/Q1")
    contents: dict[str, list[tuple[str, tuple[str, ...]]]] = {
        "INBOX": [("Lunch", ()), ("Invoice 7", ("\\Seen",)), ("Invoice 8", ())],
        "Work": [("Invoice 9", ("\\Seen",)), ("Plans", ())],
        "Work/Q1": [("Invoice 10", ()), ("Invoice 11", ("\\Flagged",))],
        "Work/Q1/Old": [("Invoice 1", ())],
    }
    n = 0
    for name, messages in contents.items():
        mailbox = await account.open_mailbox(name)
        requests = []
        for subject, flags in messages:
            n += 1
            when = dt.datetime(2026, 11, n, 10, 0, 0, tzinfo=dt.UTC)
            requests.append(AppendRequest(_message(n, subject), frozenset(flags), when))
        await mailbox.append(requests)
