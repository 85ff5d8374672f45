"""`buzon migrate` carries the source's special-use folders (RFC 6154) onto the target."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.cli.test_migrate import WHEN, run
from tests.server.harness import ServerThread, server_settings

from buzon.storage import INBOX, AppendRequest, Store
from buzon.storage.sqlite import SqliteStore


async def fill_source(store: Store) -> None:
    """Outlook-style names for the special folders, and one the target lacks."""
    account = await store.open_account("alice")
    await account.rename_mailbox("Sent", "Sent Items")
    sent = await account.open_mailbox("Sent Items")
    await sent.append([AppendRequest(b"Subject: sent\r\n\r\nx\r\n", frozenset(), WHEN)])
    await account.rename_mailbox("Trash", "Deleted Items")
    await account.rename_mailbox("Junk", "Spam")
    await account.create_mailbox("Flagged Mail", special_use=frozenset({"\\Flagged"}))


@pytest.fixture
def source(tmp_path: Path) -> Iterator[ServerThread]:
    with ServerThread(server_settings(tmp_path / "source")) as server:
        store = server.store
        assert store is not None
        server.call(lambda: fill_source(store))
        yield server


async def _listing(data: Path) -> dict[str, tuple[frozenset[str], int, int]]:
    store = await SqliteStore.open(data, synchronous_full=False)
    try:
        account = await store.open_account("alice")
        out = {}
        for info in await account.list_mailboxes():
            status = await account.mailbox_status(info.name)
            out[info.name] = (info.special_use, status.messages, status.uidvalidity)
        return out
    finally:
        await store.close()


async def _put_in_trash(data: Path) -> None:
    store = await SqliteStore.open(data, synchronous_full=False)
    try:
        trash = await (await store.open_account("alice")).open_mailbox("Trash")
        await trash.append([AppendRequest(b"Subject: old\r\n\r\ny\r\n")])
    finally:
        await store.close()


def test_special_uses_follow_the_source_names(
    source: ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("target-password\n"))
    assert run(tmp_path, "user", "add", "alice", "--password-stdin") == 0
    asyncio.run(_put_in_trash(tmp_path / "target"))  # the target's Trash is in use
    url = f"imaps://alice@127.0.0.1:{source.imaps_port}"
    ca = str(source.settings.server.data_dir / "tls" / "cert.pem")
    for _ in range(2):  # a second run changes nothing
        monkeypatch.setattr("sys.stdin", io.StringIO("secret\n"))
        assert run(tmp_path, "migrate", "alice", "--from", url, "--ca-file", ca) == 0
        got = asyncio.run(_listing(tmp_path / "target"))
        uses = {name: use for name, (use, _, _) in got.items()}
        assert uses == {
            INBOX: frozenset(),
            "Archive": frozenset({"\\Archive"}),
            "Deleted Items": frozenset(),  # (4): the target's Trash holds mail, keeps \Trash
            "Drafts": frozenset({"\\Drafts"}),
            "Flagged Mail": frozenset({"\\Flagged"}),  # (3): created with the use
            "Sent Items": frozenset({"\\Sent"}),  # (2): the empty Sent renamed, no "Sent"
            "Spam": frozenset({"\\Junk"}),
            "Templates": frozenset(),
            "Trash": frozenset({"\\Trash"}),
        }
        assert got["Sent Items"][1] == 1
        assert got["Trash"][1] == 1

    store = source.store
    assert store is not None

    async def source_validity() -> int:
        account = await store.open_account("alice")
        return (await account.mailbox_status("Sent Items")).uidvalidity

    # The renamed folder never held a message: it took the source's UIDVALIDITY.
    assert got["Sent Items"][2] == source.call(source_validity)
