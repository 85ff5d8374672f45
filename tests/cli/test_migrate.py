"""`buzon migrate` from a second Buzón server on loopback, over TLS."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.server.harness import ServerThread, server_settings

from buzon.cli import migrate as mig
from buzon.cli.main import main
from buzon.cli.transfer import TransferError
from buzon.storage import INBOX, AppendRequest, MetaItem, Store, Uid
from buzon.storage.sqlite import SqliteStore

CHEAP = "[auth]\nargon2_time_cost = 1\nargon2_memory_kib = 1024\nargon2_parallelism = 1\n"
WHEN = dt.datetime(2021, 5, 4, 3, 2, 1, tzinfo=dt.timezone(dt.timedelta(hours=2)))

Snapshot = dict[str, tuple[int, int, list[tuple[int, frozenset[str], dt.datetime, bytes]]]]


async def fill_source(store: Store) -> None:
    account = await store.open_account("alice")
    inbox = await account.open_mailbox(INBOX)
    await inbox.append(
        [
            AppendRequest(b"Subject: one\r\n\r\nfirst\r\n", frozenset({"\\Seen", "$Work"}), WHEN),
            AppendRequest(b"Subject: gone\r\n\r\nx\r\n", frozenset({"\\Deleted"}), WHEN),
            AppendRequest(b"Subject: two\r\n\r\nsecond\r\n", frozenset({"\\Flagged"}), WHEN),
        ]
    )
    await inbox.expunge()  # a gap in the UIDs: 1, 3
    await account.create_mailbox("Projects/Entwürfe")
    projects = await account.open_mailbox("Projects/Entwürfe")
    big = b"Subject: big\r\n\r\n" + b"y" * 70_000 + b"\r\n"
    await projects.append(
        [AppendRequest(b"Subject: p%d\r\n\r\nbody\r\n" % i, internal_date=WHEN) for i in range(5)]
        + [AppendRequest(big, frozenset({"\\Answered", "Later"}), WHEN)]
    )
    await account.subscribe("Projects/Entwürfe")
    await account.unsubscribe("Trash")


async def snapshot(store: Store, user: str) -> tuple[Snapshot, list[str]]:
    account = await store.open_account(user)
    out: Snapshot = {}
    for info in await account.list_mailboxes():
        if not info.selectable:
            continue
        mailbox = await account.open_mailbox(info.name, read_only=True)
        snap = await mailbox.snapshot(claim_recent=False)
        metas = await mailbox.fetch_meta(snap.uids, frozenset({MetaItem.INTERNAL_DATE}))
        messages = []
        for m in metas:
            assert m.internal_date is not None
            messages.append(
                (int(m.uid), m.flags, m.internal_date, await mailbox.read_message(m.uid))
            )
        out[info.name] = (snap.uidvalidity, snap.uidnext, messages)
    return out, await account.subscriptions()


async def target_snapshot(data: Path) -> tuple[Snapshot, list[str]]:
    store = await SqliteStore.open(data, synchronous_full=False)
    try:
        return await snapshot(store, "alice")
    finally:
        await store.close()


def run(tmp_path: Path, *args: str) -> int:
    config = tmp_path / "cheap.toml"
    config.write_text(CHEAP)
    return main([*args, "--data-dir", str(tmp_path / "target"), "--config", str(config)])


@pytest.fixture
def source(tmp_path: Path) -> Iterator[ServerThread]:
    with ServerThread(server_settings(tmp_path / "source")) as server:
        assert server.store is not None
        store = server.store
        server.call(lambda: fill_source(store))
        yield server


def test_migrate_keeps_folders_flags_dates_subscriptions_and_uids(
    source: ServerThread,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("target-password\n"))
    assert run(tmp_path, "user", "add", "alice", "--password-stdin") == 0
    url = f"imaps://alice@127.0.0.1:{source.imaps_port}"
    ca = str(source.settings.server.data_dir / "tls" / "cert.pem")
    monkeypatch.setattr("sys.stdin", io.StringIO("secret\n"))
    assert run(tmp_path, "migrate", "alice", "--from", url, "--ca-file", ca) == 0
    assert "migrated 8 messages in 9 folders" in capsys.readouterr().out

    store = source.store
    assert store is not None
    expected = source.call(lambda: snapshot(store, "alice"))
    got = asyncio.run(target_snapshot(tmp_path / "target"))
    assert got == expected  # UIDVALIDITY, UIDNEXT, UIDs, flags, dates, bytes, subscriptions
    folders, subscribed = got
    assert folders[INBOX][2][0][1] == frozenset({"\\Seen", "$Work"})
    assert [uid for uid, *_ in folders[INBOX][2]] == [1, 3]
    assert "Projects/Entwürfe" in subscribed
    assert "Trash" not in subscribed

    # Run again: nothing new. Add a message at the source: only it comes over.
    monkeypatch.setattr("sys.stdin", io.StringIO("secret\n"))
    assert run(tmp_path, "migrate", "alice", "--from", url, "--ca-file", ca) == 0
    assert "migrated 0 messages" in capsys.readouterr().out

    async def add_one() -> None:
        assert source.store is not None
        inbox = await (await source.store.open_account("alice")).open_mailbox(INBOX)
        await inbox.append([AppendRequest(b"Subject: later\r\n\r\nz\r\n")])

    source.call(add_one)
    monkeypatch.setattr("sys.stdin", io.StringIO("secret\n"))
    assert run(tmp_path, "migrate", "alice", "--from", url, "--ca-file", ca) == 0
    after, _ = asyncio.run(target_snapshot(tmp_path / "target"))
    assert [uid for uid, *_ in after[INBOX][2]] == [1, 3, 4]


def test_migrate_reports_a_wrong_password(
    source: ServerThread,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("target-password\n"))
    assert run(tmp_path, "user", "add", "alice", "--password-stdin") == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("wrong\n"))
    url = f"imaps://alice@127.0.0.1:{source.imaps_port}"
    assert run(tmp_path, "migrate", "alice", "--from", url, "--insecure") == 1
    assert "login refused" in capsys.readouterr().err


def test_source_url_and_reply_parsing() -> None:
    src = mig.Source.parse("imaps://me%40example.org@mail.example.org")
    assert (src.login, src.host, src.port, src.implicit_tls) == (
        "me@example.org",
        "mail.example.org",
        993,
        True,
    )
    with pytest.raises(TransferError):
        mig.Source.parse("https://x@y")
    listed = mig.parse_list(
        [
            b'(\\HasNoChildren) "." INBOX',
            (b'(\\Noselect) "." {11}', b"Lists.&APw-x"),
            b'() NIL "flat \\"q\\""',
        ]
    )
    assert listed == [
        (frozenset({"\\hasnochildren"}), ".", "INBOX"),
        (frozenset({"\\noselect"}), ".", "Lists.&APw-x"),
        (frozenset(), "", 'flat "q"'),
    ]
    assert mig.local_name("Lists.&APw-x", ".") == "Lists/üx"
    meta = mig.parse_meta(
        [
            b'1 (UID 7 FLAGS (\\Seen \\Recent kw) INTERNALDATE " 4-May-2021 03:02:01 +0200"'
            b" RFC822.SIZE 12)",
            b"2 (FLAGS (\\Seen))",  # unsolicited: ignored
        ]
    )
    assert meta == [mig.RemoteMessage(7, frozenset({"\\Seen", "kw"}), WHEN, 12)]
    bodies = mig.parse_bodies(
        [(b"1 (UID 7 BODY[] {2}", b"ab"), b")", (b"2 (BODY[] {1}", b"c"), b" UID 9)"]
    )
    assert bodies == {7: b"ab", 9: b"c"}
    assert Uid(1) == 1
