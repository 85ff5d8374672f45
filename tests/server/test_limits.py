"""Every resource a client can make the server spend has a bound, and a clear answer."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from buzon.config import LimitSettings
from tests.server.harness import LineClient, ServerThread, server_settings


def _server(tmp_path: Path, **limits: float) -> ServerThread:
    settings = replace(LimitSettings(), **limits)  # type: ignore[arg-type]
    return ServerThread(server_settings(tmp_path / "data", settings))


def test_overlong_line_gets_bad_and_the_session_lives(tmp_path: Path) -> None:
    with _server(tmp_path, max_line=1024) as server:
        client = LineClient(server.imap_port)
        try:
            client.line()
            client.send(b"a1 NOOP " + b"x" * 5000 + b"\r\na2 NOOP\r\n")
            answer = client.line()
            assert answer.startswith(b"a1 BAD ")
            assert b"too long" in answer.lower()
            assert client.line() == b"a2 OK NOOP completed"
        finally:
            client.close()


def test_large_literal_before_login_is_refused_before_it_is_sent(tmp_path: Path) -> None:
    with _server(tmp_path) as server:
        client = LineClient(server.imap_port)
        try:
            client.line()
            client.send(b"a1 LOGIN {1000000}\r\n")
            assert client.line() == (
                b"a1 BAD [TOOBIG] Literal of 1000000 octets is too big; the limit is 16384 octets"
            )
            client.send(b"a2 NOOP\r\n")
            assert client.line() == b"a2 OK NOOP completed"
        finally:
            client.close()


def test_literal_over_the_limit_is_refused(tmp_path: Path) -> None:
    with _server(tmp_path, max_literal=4096) as server:
        client = LineClient(server.imap_port)
        try:
            client.line()
            client.send(b"a1 LOGIN alice secret\r\n")
            assert client.line().startswith(b"a1 OK ")
            client.send(b"a2 CREATE {5000}\r\n")
            answer = client.line()
            assert answer == (
                b"a2 BAD [TOOBIG] Literal of 5000 octets is too big; the limit is 4096 octets"
            )
            client.send(b"a3 NOOP\r\n")
            assert client.line() == b"a3 OK NOOP completed"
        finally:
            client.close()


def test_nonsync_literal_before_login_is_skipped_not_stored(tmp_path: Path) -> None:
    with _server(tmp_path) as server:
        client = LineClient(server.imap_port)
        try:
            client.line()
            client.send(b"a1 LOGIN {100000+}\r\n" + b"x" * 100000 + b" secret\r\na2 NOOP\r\n")
            assert client.line() == (
                b"a1 BAD [TOOBIG] Literal of 100000 octets is too big; the limit is 16384 octets"
            )
            assert client.line() == b"a2 OK NOOP completed"
        finally:
            client.close()


def test_unauthenticated_timeout_says_bye(tmp_path: Path) -> None:
    with _server(tmp_path, unauthenticated_timeout=0.5) as server:
        client = LineClient(server.imap_port)
        try:
            client.line()
            assert client.line() == b"* BYE Autologout; idle for too long"
            assert client.closed()
        finally:
            client.close()


def test_connection_limit_per_address(tmp_path: Path) -> None:
    with _server(tmp_path, max_connections_per_address=2) as server:
        clients = [LineClient(server.imap_port) for _ in range(3)]
        try:
            assert clients[0].line().startswith(b"* OK ")
            assert clients[1].line().startswith(b"* OK ")
            assert (
                clients[2].line() == b"* BYE [UNAVAILABLE] Too many connections from your address"
            )
            assert clients[2].closed()
            clients[0].send(b"a1 LOGOUT\r\n")
            assert clients[0].line() == b"* BYE Logging out"
            assert clients[0].closed()
            late = LineClient(server.imap_port)
            clients.append(late)
            assert late.line().startswith(b"* OK ")
        finally:
            for client in clients:
                client.close()


def test_connection_limit_per_user(tmp_path: Path) -> None:
    with _server(tmp_path, max_connections_per_user=1) as server:
        first, second = LineClient(server.imap_port), LineClient(server.imap_port)
        try:
            first.line()
            second.line()
            first.send(b"a1 LOGIN alice secret\r\n")
            assert first.line().startswith(b"a1 OK ")
            second.send(b"b1 LOGIN alice secret\r\n")
            assert second.line() == b"b1 NO [LIMIT] Too many connections for this user"
            second.send(b"b2 LOGIN bob secret\r\n")
            assert second.line().startswith(b"b2 OK ")
        finally:
            first.close()
            second.close()


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    with _server(tmp_path, max_depth=8) as server:
        client = LineClient(server.imap_port)
        try:
            client.line()
            client.send(b"a1 ID " + b"(" * 50 + b")" * 50 + b"\r\na2 NOOP\r\n")
            assert client.line().startswith(b"a1 BAD ")
            assert client.line() == b"a2 OK NOOP completed"
        finally:
            client.close()
