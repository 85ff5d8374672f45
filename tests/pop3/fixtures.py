"""Starting data for POP3 transcripts: the IMAP fixtures plus POP3-specific ones."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from buzon.storage.api import AppendRequest, Store
from tests.server.fixtures import FIXTURES, when

DOTS_MESSAGE = (
    b"From: Sam <sam@example.org>\r\n"
    b"Subject: Dots\r\n"
    b"\r\n"
    b"line one\r\n"
    b".hidden line\r\n"
    b"..two dots\r\n"
    b".\r\n"
    b"last\r\n"
)


async def _inbox_dots(store: Store) -> None:
    """alice's INBOX with one message whose body has lines starting with "."."""
    inbox = await (await store.open_account("alice")).open_mailbox("INBOX")
    await inbox.append([AppendRequest(DOTS_MESSAGE, frozenset(), when(5))])


POP3_FIXTURES: dict[str, Callable[[Store], Awaitable[None]]] = {
    **FIXTURES,
    "inbox-dots": _inbox_dots,
}
