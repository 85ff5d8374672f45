"""poplib over TLS and STLS, the STLS injection defence, the plaintext policy, limits, and
one mailbox seen consistently through POP3 and IMAP."""

from __future__ import annotations

import imaplib
import poplib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from buzon.config import LimitSettings
from buzon.pop3.service import Pop3Connection
from tests.pop3.harness import PASSWORD, Pop3Thread, pop3_running
from tests.server.fixtures import message


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Pop3Thread]:
    with pop3_running(tmp_path / "data") as server:
        yield server


def _imap(running: Pop3Thread) -> imaplib.IMAP4_SSL:
    imap = imaplib.IMAP4_SSL(
        "127.0.0.1", running.server.imaps_port, ssl_context=running.server.client_tls_context()
    )
    imap.login("alice", PASSWORD)
    return imap


def _pop3s(running: Pop3Thread) -> poplib.POP3_SSL:
    client = poplib.POP3_SSL(
        "127.0.0.1", running.pop3s_port, context=running.server.client_tls_context()
    )
    client.user("alice")
    client.pass_(PASSWORD)
    return client


def _append(imap: imaplib.IMAP4_SSL, *messages: bytes) -> None:
    for data in messages:
        assert imap.append("INBOX", None, None, data)[0] == "OK"


def test_poplib_over_tls_and_imap_agree(running: Pop3Thread) -> None:
    imap = _imap(running)
    try:
        two = message(2, "Two", body="Line\r\n.dot\r\nend")
        _append(imap, message(1, "One"), two)
        imap.select("INBOX")
        _, data = imap.status("INBOX", "(UIDVALIDITY)")
        match = re.search(rb"UIDVALIDITY (\d+)", data[0] or b"")
        assert match is not None
        uidvalidity = int(match.group(1))

        pop = _pop3s(running)
        assert pop.stat() == (2, len(message(1, "One")) + len(two))
        _, uidls, _ = pop.uidl()
        expected = [f"{n} {n:08X}{uidvalidity:08X}".encode() for n in (1, 2)]
        assert uidls == expected
        _, lines, _ = pop.retr(2)
        # poplib removes the dot-stuffing; the lines are the message's, exactly.
        assert b"\r\n".join(lines) + b"\r\n" == two
        typ, fetched = imap.fetch("2", "(BODY.PEEK[])")
        assert typ == "OK"
        first = fetched[0]
        assert isinstance(first, tuple)
        assert first[1] == b"\r\n".join(lines) + b"\r\n"
        _, top, _ = pop.top(1, 0)
        assert top[-1] == b""
        assert top[0].startswith(b"From: ")
        pop.dele(1)
        assert pop.quit().startswith(b"+OK")

        # The IMAP session hears of the deletion as an ordinary EXPUNGE.
        imap.noop()
        assert imap.response("EXPUNGE") == ("EXPUNGE", [b"1"])
        _, flags = imap.fetch("1", "(UID FLAGS)")
        # RETR made message 2 (now 1) \Seen; imaplib also keeps NOOP's unsolicited FETCH.
        assert flags[-1] == b"1 (UID 2 FLAGS (\\Recent \\Seen))"
    finally:
        imap.logout()


def test_uidl_is_stable_and_new_mail_shows_in_the_next_session(running: Pop3Thread) -> None:
    imap = _imap(running)
    try:
        _append(imap, message(1, "One"), message(2, "Two"))
        first = _pop3s(running)
        _, before, _ = first.uidl()
        _append(imap, message(3, "Three"))
        # The running session keeps its snapshot (RFC 1939 §4: numbers fixed per session).
        assert first.stat()[0] == 2
        first.quit()
        second = _pop3s(running)
        _, after, _ = second.uidl()
        assert after[:2] == before
        assert len(after) == 3
        second.quit()
    finally:
        imap.logout()


def test_poplib_stls(running: Pop3Thread) -> None:
    client = poplib.POP3("127.0.0.1", running.pop3_port)
    try:
        assert "STLS" in client.capa()
        client.stls(context=running.server.client_tls_context())
        caps = client.capa()
        assert "STLS" not in caps
        assert caps["SASL"] == ["SCRAM-SHA-256", "SCRAM-SHA-256-PLUS", "PLAIN", "LOGIN"]
        client.user("bob")
        assert client.pass_(PASSWORD).startswith(b"+OK Logged in")
        assert client.stat() == (0, 0)
    finally:
        client.quit()


