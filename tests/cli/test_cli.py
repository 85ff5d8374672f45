"""The `buzon` command, run as a separate process the way an administrator runs it."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.server.harness import LineClient

from buzon import __version__

CHEAP = """
[auth]
argon2_time_cost = 1
argon2_memory_kib = 1024
argon2_parallelism = 1
"""


def buzon(*args: str, stdin: str = "", check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "buzon.cli.main", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "buzon.toml"
    path.write_text(CHEAP)
    return path


def test_version() -> None:
    assert buzon("--version").stdout.strip() == f"buzon {__version__}"


def test_commands_other_than_serve_leave_the_imap_service_unimported() -> None:
    """An MTA runs `buzon deliver` for every message: importing the IMAP service (the
    grammar, the session, TLS listeners) cost it about a second."""
    heavy = {
        "buzon.imap.grammar",
        "buzon.imap.encoder",
        "buzon.server.app",
        "buzon.server.connection",
        "buzon.server.listener",
        "buzon.server.tls",
    }
    probe = (
        "import sys, buzon.cli.main; "
        f"print(sorted(set(sys.modules).intersection({sorted(heavy)!r})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


def test_user_lifecycle(tmp_path: Path, config: Path) -> None:
    data = str(tmp_path / "d")
    common = ("--data-dir", data, "--config", str(config))
    assert buzon("user", "add", "alice", *common, "--password-stdin", stdin="pw1\n").stdout == (
        "created user alice\n"
    )
    buzon("user", "add", "bob", *common, "--password-stdin", stdin="pw2\n")
    assert buzon("user", "list", *common).stdout.split() == ["alice", "bob"]
    again = buzon("user", "add", "alice", *common, "--password-stdin", stdin="x\n", check=False)
    assert again.returncode == 1
    assert "alice" in again.stderr
    assert "exists" in again.stderr
    buzon("user", "passwd", "alice", *common, "--password-stdin", stdin="pw3\n")
    buzon("user", "del", "bob", *common)
    assert buzon("user", "list", *common).stdout.split() == ["alice"]
    missing = buzon("user", "del", "carol", *common, check=False)
    assert missing.returncode == 1


def test_empty_password_is_refused(tmp_path: Path, config: Path) -> None:
    result = buzon(
        "user",
        "add",
        "alice",
        "--data-dir",
        str(tmp_path / "d"),
        "--config",
        str(config),
        "--password-stdin",
        stdin="\n",
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("buzon: ")


def test_bad_config_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[limits]\nmax_lines = 5\n")
    result = buzon(
        "user", "list", "--config", str(path), "--data-dir", str(tmp_path / "d"), check=False
    )
    assert result.returncode == 2
    assert "limits.max_lines" in result.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}")


def test_serve_demo_then_sigterm_says_bye(tmp_path: Path, config: Path) -> None:
    port = _free_port()
    data = tmp_path / "d"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "buzon.cli.main",
            "serve",
            "--demo",
            "--data-dir",
            str(data),
            "--config",
            str(config),
            "--imap-port",
            str(port),
            "--imaps-port",
            "0",
            "--lmtp-port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    with contextlib.ExitStack() as stack:
        _wait_for_port(port, time.monotonic() + 30)
        client = LineClient(port)
        stack.callback(client.close)
        assert client.line().startswith(b"* OK [CAPABILITY IMAP4rev1 ")
        client.send(b"a1 LOGIN demo demo\r\n")
        assert client.line().startswith(b"a1 OK ")
        client.send(b"a2 STATUS INBOX (MESSAGES)\r\n")
        assert client.line() == b"* STATUS INBOX (MESSAGES 6)"
        assert client.line() == b"a2 OK STATUS completed"
        process.send_signal(signal.SIGTERM)
        assert client.line() == b"* BYE Server shutting down"
        assert client.closed()
        output, _ = process.communicate(timeout=30)
        stack.callback(process.kill)
    assert process.returncode == 0
    assert f"listening for IMAP (STARTTLS available) on 127.0.0.1 port {port}" in output
    assert "TLS certificate SHA-256 fingerprint" in output
    assert "user=demo" in output
    assert "logged in" in output
    # Logs never contain passwords, not even the demo's.
    assert re.search(r"password\W+demo", output, re.IGNORECASE) is None
    # The demo data is created once: a second start keeps it as it is.
    again = subprocess.run(
        [sys.executable, "-m", "buzon.cli.main", "user", "list", "--data-dir", str(data)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert again.stdout.split() == ["demo"]
