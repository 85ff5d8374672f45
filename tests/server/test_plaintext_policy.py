"""RFC 9051 §6.2.3: no plaintext passwords on an unencrypted, non-loopback connection."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from buzon.server import connection
from tests.server.harness import LineClient, ServerThread, server_settings


@pytest.fixture
def remote_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ServerThread]:
    # Every peer looks remote: the policy for addresses other than loopback applies.
    monkeypatch.setattr(connection, "_is_loopback", lambda host: False)
    with ServerThread(server_settings(tmp_path / "data")) as running:
        yield running


def test_logindisabled_until_starttls(remote_server: ServerThread) -> None:
    client = LineClient(remote_server.imap_port)
    try:
        greeting = client.line()
        assert greeting == (
            b"* OK [CAPABILITY IMAP4rev1 IMAP4rev2 LITERAL+ SASL-IR ID ENABLE STARTTLS "
            b"AUTH=SCRAM-SHA-256 LOGINDISABLED] Buzon ready."
        )
        client.send(b"a1 LOGIN alice secret\r\n")
        assert client.line() == (
            b"a1 NO [PRIVACYREQUIRED] Plaintext authentication is disabled on unencrypted "
            b"connections; use STARTTLS"
        )
        client.send(b"a2 AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\r\n")
        assert client.line().startswith(b"a2 NO [PRIVACYREQUIRED] ")
        client.send(b"a3 STARTTLS\r\n")
        assert client.line() == b"a3 OK Begin TLS negotiation now"
        client.wrap_tls(remote_server.client_tls_context())
        client.send(b"a4 CAPABILITY\r\n")
        assert client.line() == (
            b"* CAPABILITY IMAP4rev1 IMAP4rev2 LITERAL+ SASL-IR ID ENABLE AUTH=SCRAM-SHA-256 "
            b"AUTH=SCRAM-SHA-256-PLUS AUTH=PLAIN AUTH=LOGIN"
        )
        assert client.line() == b"a4 OK CAPABILITY completed"
        client.send(b"a5 LOGIN alice secret\r\n")
        assert client.line().startswith(b"a5 OK [CAPABILITY ")
    finally:
        client.close()


def test_implicit_tls_allows_plaintext_mechanisms(remote_server: ServerThread) -> None:
    client = LineClient(remote_server.imaps_port)
    try:
        client.wrap_tls(remote_server.client_tls_context())
        assert client.line() == (
            b"* OK [CAPABILITY IMAP4rev1 IMAP4rev2 LITERAL+ SASL-IR ID ENABLE AUTH=SCRAM-SHA-256 "
            b"AUTH=SCRAM-SHA-256-PLUS AUTH=PLAIN AUTH=LOGIN] Buzon ready."
        )
    finally:
        client.close()
