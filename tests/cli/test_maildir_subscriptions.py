"""Dovecot's `subscriptions` file: read, and applied by `buzon import` of a Maildir tree."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.cli.test_import_export import make_maildir, new_user, run

from buzon.cli.maildir import read_subscriptions
from buzon.storage.sqlite import SqliteStore

# Written by Dovecot 2.3.19.1 (`doveadm mailbox create -s "Lists/Rust" "Sent Items"
# "Ünïcode"`, then `doveadm mailbox subscribe INBOX`; Maildir++, separator "/").
DOVECOT_23 = b"V\t2\n\nLists\tRust\nSent Items\n&ANw-n&AO8-code\nINBOX\n"


def test_reads_dovecot_2_3_file(tmp_path: Path) -> None:
    (tmp_path / "subscriptions").write_bytes(DOVECOT_23)
    assert read_subscriptions(tmp_path) == ["Lists/Rust", "Sent Items", "Ünïcode", "INBOX"]


def test_reads_old_file_without_header(tmp_path: Path) -> None:
    (tmp_path / "subscriptions").write_bytes(b"Lists.Rust\nArchive/2020\ninbox\n\nLists.Rust\n")
    assert read_subscriptions(tmp_path) == ["Lists/Rust", "Archive/2020", "INBOX"]


def test_empty_levels_are_skipped_and_absence_is_none(tmp_path: Path) -> None:
    assert read_subscriptions(tmp_path) is None
    (tmp_path / "subscriptions").write_bytes(b"V\t2\n\n\tRust\nA\t\nB\n")
    assert read_subscriptions(tmp_path) == ["B"]


async def _subscriptions(data: Path) -> tuple[list[str], list[str]]:
    store = await SqliteStore.open(data, synchronous_full=False)
    try:
        account = await store.open_account("alice")
        names = [m.name for m in await account.list_mailboxes()]
        return names, await account.subscriptions()
    finally:
        await store.close()


def test_import_subscribes_what_the_file_lists(tmp_path: Path) -> None:
    source = tmp_path / "Maildir"
    make_maildir(source)
    # Lists is a folder but not subscribed; Gone is subscribed but has no folder.
    (source / "subscriptions").write_bytes(b"V\t2\n\nINBOX\nLists\tRust\nEntw&APw-rfe\nGone\n")
    data = tmp_path / "data"
    new_user(data)
    assert run(data, "import", "alice", str(source)) == 0
    names, subscribed = asyncio.run(_subscriptions(data))
    assert names == ["Entwürfe", "INBOX", "Lists", "Lists/Rust"]
    assert subscribed == ["Entwürfe", "Gone", "INBOX", "Lists/Rust"]


def test_import_under_a_prefix_keeps_the_file_s_choice(tmp_path: Path) -> None:
    source = tmp_path / "Maildir"
    make_maildir(source)
    (source / "subscriptions").write_bytes(b"V\t2\n\nLists\n")
    data = tmp_path / "data"
    new_user(data)
    assert run(data, "import", "alice", str(source), "--mailbox", "Old") == 0
    names, subscribed = asyncio.run(_subscriptions(data))
    assert "Old/Lists/Rust" in names
    assert subscribed == ["INBOX", "Old/Lists"]  # INBOX: the new account's own
