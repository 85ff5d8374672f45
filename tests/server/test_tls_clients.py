"""Real client libraries over real TLS: imaplib and imapclient, implicit TLS and STARTTLS."""

from __future__ import annotations

import imaplib
from collections.abc import Iterator
from pathlib import Path

import imapclient
import imapclient.imapclient
import pytest

from tests.server.harness import PASSWORD, LineClient, ServerThread, server_settings


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    with ServerThread(server_settings(tmp_path / "data")) as running:
        yield running


def test_imaplib_over_implicit_tls(server: ServerThread) -> None:
    # imaplib sends mailbox names as given: the test writes them in modified UTF-7.
    with imaplib.IMAP4_SSL(
        "127.0.0.1", server.imaps_port, ssl_context=server.client_tls_context()
    ) as imap:
        assert "STARTTLS" not in imap.capabilities
        assert imap.login("alice", PASSWORD)[0] == "OK"
        assert imap.create("Projects/Buz&APM-n")[0] == "OK"
        assert imap.list('""', "Projects/*") == (
            "OK",
            [b'(\\HasNoChildren) "/" Projects/Buz&APM-n'],
        )
        assert imap.subscribe("Projects/Buz&APM-n")[0] == "OK"
        assert imap.lsub('""', "Projects/*") == ("OK", [b'() "/" Projects/Buz&APM-n'])
        assert imap.rename("Projects", "Archive/Projects")[0] == "OK"
        assert imap.status("Archive/Projects/Buz&APM-n", "(MESSAGES UIDNEXT UNSEEN)") == (
            "OK",
            [b"Archive/Projects/Buz&APM-n (MESSAGES 0 UIDNEXT 1 UNSEEN 0)"],
        )
        assert imap.delete("Archive/Projects/Buz&APM-n")[0] == "OK"
        assert imap.list('""', "Archive/*") == ("OK", [b'(\\HasNoChildren) "/" Archive/Projects'])
        assert imap.logout()[0] == "BYE"


def test_imaplib_starttls(server: ServerThread) -> None:
    imap = imaplib.IMAP4("127.0.0.1", server.imap_port)
    try:
        assert "STARTTLS" in imap.capabilities
        assert imap.starttls(ssl_context=server.client_tls_context())[0] == "OK"
        assert "STARTTLS" not in imap.capabilities
        assert imap.login("bob", PASSWORD)[0] == "OK"
        assert imap.namespace() == (
            "OK",
            [b'(("" "/")) (("Other Users/" "/")) (("Shared Folders/" "/"))'],
        )
    finally:
        imap.logout()


def test_imapclient_over_tls(server: ServerThread) -> None:
    client = imapclient.IMAPClient(
        "127.0.0.1", port=server.imaps_port, ssl=True, ssl_context=server.client_tls_context()
    )
    try:
        client.login("alice", PASSWORD)
        folders = {name: flags for flags, _delim, name in client.list_folders()}
        assert folders["Sent"] == (b"\\HasNoChildren", b"\\Sent")
        assert set(folders) == {"INBOX", "Archive", "Drafts", "Junk", "Sent", "Templates", "Trash"}
        assert client.find_special_folder(imapclient.imapclient.SENT) == "Sent"
        client.create_folder("Ñandú")
        assert client.folder_exists("Ñandú")
        assert client.folder_status("Ñandú", ["MESSAGES"]) == {b"MESSAGES": 0}
        client.id_({"name": "pytest"})
    finally:
        client.logout()


def test_starttls_discards_injected_commands(server: ServerThread) -> None:
    """RFC 9051 §6.2.1: bytes sent before the handshake completes are never executed."""
    client = LineClient(server.imap_port)
    try:
        assert client.line().startswith(b"* OK")
        # An attacker in the middle appends a command to the client's STARTTLS.
        client.send(b"a1 STARTTLS\r\na2 CREATE Injected\r\n")
        assert client.line() == b"a1 OK Begin TLS negotiation now"
        client.wrap_tls(server.client_tls_context())
        client.send(b"a3 LOGIN alice secret\r\n")
        assert client.line().startswith(b"a3 OK ")
        client.send(b'a4 LIST "" Injected\r\n')
        assert client.line() == b"a4 OK LIST completed"
    finally:
        client.close()
