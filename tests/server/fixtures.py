"""Starting data for transcripts: `fixture: NAME` in a transcript's header."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from buzon.storage.api import AppendRequest, Store
from tests.server import fixtures_multi, fixtures_search

UTC = dt.UTC


def message(
    n: int, subject: str, *, sender: str = "Sam <sam@example.org>", body: str = "Hello."
) -> bytes:
    """A small, deterministic message; its size depends only on its arguments."""
    return (
        f"From: {sender}\r\n"
        "To: Alice <alice@example.org>\r\n"
        f"Subject: {subject}\r\n"
        f"Date: Mon, {n:02d} Nov 2026 10:00:00 +0000\r\n"
        f"Message-ID: <m{n}@example.org>\r\n"
        "\r\n"
        f"{body}\r\n"
    ).encode()


def when(n: int) -> dt.datetime:
    return dt.datetime(2026, 11, n, 10, 0, 0, tzinfo=UTC)


async def _empty(store: Store) -> None:
    return None


async def _inbox_4(store: Store) -> None:
    """alice's INBOX with 4 messages, UIDs 1-4; message 2 is \\Seen."""
    account = await store.open_account("alice")
    inbox = await account.open_mailbox("INBOX")
    await inbox.append(
        [
            AppendRequest(message(1, "First"), frozenset(), when(1)),
            AppendRequest(message(2, "Second"), frozenset({"\\Seen"}), when(2)),
            AppendRequest(message(3, "Third"), frozenset(), when(3)),
            AppendRequest(message(4, "Fourth"), frozenset({"\\Flagged"}), when(4)),
        ]
    )


MIME_MESSAGE = (
    b"From: Ana <ana@example.pt>\r\n"
    b"To: alice@example.org\r\n"
    b"Subject: =?utf-8?q?Fotograf=C3=ADas?=\r\n"
    b"Date: Wed, 04 Nov 2026 08:30:00 +0000\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="xx"\r\n'
    b"\r\n"
    b"preamble\r\n"
    b"--xx\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: quoted-printable\r\n"
    b"\r\n"
    b"Ol=C3=A1!\r\n"
    b"--xx\r\n"
    b"Content-Type: message/rfc822\r\n"
    b"\r\n"
    b"Subject: inner\r\n"
    b"\r\n"
    b"inner body\r\n"
    b"--xx\r\n"
    b"Content-Type: application/octet-stream\r\n"
    b"Content-Transfer-Encoding: base64\r\n"
    b"\r\n"
    b"AAEC\r\n"
    b"--xx--\r\n"
)


async def _inbox_mime(store: Store) -> None:
    """alice's INBOX with one multipart message: text, an embedded message, binary data."""
    inbox = await (await store.open_account("alice")).open_mailbox("INBOX")
    await inbox.append([AppendRequest(MIME_MESSAGE, frozenset(), when(4))])


async def _inbox_4_quota(store: Store) -> None:
    """inbox-4 with alice limited to 5 messages and 1 MiB (RFC 9208 QUOTA)."""
    await _inbox_4(store)
    await store.set_user_quota("alice", storage=1024 * 1024, messages=5)


async def _mailbox_quota(store: Store) -> None:
    """empty with alice limited to 9 mailboxes, 7 in use (RFC 9208 §5.3)."""
    await _empty(store)
    await store.set_user_quota("alice", storage=None, messages=None, mailboxes=9)


FIXTURES: dict[str, Callable[[Store], Awaitable[None]]] = {
    "inbox-4-quota": _inbox_4_quota,
    "mailbox-quota": _mailbox_quota,
    "empty": _empty,
    "inbox-4": _inbox_4,
    "inbox-mime": _inbox_mime,
    "inbox-search": fixtures_search.inbox_search,
    "inbox-threads": fixtures_search.inbox_threads,
    "mailboxes-search": fixtures_multi.mailboxes_search,
}
