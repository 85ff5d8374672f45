"""Messages through real client libraries over TLS: append, fetch, flag, copy, move, expunge."""

from __future__ import annotations

import datetime as dt
import imaplib
from collections.abc import Iterator
from pathlib import Path

import imapclient
import pytest

from tests.server.harness import PASSWORD, ServerThread, server_settings

MESSAGE = (
    b"From: =?utf-8?q?Luc=C3=ADa?= <lucia@example.com>\r\n"
    b"To: Alice <alice@example.org>\r\n"
    b"Subject: Report\r\n"
    b"Date: Tue, 03 Nov 2026 11:14:00 +0100\r\n"
    b"Message-ID: <r1@example.com>\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="b1"\r\n'
    b"\r\n"
    b"--b1\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: quoted-printable\r\n"
    b"\r\n"
    b"The report is ready =E2=80=94 see attached.\r\n"
    b"--b1\r\n"
    b'Content-Type: application/octet-stream; name="data.bin"\r\n'
    b"Content-Transfer-Encoding: base64\r\n"
    b'Content-Disposition: attachment; filename="data.bin"\r\n'
    b"\r\n"
    b"AQIDBAUGBwgJCg==\r\n"
    b"--b1--\r\n"
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    with ServerThread(server_settings(tmp_path / "data")) as running:
        yield running


@pytest.fixture
def client(server: ServerThread) -> Iterator[imapclient.IMAPClient]:
    connection = imapclient.IMAPClient(
        "127.0.0.1", port=server.imaps_port, ssl=True, ssl_context=server.client_tls_context()
    )
    connection.login("alice", PASSWORD)
    try:
        yield connection
    finally:
        connection.logout()


def test_append_and_fetch_every_item(client: imapclient.IMAPClient) -> None:
    when = dt.datetime(2026, 11, 3, 11, 14, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    appended = client.append("INBOX", MESSAGE, flags=[b"$Report"], msg_time=when)
    assert appended.startswith(b"[APPENDUID ")
    info = client.select_folder("INBOX")
    assert info[b"EXISTS"] == 1
    assert info[b"UIDNEXT"] == 2
    uid = 1
    data = client.fetch(
        [uid],
        [
            "FLAGS",
            "INTERNALDATE",
            "RFC822.SIZE",
            "ENVELOPE",
            "BODYSTRUCTURE",
            "BODY.PEEK[]",
            "BODY.PEEK[HEADER.FIELDS (SUBJECT)]",
            "BODY.PEEK[1]",
            "BINARY.PEEK[2]",
            "BINARY.SIZE[2]",
            "RFC822.HEADER",
        ],
    )[uid]
    assert set(data[b"FLAGS"]) == {b"$Report", b"\\Recent"}
    # imapclient gives INTERNALDATE as naive local time.
    assert data[b"INTERNALDATE"] == when.astimezone().replace(tzinfo=None)
    assert data[b"RFC822.SIZE"] == len(MESSAGE)
    envelope = data[b"ENVELOPE"]
    assert envelope.subject == b"Report"
    assert envelope.from_[0].mailbox == b"lucia"
    assert envelope.from_[0].name == b"=?utf-8?q?Luc=C3=ADa?="
    assert envelope.message_id == b"<r1@example.com>"
    structure = data[b"BODYSTRUCTURE"]
    assert structure.is_multipart
    assert data[b"BODY[]"] == MESSAGE
    assert data[b"BODY[HEADER.FIELDS (SUBJECT)]"] == b"Subject: Report\r\n\r\n"
    assert data[b"BODY[1]"] == b"The report is ready =E2=80=94 see attached."
    assert data[b"BINARY[2]"] == bytes(range(1, 11))  # no NUL: imaplib knows no literal8
    assert data[b"BINARY.SIZE[2]"] == 10
    assert data[b"RFC822.HEADER"] == MESSAGE.split(b"\r\n\r\n")[0] + b"\r\n\r\n"
    # PEEK left \Seen alone; a plain BODY[TEXT] sets it and says so.
    seen = client.fetch([uid], ["BODY[TEXT]"])[uid]
    assert b"\\Seen" in seen[b"FLAGS"]


def test_flag_copy_move_expunge(client: imapclient.IMAPClient) -> None:
    for n in range(5):
        client.append("INBOX", MESSAGE.replace(b"Report", b"Report %d" % n))
    client.select_folder("INBOX")
    assert client.add_flags([1, 2], [b"\\Flagged", b"$Work"]) == {
        1: (b"$Work", b"\\Flagged", b"\\Recent"),
        2: (b"$Work", b"\\Flagged", b"\\Recent"),
    }
    client.remove_flags([2], [b"$Work"])
    assert client.get_flags([1, 2]) == {
        1: (b"$Work", b"\\Flagged", b"\\Recent"),
        2: (b"\\Flagged", b"\\Recent"),
    }
    client.copy([1, 2], "Archive")
    client.move([3], "Trash")
    client.set_flags([4], [b"\\Deleted"])
    client.expunge()
    assert sorted(client.fetch([1, 2, 3, 4, 5], ["UID"])) == [1, 2, 5]
    assert client.folder_status("Archive", ["MESSAGES"]) == {b"MESSAGES": 2}
    assert client.folder_status("Trash", ["MESSAGES"]) == {b"MESSAGES": 1}
    client.select_folder("Archive", readonly=True)
    subjects = client.fetch([1, 2], ["BODY.PEEK[HEADER.FIELDS (SUBJECT)]"])
    assert [v[b"BODY[HEADER.FIELDS (SUBJECT)]"] for _, v in sorted(subjects.items())] == [
        b"Subject: Report 0\r\n\r\n",
        b"Subject: Report 1\r\n\r\n",
    ]


def test_imaplib_append_select_fetch(server: ServerThread) -> None:
    with imaplib.IMAP4_SSL(
        "127.0.0.1", server.imaps_port, ssl_context=server.client_tls_context()
    ) as imap:
        imap.login("alice", PASSWORD)
        assert imap.append("INBOX", "(\\Seen)", None, MESSAGE)[0] == "OK"
        assert imap.select("INBOX") == ("OK", [b"1"])
        typ, fetched = imap.fetch("1", "(UID RFC822)")
        assert typ == "OK"
        first = fetched[0]
        assert isinstance(first, tuple)
        assert first[0] == b"1 (UID 1 RFC822 {%d}" % len(MESSAGE)
        assert first[1] == MESSAGE
        assert imap.store("1", "+FLAGS", "(\\Deleted)")[0] == "OK"
        assert imap.expunge() == ("OK", [b"1"])
        assert imap.close()[0] == "OK"


def test_downloading_a_mailbox_as_an_offline_client_does(client: imapclient.IMAPClient) -> None:
    """UID, FLAGS, RFC822.SIZE and BODY.PEEK[] of every message, as Thunderbird fetches
    for offline use (`server/fetchwhole.py`); \\Seen stays as it was."""
    bodies = [MESSAGE.replace(b"Report", b"Report %d" % i) for i in range(1, 6)]
    for i, body in enumerate(bodies):
        client.append("INBOX", body, flags=[b"\\Seen"] if i % 2 else [])
    client.select_folder("INBOX")
    data = client.fetch(client.search("ALL"), ["UID", "FLAGS", "RFC822.SIZE", "BODY.PEEK[]"])
    assert sorted(data) == [1, 2, 3, 4, 5]
    for uid, body in zip(range(1, 6), bodies, strict=True):
        assert data[uid][b"BODY[]"] == body
        assert data[uid][b"RFC822.SIZE"] == len(body)
        assert (b"\\Seen" in data[uid][b"FLAGS"]) == (uid % 2 == 0)
    partial = client.fetch([2], ["BODY.PEEK[]<0.20>"])
    assert partial[2][b"BODY[]<0>"] == bodies[1][:20]
    assert b"\\Seen" not in client.get_flags([1])[1]
