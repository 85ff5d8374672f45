"""POP3 AUTH SCRAM-SHA-256 and SCRAM-SHA-256-PLUS with poplib (RFC 5034, RFC 7677, RFC 5929)."""

from __future__ import annotations

import base64
import hashlib
import poplib
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.auth.test_scram import client_final
from tests.pop3.harness import PASSWORD, Pop3Thread, pop3_running


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Pop3Thread]:
    with pop3_running(tmp_path / "data") as server:
        yield server


def _put(client: poplib.POP3, line: str) -> None:
    """poplib has no AUTH; its command primitives carry the exchange (not in typeshed)."""
    client._putcmd(line)  # type: ignore[attr-defined]


def _get(client: poplib.POP3) -> bytes:
    """The next reply line; raises poplib.error_proto on -ERR."""
    reply: bytes = client._getresp()  # type: ignore[attr-defined]
    return reply


def _scram(client: poplib.POP3, mechanism: str, gs2: str, cb: bytes, password: str) -> bytes:
    """One AUTH exchange through poplib's command primitives; the final reply line."""
    bare = "n=alice,r=poplibnonce42"
    first = base64.b64encode((gs2 + bare).encode()).decode()
    _put(client, f"AUTH {mechanism} {first}")
    challenge = _get(client)  # raises poplib.error_proto on -ERR
    assert challenge.startswith(b"+ "), challenge
    server_first = base64.b64decode(challenge[2:]).decode()
    final, signature = client_final(password, bare, server_first, gs2, cb)
    _put(client, base64.b64encode(final).decode())
    # RFC 5034 §4: the server-final message comes as a challenge; an empty response ends it.
    verifier = _get(client)
    assert base64.b64decode(verifier[2:]) == b"v=" + base64.b64encode(signature)
    _put(client, "")
    return _get(client)


def test_scram_without_tls(running: Pop3Thread) -> None:
    client = poplib.POP3("127.0.0.1", running.pop3_port)
    try:
        sasl = client.capa()["SASL"]
        assert "SCRAM-SHA-256" in sasl
        assert "SCRAM-SHA-256-PLUS" not in sasl
        answer = _scram(client, "SCRAM-SHA-256", "n,,", b"", PASSWORD)
        assert answer == b"+OK Logged in, 0 messages (0 octets)"
        assert client.stat() == (0, 0)
    finally:
        client.quit()


def test_scram_wrong_password(running: Pop3Thread) -> None:
    client = poplib.POP3("127.0.0.1", running.pop3_port)
    try:
        bare = "n=alice,r=poplibnonce42"
        _put(client, "AUTH SCRAM-SHA-256 " + base64.b64encode(b"n,," + bare.encode()).decode())
        server_first = base64.b64decode(_get(client)[2:]).decode()
        final, _ = client_final("wrong", bare, server_first, "n,,")
        _put(client, base64.b64encode(final).decode())
        with pytest.raises(poplib.error_proto, match=r"-ERR \[AUTH\] Authentication failed"):
            _get(client)
    finally:
        client.close()


def test_scram_plus_over_pop3s(running: Pop3Thread) -> None:
    context = running.server.client_tls_context()
    client = poplib.POP3_SSL("127.0.0.1", running.pop3s_port, context=context)
    try:
        sasl = client.capa()["SASL"]
        assert sasl[:2] == ["SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"]
        pem = (running.server.settings.server.data_dir / "tls" / "cert.pem").read_bytes()
        der = x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
        end_point = hashlib.sha256(der).digest()
        gs2 = "p=tls-server-end-point,,"
        answer = _scram(client, "SCRAM-SHA-256-PLUS", gs2, end_point, PASSWORD)
        assert answer.startswith(b"+OK Logged in")
    finally:
        client.quit()


def test_scram_plus_refuses_a_wrong_binding(running: Pop3Thread) -> None:
    context = running.server.client_tls_context()
    client = poplib.POP3_SSL("127.0.0.1", running.pop3s_port, context=context)
    try:
        bare = "n=alice,r=poplibnonce42"
        gs2 = "p=tls-server-end-point,,"
        first = base64.b64encode((gs2 + bare).encode()).decode()
        _put(client, f"AUTH SCRAM-SHA-256-PLUS {first}")
        server_first = base64.b64decode(_get(client)[2:]).decode()
        final, _ = client_final(PASSWORD, bare, server_first, gs2, b"\0" * 32)
        _put(client, base64.b64encode(final).decode())
        with pytest.raises(poplib.error_proto, match=r"\[AUTH\]"):
            _get(client)
    finally:
        client.close()
