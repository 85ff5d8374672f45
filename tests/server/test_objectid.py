"""OBJECTID, SAVEDATE and PREVIEW through a real client library (imapclient) over TLS."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import imapclient
import pytest

from tests.server.harness import PASSWORD, ServerThread, server_settings

OBJECTID = re.compile(rb"[A-Za-z0-9_-]{1,255}")

PARENT = (
    b"From: a@example.org\r\nSubject: plans\r\nMessage-ID: <p@example.org>\r\n"
    b"Content-Type: text/html; charset=utf-8\r\n\r\n<p>Shall we <b>meet</b>?</p>\r\n"
)
REPLY = (
    b"From: b@example.org\r\nSubject: Re: plans\r\nMessage-ID: <r@example.org>\r\n"
    b"In-Reply-To: <p@example.org>\r\n\r\nYes,\r\n  at noon.\r\n"
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    with ServerThread(server_settings(tmp_path / "data")) as running:
        yield running


def test_imapclient_fetches_object_ids_savedate_and_preview(server: ServerThread) -> None:
    client = imapclient.IMAPClient(
        "127.0.0.1", port=server.imaps_port, ssl=True, ssl_context=server.client_tls_context()
    )
    try:
        client.login("alice", PASSWORD)
        caps = client.capabilities()
        assert {b"OBJECTID", b"SAVEDATE", b"PREVIEW"} <= set(caps)
        client.create_folder("Plans")
        (mailbox_id,) = client.folder_status("Plans", ["MAILBOXID"])[b"MAILBOXID"]
        assert OBJECTID.fullmatch(mailbox_id)
        old = dt.datetime(2020, 5, 17, 9, 30)
        client.append("Plans", PARENT, msg_time=old)
        client.append("Plans", REPLY)
        client.select_folder("Plans")
        got = client.fetch([1, 2], ["EMAILID", "THREADID", "PREVIEW", "SAVEDATE", "INTERNALDATE"])
        first, second = got[1], got[2]
        assert first[b"PREVIEW"] == b"Shall we meet ?"
        assert second[b"PREVIEW"] == b"Yes, at noon."
        (email_1,) = first[b"EMAILID"]
        (email_2,) = second[b"EMAILID"]
        assert OBJECTID.fullmatch(email_1)
        assert email_1 != email_2
        assert first[b"THREADID"] == second[b"THREADID"]
        # RFC 8514 §3: the save date is when it was saved, whatever the internal date.
        assert first[b"INTERNALDATE"].year == 2020
        saved = dt.datetime.strptime(first[b"SAVEDATE"].decode().strip(), "%d-%b-%Y %H:%M:%S %z")
        assert abs(saved - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
        assert client.search(["EMAILID", email_2.decode()]) == [2]
        (thread,) = first[b"THREADID"]
        assert client.search(["THREADID", thread.decode()]) == [1, 2]
        # RFC 8474 §4: the id survives RENAME.
        client.unselect_folder()
        client.rename_folder("Plans", "Done")
        assert client.folder_status("Done", ["MAILBOXID"])[b"MAILBOXID"] == (mailbox_id,)
    finally:
        client.logout()
