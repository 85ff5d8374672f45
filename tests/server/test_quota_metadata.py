"""SETQUOTA by an administrator, METADATA limits and per-user entries, over the wire."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from buzon.config import LimitSettings
from tests.server.harness import PASSWORD, LineClient, ServerThread, server_settings


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    settings = server_settings(
        tmp_path / "data", LimitSettings(max_metadata_size=1024, max_metadata_entries=2)
    )
    settings = dataclasses.replace(
        settings, auth=dataclasses.replace(settings.auth, admins=("alice",))
    )
    with ServerThread(settings) as running:
        yield running
    for client in _OPEN:
        client.close()
    _OPEN.clear()


_OPEN: list[LineClient] = []


def login(server: ServerThread, user: str) -> LineClient:
    client = LineClient(server.imap_port)
    _OPEN.append(client)
    client.line()
    assert run(client, f"x LOGIN {user} {PASSWORD}")[-1].startswith("x OK")
    return client


def run(client: LineClient, command: str) -> list[str]:
    tag = command.split(maxsplit=1)[0]
    client.send(command.encode() + b"\r\n")
    lines: list[str] = []
    while True:
        lines.append(client.line().decode())
        if lines[-1].startswith(tag + " "):
            return lines


def test_admin_sets_quota_others_cannot(server: ServerThread) -> None:
    alice = login(server, "alice")
    bob = login(server, "bob")
    assert run(alice, 'a SETQUOTA "" (STORAGE 512 MESSAGE 10)') == [
        '* QUOTA "" (STORAGE 0 512 MESSAGE 0 10)',
        "a OK SETQUOTA completed",
    ]
    # RFC 9208 §4.1.3: limits not listed are removed.
    assert run(alice, 'b SETQUOTA "" (MESSAGE 3)')[0] == '* QUOTA "" (MESSAGE 0 3)'
    assert run(alice, 'c SETQUOTA "" ()')[0] == '* QUOTA "" ()'
    # RFC 9208 §5.3: MAILBOX counts the selectable mailboxes (7 default ones).
    assert run(alice, 'd SETQUOTA "" (MAILBOX 8)') == [
        '* QUOTA "" (MAILBOX 7 8)',
        "d OK SETQUOTA completed",
    ]
    assert run(alice, "g CREATE one")[-1].startswith("g OK [MAILBOXID (")  # RFC 8474 §4.1
    assert run(alice, "h CREATE two") == [
        "h NO [OVERQUOTA] quota exceeded: 8 of 8 mailboxes in use"
    ]
    assert run(alice, "i GETQUOTAROOT two") == [
        '* QUOTAROOT two ""',
        '* QUOTA "" (MAILBOX 8 8)',
        "i OK GETQUOTAROOT completed",
    ]
    assert run(alice, 'j SETQUOTA "" (ANNOTATION-STORAGE 3)') == [
        "j NO [CANNOT] Unsupported quota resource ANNOTATION-STORAGE"
    ]
    assert run(alice, 'e SETQUOTA "" (STORAGE 1 STORAGE 2)')[0].startswith("e NO [CLIENTBUG]")
    assert run(bob, 'f SETQUOTA "" (STORAGE 1)')[0].startswith("f NO [NOPERM]")


def test_metadata_limits_and_private_entries(server: ServerThread) -> None:
    alice = login(server, "alice")
    bob = login(server, "bob")
    too_big = "x" * 1025
    assert run(alice, f'a SETMETADATA INBOX (/private/a "{too_big}")') == [
        "a NO [METADATA MAXSIZE 1024] Annotation value too large"
    ]
    assert run(alice, 'b SETMETADATA INBOX (/private/a "1" /private/b "2")')[-1].startswith("b OK")
    # RFC 5464 §4.3: TOOMANY, and nothing of the command is kept.
    assert run(alice, 'c SETMETADATA INBOX (/private/a "9" /private/c "3")') == [
        "c NO [METADATA TOOMANY] at most 2 annotations per mailbox"
    ]
    assert run(alice, "d GETMETADATA INBOX /private/a")[0] == '* METADATA INBOX (/private/a "1")'
    # The same names for bob are his own.
    assert run(bob, "e GETMETADATA INBOX /private/a")[0] == "* METADATA INBOX (/private/a NIL)"
    # Administrators may set shared server annotations, which everyone reads; /shared/admin
    # stays read-only (RFC 5464 §3.2.1.1).
    assert run(alice, 'f SETMETADATA "" (/shared/comment "hi")')[-1].startswith("f OK")
    assert run(bob, 'g GETMETADATA "" /shared/comment')[0] == '* METADATA "" (/shared/comment "hi")'
    assert run(alice, 'h SETMETADATA "" (/shared/admin "x")')[0].startswith("h NO [NOPERM]")
    assert run(bob, 'i SETMETADATA "" (/shared/comment "x")')[0].startswith("i NO [NOPERM]")


def test_shared_server_metadata_change_reaches_every_user(server: ServerThread) -> None:
    """RFC 5465 §5.7: a /shared server entry is everyone's; bob hears the admin set it."""
    alice = login(server, "alice")
    bob = login(server, "bob")
    assert run(bob, "a NOTIFY SET (personal (ServerMetadataChange))") == ["a OK NOTIFY completed"]
    assert run(alice, 'b SETMETADATA "" (/shared/comment "maintenance at 6")')[-1].startswith(
        "b OK"
    )
    assert run(bob, "c NOOP") == ['* METADATA "" /shared/comment', "c OK NOOP completed"]
    # alice's /private server entries are hers alone.
    assert run(alice, 'd SETMETADATA "" (/private/comment "mine")')[-1].startswith("d OK")
    assert run(bob, "e NOOP") == ["e OK NOOP completed"]
