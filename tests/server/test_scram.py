"""AUTHENTICATE SCRAM-SHA-256 and SCRAM-SHA-256-PLUS end to end (RFC 7677, RFC 5929)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.auth.test_scram import client_final
from tests.server.harness import PASSWORD, LineClient, ServerThread, server_settings


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    with ServerThread(server_settings(tmp_path / "data")) as running:
        yield running


def _exchange(client: LineClient, mechanism: bytes, gs2: str, cb: bytes, password: str) -> bytes:
    bare = "n=alice,r=clientnonce0123"
    first = base64.b64encode((gs2 + bare).encode())
    client.send(b"a1 AUTHENTICATE " + mechanism + b" " + first + b"\r\n")
    line = client.line()
    assert line.startswith(b"+ "), line
    server_first = base64.b64decode(line[2:]).decode()
    final, signature = client_final(password, bare, server_first, gs2, cb)
    client.send(base64.b64encode(final) + b"\r\n")
    line = client.line()
    if not line.startswith(b"+ "):
        return line
    assert base64.b64decode(line[2:]) == b"v=" + base64.b64encode(signature)
    client.send(b"\r\n")
    return client.line()


def test_scram_on_a_plain_loopback_connection(server: ServerThread) -> None:
    client = LineClient(server.imap_port)
    try:
        assert b" AUTH=SCRAM-SHA-256 " in client.line()
        answer = _exchange(client, b"SCRAM-SHA-256", "n,,", b"", PASSWORD)
        assert answer.startswith(b"a1 OK [CAPABILITY ")
    finally:
        client.close()


def test_scram_wrong_password(server: ServerThread) -> None:
    client = LineClient(server.imap_port)
    try:
        client.line()
        answer = _exchange(client, b"SCRAM-SHA-256", "n,,", b"", "not the password")
        assert answer == b"a1 NO [AUTHENTICATIONFAILED] Authentication failed"
    finally:
        client.close()


def test_scram_plus_over_tls(server: ServerThread) -> None:
    client = LineClient(server.imaps_port)
    try:
        client.wrap_tls(server.client_tls_context())
        assert b" AUTH=SCRAM-SHA-256-PLUS " in client.line()
        pem = (server.settings.server.data_dir / "tls" / "cert.pem").read_bytes()
        der = x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
        end_point = hashlib.sha256(der).digest()
        gs2 = "p=tls-server-end-point,,"
        answer = _exchange(client, b"SCRAM-SHA-256-PLUS", gs2, end_point, PASSWORD)
        assert answer.startswith(b"a1 OK [CAPABILITY ")
    finally:
        client.close()
