"""REPLACE (RFC 8508) through imaplib over TLS, and CATENATE's TOOBIG (RFC 4469 §4.2)."""

from __future__ import annotations

import imaplib
from dataclasses import replace
from pathlib import Path

import pytest

from buzon.config import LimitSettings
from tests.server.harness import PASSWORD, LineClient, ServerThread, server_settings

DRAFT = b"Subject: draft 1\r\nTo: bob@example.org\r\n\r\nFirst version.\r\n"
FINAL = b"Subject: draft 2\r\nTo: bob@example.org\r\n\r\nSecond version, longer.\r\n"


def test_imaplib_replace_and_uid_replace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # imaplib refuses commands it does not know; REPLACE is valid in the selected state.
    monkeypatch.setitem(imaplib.Commands, "REPLACE", ("SELECTED",))
    with (
        ServerThread(server_settings(tmp_path / "data")) as server,
        imaplib.IMAP4_SSL(
            "127.0.0.1", server.imaps_port, ssl_context=server.client_tls_context()
        ) as imap,
    ):
        imap.login("alice", PASSWORD)
        assert b"REPLACE" in imap.capability()[1][0].split()
        assert imap.append("Drafts", "(\\Draft)", None, DRAFT)[0] == "OK"
        assert imap.select("Drafts") == ("OK", [b"1"])
        imap.literal = FINAL  # type: ignore[assignment]  # typeshed says str; imaplib sends bytes
        typ, data = imap._simple_command("REPLACE", "1", "Drafts", "(\\Draft \\Seen)")
        assert typ == "OK", data
        untagged_ok = imap.untagged_responses["OK"][-1]
        assert isinstance(untagged_ok, bytes)
        assert untagged_ok.startswith(b"[APPENDUID ")
        assert imap.response("EXPUNGE") == ("EXPUNGE", [b"1"])
        typ, fetched = imap.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[])")
        first = fetched[0]
        assert isinstance(first, tuple)
        assert b"UID 2" in first[0]
        assert b"\\Seen" in first[0]
        assert first[1] == FINAL
        # UID REPLACE into another mailbox: Drafts is left empty, Sent has the message.
        imap.literal = DRAFT  # type: ignore[assignment]
        typ, data = imap.uid("REPLACE", "2", "Sent", "()")
        assert typ == "OK", data
        assert imap.status("Drafts", "(MESSAGES)")[1] == [b"Drafts (MESSAGES 0)"]
        assert imap.status("Sent", "(MESSAGES)")[1] == [b"Sent (MESSAGES 1)"]


def test_catenate_past_the_size_limit_is_toobig(tmp_path: Path) -> None:
    limits = replace(LimitSettings(), max_literal=4096)
    with ServerThread(server_settings(tmp_path / "data", limits)) as server:
        client = LineClient(server.imap_port)
        try:
            client.line()
            client.send(f"a1 LOGIN alice {PASSWORD}\r\n".encode())
            assert client.line().startswith(b"a1 OK")
            body = b"Subject: big\r\n\r\n" + b"x" * 1500 + b"\r\n"
            client.send(b"a2 APPEND INBOX {%d+}\r\n" % len(body) + body + b"\r\n")
            assert client.line().startswith(b"a2 OK [APPENDUID ")
            url = b' URL "/INBOX/;UID=1"'
            client.send(b"a3 APPEND Drafts CATENATE (" + url[1:] + url + url + b")\r\n")
            assert client.line() == (
                b"a3 NO [TOOBIG] Message is larger than the limit of 4096 octets"
            )
            client.send(b"a4 APPEND Drafts CATENATE (" + url[1:] + url + b")\r\n")
            assert client.line().startswith(b"a4 OK [APPENDUID ")
        finally:
            client.close()


def test_submit_urls_are_for_the_submission_server(tmp_path: Path) -> None:
    """RFC 4467 §3: "submit+alice" is fetched by the submission server's user, not by alice."""
    base = server_settings(tmp_path / "data")
    settings = replace(base, auth=replace(base.auth, submit_users=("bob",)))
    with ServerThread(settings) as server:
        alice, bob = LineClient(server.imap_port), LineClient(server.imap_port)
        try:
            for client, user in ((alice, b"alice"), (bob, b"bob")):
                client.line()
                client.send(b"a1 LOGIN %s %s\r\n" % (user, PASSWORD.encode()))
                assert client.line().startswith(b"a1 OK")
            alice.send(b"a2 APPEND INBOX {13+}\r\nSubject: hi\r\n\r\n")
            assert alice.line().startswith(b"a2 OK [APPENDUID ")
            rump = b"imap://alice@localhost/INBOX/;UID=1;URLAUTH=submit+alice"
            alice.send(b"a3 GENURLAUTH " + rump + b" INTERNAL\r\n")
            answer = alice.line()
            assert answer.startswith(b"* GENURLAUTH " + rump + b":INTERNAL:")
            url = answer.split(b" ")[2]
            assert alice.line() == b"a3 OK GENURLAUTH completed"
            alice.send(b"a4 URLFETCH " + url + b"\r\n")
            assert alice.line() == b"* URLFETCH " + url + b" NIL"
            assert alice.line() == b"a4 OK URLFETCH completed"
            bob.send(b"b1 URLFETCH " + url + b"\r\n")
            assert bob.line() == b"* URLFETCH " + url + b" {13}"
            assert bob.exactly(13) == b"Subject: hi\r\n"
            assert bob.line() == b""
            assert bob.line() == b"b1 OK URLFETCH completed"
        finally:
            alice.close()
            bob.close()
