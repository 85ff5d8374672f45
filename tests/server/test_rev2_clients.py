"""IMAP4rev2 and UTF8=ACCEPT through real client libraries: imaplib and imapclient.

imaplib switches to UTF-8 when it sends ENABLE UTF8=ACCEPT; its APPEND then puts the
`UTF8 (` wrapper inside the literal (a CPython bug), so the imaplib test appends before the
ENABLE. imapclient needs `folder_encode = False` to send names as they are. Both speak to
the plaintext port on loopback.
"""

from __future__ import annotations

import imaplib
from collections.abc import Iterator
from pathlib import Path

import imapclient
import pytest

from tests.server.harness import PASSWORD, ServerThread, server_settings

MESSAGE = "From: José <jose@example.org>\r\nSubject: Olá\r\n\r\ncorpo\r\n".encode()
ASCII_HEADERS = "From: jose@example.org\r\nSubject: hola\r\n\r\nolá\r\n".encode()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    with ServerThread(server_settings(tmp_path / "data")) as running:
        yield running


def test_imaplib_rev2(server: ServerThread) -> None:
    imap = imaplib.IMAP4("127.0.0.1", server.imap_port)
    try:
        assert {"IMAP4REV1", "IMAP4REV2"} <= set(imap.capabilities)
        assert imap.login("alice", PASSWORD)[0] == "OK"
        # RFC 6855 §4: 8-bit header fields before the ENABLE are refused.
        typ, data = imap.append("INBOX", "", None, MESSAGE)
        assert (typ, data) == ("NO", [b"Message has 8-bit header fields; ENABLE UTF8=ACCEPT first"])
        assert imap.append("INBOX", "", None, ASCII_HEADERS)[0] == "OK"
        typ, caps = imap.capability()
        assert b"UTF8=ACCEPT" in caps[0].split()
        assert imap.enable("IMAP4rev2 UTF8=ACCEPT")[0] == "OK"
        assert imap.response("ENABLED") == ("ENABLED", [b"IMAP4rev2 UTF8=ACCEPT"])
        assert imap.create('"Café/Menú"')[0] == "OK"
        assert imap.list('""', '"Caf*"') == (
            "OK",
            [
                '(\\HasChildren) "/" "Café"'.encode(),
                '(\\HasNoChildren) "/" "Café/Menú"'.encode(),
            ],
        )
        assert imap.select("INBOX")[0] == "OK"
        assert imap.copy("1", '"Café/Menú"')[0] == "OK"
        assert imap.select('"Café/Menú"') == ("OK", [b"1"])
        # RFC 9051 §6.3.2: SELECT answers LIST; no RECENT in rev2.
        assert imap.response("LIST") == ("LIST", ['(\\HasNoChildren) "/" "Café/Menú"'.encode()])
        assert imap.response("RECENT") == ("RECENT", [None])
        # RFC 9051 §6.4.4: SEARCH is answered with ESEARCH, not SEARCH.
        assert imap.uid("SEARCH", "BODY", '"olá"') == ("OK", [None])
        typ, found = imap.response("ESEARCH")
        assert found[0] is not None
        assert found[0].endswith(b" UID ALL 1"), found
        assert imap.fetch("1", "(FLAGS)") == ("OK", [b"1 (FLAGS ())"])  # no \Recent
        assert imap.rename('"Café/Menú"', '"Café/日本語"')[0] == "OK"
        assert imap.status('"Café/日本語"', "(MESSAGES DELETED)") == (
            "OK",
            ['"Café/日本語" (MESSAGES 1 DELETED 0)'.encode()],
        )
        # RFC 9051 Appendix E item 17 removed CHECK; we still accept it (a no-op).
        assert imap.check()[0] == "OK"
    finally:
        imap.logout()


def test_imapclient_utf8_accept(server: ServerThread) -> None:
    client = imapclient.IMAPClient("127.0.0.1", port=server.imap_port, ssl=False)
    try:
        client.login("alice", PASSWORD)
        assert client.has_capability("UTF8=ACCEPT")
        assert client.enable("UTF8=ACCEPT", "CONDSTORE") == [b"UTF8=ACCEPT", b"CONDSTORE"]
        client.folder_encode = False  # RFC 6855 §3: names are UTF-8 now
        # imapclient's enable() does not tell imaplib to send UTF-8 (imaplib's own switch,
        # `_mode_utf8`, would also break APPEND, see the module docstring): set the encoding.
        client._imap._encoding = "utf-8"
        client.create_folder("Café/Menú")
        assert client.list_folders("", "Caf*") == [
            ((b"\\HasChildren",), b"/", "Café".encode()),
            ((b"\\HasNoChildren",), b"/", "Café/Menú".encode()),
        ]
        assert client.folder_exists("Café/Menú")
        appended = client.append("Café/Menú", MESSAGE)
        assert appended.startswith(b"[APPENDUID ")
        selected = client.select_folder("Café/Menú")
        assert selected[b"EXISTS"] == 1
        envelope = client.fetch([1], ["ENVELOPE"])[1][b"ENVELOPE"]
        assert envelope.subject == "Olá".encode()
        assert envelope.from_[0].name == "José".encode()
        header = client.fetch([1], ["BODY.PEEK[HEADER.FIELDS (SUBJECT)]"])[1]
        assert header[b"BODY[HEADER.FIELDS (SUBJECT)]"] == "Subject: Olá\r\n\r\n".encode()
        client.close_folder()
        client.rename_folder("Café", "Bar")
        assert client.list_folders("", "Bar/*") == [
            ((b"\\HasNoChildren",), b"/", "Bar/Menú".encode())
        ]
        assert client.folder_status("Bar/Menú", ["MESSAGES"]) == {b"MESSAGES": 1}
        client.delete_folder("Bar/Menú")
        assert not client.folder_exists("Bar/Menú")
    finally:
        client.logout()