def test_stls_discards_injected_commands(running: Pop3Thread) -> None:
    """RFC 2595 §4: bytes sent with STLS, before the handshake, are never executed."""
    client = running.pop3_client()
    try:
        client.send(b"STLS\r\nUSER alice\r\nPASS secret\r\nQUIT\r\n")
        assert client.line() == b"+OK Begin TLS negotiation now"
        client.wrap_tls(running.server.client_tls_context())
        # Had the injected USER/PASS run, STAT would work; it needs authentication instead.
        client.send(b"STAT\r\n")
        assert client.line() == b"-ERR STAT needs authentication first"
        client.send(b"STLS\r\n")
        assert client.line() == b"-ERR Command not permitted when TLS active"
    finally:
        client.close()


def _not_loopback(running: Pop3Thread) -> None:
    """Make the only open session believe its peer is remote."""

    async def flip() -> None:
        (conn,) = running.pop3.ctx.connections
        assert isinstance(conn, Pop3Connection)
        conn.loopback = False

    running.server.call(flip)


def test_no_plaintext_password_before_stls_on_a_remote_connection(running: Pop3Thread) -> None:
    client = running.pop3_client()
    try:
        _not_loopback(running)
        client.send(b"CAPA\r\n")
        caps = []
        while (line := client.line()) != b".":
            caps.append(line)
        assert caps == [
            b"+OK Capability list follows",
            b"TOP",
            b"UIDL",
            b"RESP-CODES",
            b"AUTH-RESP-CODE",
            b"PIPELINING",
            b"STLS",
            b"SASL SCRAM-SHA-256",  # RFC 7677: SCRAM sends no password
        ]
        refusal = b"-ERR [AUTH] Plaintext authentication is disallowed on non-secure connections"
        client.send(b"USER alice\r\n")
        assert client.line() == refusal + b"; use STLS"
        client.send(b"AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n")
        assert client.line() == refusal + b"; use STLS"
        client.send(b"AUTH\r\n")
        assert client.line() == b"+OK"
        assert client.line() == b"SCRAM-SHA-256"
        assert client.line() == b"."
        client.send(b"STLS\r\n")
        assert client.line() == b"+OK Begin TLS negotiation now"
        client.wrap_tls(running.server.client_tls_context())
        client.send(b"USER alice\r\nPASS secret\r\n")
        assert client.line() == b"+OK"
        assert client.line() == b"+OK Logged in, 0 messages (0 octets)"
    finally:
        client.close()


def test_overlong_line_is_refused_and_the_session_goes_on(running: Pop3Thread) -> None:
    client = running.pop3_client()
    try:
        client.send(b"USER " + b"a" * 20000 + b"\r\nCAPA\r\n")
        assert client.line() == b"-ERR Line too long"
        assert client.line() == b"+OK Capability list follows"
    finally:
        client.close()


def test_a_client_that_does_not_speak_pop3_is_dropped(running: Pop3Thread) -> None:
    client = running.pop3_client()
    try:
        client.send(b"GET / HTTP/1.1\r\n" + b"Header: x\r\n" * 12)
        for _ in range(9):
            assert client.line().startswith(b"-ERR ")
        assert client.line() == b"-ERR Too many invalid commands"
        assert client.closed()
    finally:
        client.close()


def test_connection_limit_per_user_counts_imap_too(tmp_path: Path) -> None:
    limits = LimitSettings(max_connections_per_user=1)
    with pop3_running(tmp_path / "data", limits=limits) as running:
        imap = _imap(running)
        try:
            client = running.pop3_client()
            client.send(b"USER alice\r\nPASS secret\r\n")
            assert client.line() == b"+OK"
            assert client.line() == b"-ERR [IN-USE] Too many connections for this user"
            client.close()
        finally:
            imap.logout()


def test_unauthenticated_timeout_closes_silently(tmp_path: Path) -> None:
    limits = LimitSettings(unauthenticated_timeout=0.2)
    with pop3_running(tmp_path / "data", limits=limits) as running:
        client = running.pop3_client()
        try:
            assert client.closed(wait=5.0)
        finally:
            client.close()
