"""LMTP over real sockets with Python's smtplib.LMTP: TCP, Unix socket, STARTTLS."""

from __future__ import annotations

import smtplib
import sqlite3
import ssl
from pathlib import Path

from buzon.storage.api import INBOX
from tests.lmtp.harness import LmtpThread
from tests.server.harness import LineClient

MESSAGE = b"From: a@example.org\r\nSubject: hi\r\n\r\nbody\r\n"


def _send(client: smtplib.LMTP, recipients: list[str]) -> tuple[dict[str, int], list[int]]:
    """MAIL, RCPT each, DATA; the RCPT codes and the per-recipient codes after DATA.

    smtplib's `sendmail` reads one reply after DATA (it speaks SMTP); LMTP sends one per
    accepted recipient (RFC 2033 §4.2), so the others are read with `getreply`.
    """
    assert client.mail("a@example.org")[0] == 250
    rcpt = {address: client.rcpt(address)[0] for address in recipients}
    accepted = sum(1 for code in rcpt.values() if code == 250)
    first, _ = client.data(MESSAGE)
    after = [first] + [client.getreply()[0] for _ in range(accepted - 1)]
    return rcpt, after


def _count(server: LmtpThread, user: str, mailbox: str = INBOX) -> int:
    store = server.store
    assert store is not None

    async def count() -> int:
        account = await store.open_account(user)
        return (await account.mailbox_status(mailbox)).messages

    return server.call(count)


def test_tcp_several_recipients_stored_once(tmp_path: Path) -> None:
    with LmtpThread(tmp_path / "data", ("alice", "bob", "carol")) as server:
        with smtplib.LMTP("127.0.0.1", server.lmtp_port) as client:
            assert client.ehlo("client.test")[0] == 250  # smtplib.LMTP says LHLO
            assert client.has_extn("pipelining")
            assert client.has_extn("chunking")
            rcpt, after = _send(
                client, ["alice@x.test", "ghost@x.test", "bob@x.test", "carol@x.test"]
            )
        assert rcpt == {
            "alice@x.test": 250,
            "ghost@x.test": 550,
            "bob@x.test": 250,
            "carol@x.test": 250,
        }
        assert after == [250, 250, 250]
        assert [_count(server, u) for u in ("alice", "bob", "carol")] == [1, 1, 1]
        # One content row shared by the three copies (ARCHITECTURE.md: stored once).
        db = sqlite3.connect(tmp_path / "data" / "buzon.db")
        try:
            assert db.execute("SELECT count(*), max(refcount) FROM contents").fetchone() == (1, 3)
        finally:
            db.close()


def test_unix_socket(tmp_path: Path) -> None:
    with LmtpThread(tmp_path / "data") as server:
        with smtplib.LMTP(str(server.socket_path)) as client:
            client.ehlo("client.test")  # smtplib.LMTP sends LHLO for ehlo()
            rcpt, after = _send(client, ["bob@x.test"])
        assert (rcpt, after) == ({"bob@x.test": 250}, [250])
        assert _count(server, "bob") == 1
    assert not server.socket_path.exists()  # removed at stop


def test_starttls(tmp_path: Path) -> None:
    with LmtpThread(tmp_path / "data") as server:
        context = ssl.create_default_context(cafile=str(tmp_path / "data" / "tls" / "cert.pem"))
        context.check_hostname = False
        with smtplib.LMTP("127.0.0.1", server.lmtp_port) as client:
            client.ehlo("client.test")
            assert client.has_extn("starttls")
            assert client.starttls(context=context)[0] == 220
            client.ehlo("client.test")
            assert not client.has_extn("starttls")
            assert _send(client, ["alice@x.test"]) == ({"alice@x.test": 250}, [250])
        store = server.store
        assert store is not None

        async def first() -> bytes:
            mailbox = await (await store.open_account("alice")).open_mailbox(INBOX)
            return await mailbox.read_message((await mailbox.snapshot(claim_recent=False)).uids[0])

        data = server.call(first)
        assert b"with LMTPS id" in data.split(b"\r\n\r\n")[0]
        assert data.endswith(MESSAGE)


def test_stop_says_421(tmp_path: Path) -> None:
    server = LmtpThread(tmp_path / "data")
    with server:
        client = LineClient(server.lmtp_port)
        assert client.line().startswith(b"220 ")
        client.send(b"LHLO x\r\n")
        while not client.line().startswith(b"250 "):
            pass
        lmtp = server.lmtp
        assert lmtp is not None
        server.call(lmtp.stop)
        assert client.line() == b"421 4.3.2 Service shutting down"
        assert client.closed()
        client.close()
