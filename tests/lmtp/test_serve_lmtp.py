"""`buzon serve --lmtp-port N --lmtp-socket PATH`: the wiring, end to end, in a subprocess."""

from __future__ import annotations

import os
import signal
import smtplib
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.lmtp.test_deliver_command import CONFIG, deliver


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_runs_lmtp_on_a_port_and_a_socket(tmp_path: Path) -> None:
    data = tmp_path / "d"
    config = tmp_path / "buzon.toml"
    config.write_text(CONFIG)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "buzon.cli.main",
            "user",
            "add",
            "alice",
            "--password-stdin",
            "--data-dir",
            str(data),
            "--config",
            str(config),
        ],
        input=b"pw\n",
        check=True,
        capture_output=True,
        timeout=60,
    )
    port = _free_port()
    sock = tmp_path / "run" / "lmtp.sock"
    command = [sys.executable, "-m", "buzon.cli.main", "serve", "--data-dir", str(data)]
    command += ["--config", str(config), "--imap-port", "0", "--imaps-port", "0"]
    command += ["--lmtp-port", str(port), "--lmtp-socket", str(sock)]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 30
        while not sock.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        for host in ("127.0.0.1", str(sock)):
            with smtplib.LMTP(host, port) as client:
                client.ehlo("test")
                assert client.sendmail("a@example.org", ["alice@example.org"], b"x\r\n") == {}
        # `buzon deliver` works while the server runs (both open the same store).
        assert deliver(data, "alice").returncode == 0
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert f"listening for LMTP on 127.0.0.1 port {port}" in output
    assert f"listening for LMTP on unix socket {sock}" in output
    assert output.count(": delivered") == 2
    assert not sock.exists()
