"""Logs: one line per connection, login and logout; the debug trace masks secrets."""

from __future__ import annotations

import base64
import dataclasses
import logging
from pathlib import Path

import pytest

from tests.server.harness import LineClient, ServerThread, server_settings

SECRET = "secret"


def test_debug_trace_masks_passwords(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = server_settings(tmp_path / "data")
    settings = dataclasses.replace(
        settings, server=dataclasses.replace(settings.server, debug=True)
    )
    caplog.set_level(logging.DEBUG, logger="buzon")
    with ServerThread(settings) as server:
        client = LineClient(server.imap_port)
        try:
            client.line()
            client.send(b"a1 LOGIN alice " + SECRET.encode() + b"\r\n")
            assert client.line().startswith(b"a1 OK")
            client.send(b"a2 LOGOUT\r\n")
            assert client.line() == b"* BYE Logging out"
            assert client.closed()
        finally:
            client.close()
        sasl = LineClient(server.imap_port)
        try:
            sasl.line()
            sasl.send(b"b1 AUTHENTICATE PLAIN\r\n")
            assert sasl.line() == b"+ "
            sasl.send(base64.b64encode(b"\0bob\0" + SECRET.encode()) + b"\r\n")
            assert sasl.line().startswith(b"b1 OK")
        finally:
            sasl.close()
    text = caplog.text
    assert SECRET not in text
    assert base64.b64encode(b"\0bob\0" + SECRET.encode()).decode() not in text
    assert "password=<hidden>" in text
    assert "C: <client line hidden>" in text
    assert "S: a1 OK" in text
    lines = [r.getMessage() for r in caplog.records if r.name == "buzon.imap"]
    assert any("user=alice" in m and "logged in (LOGIN)" in m for m in lines)
    assert any("user=bob" in m and "logged in (AUTHENTICATE PLAIN)" in m for m in lines)
    assert sum("connected" in m and "disconnected" not in m for m in lines) == 2
    assert sum("disconnected" in m for m in lines) == 2
