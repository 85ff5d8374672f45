"""An acknowledged APPEND survives `kill -9` of the server, byte for byte (ARCHITECTURE.md)."""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from buzon.storage.api import INBOX, MetaItem, Uid
from buzon.storage.sqlite import SqliteStore
from tests.server.harness import LineClient

CONFIG = """
[auth]
argon2_time_cost = 1
argon2_memory_kib = 1024
argon2_parallelism = 1
"""
_APPENDUID = re.compile(rb"^(\S+) OK \[APPENDUID (\d+) (\d+)\]")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(data: Path, config: Path, port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "buzon.cli.main",
            "serve",
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
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise AssertionError("the server did not start")


def _appender(
    port: int, seed: int, acked: dict[int, bytes], errors: list[bytes], stop: threading.Event
) -> None:
    rng = random.Random(seed)
    client = LineClient(port, timeout=5)
    try:
        client.line()
        client.send(b"l LOGIN alice secret\r\n")
        while not client.line().startswith(b"l "):
            pass
        n = 0
        while not stop.is_set():
            n += 1
            body = bytes(rng.randrange(32, 127) for _ in range(rng.randrange(100, 40000)))
            message = b"Subject: crash test %d/%d\r\n\r\n" % (seed, n) + body + b"\r\n"
            client.send(b"a%d APPEND INBOX {%d+}\r\n" % (n, len(message)) + message + b"\r\n")
            line = client.line()
            match = _APPENDUID.match(line)
            if match is None:
                errors.append(line)
                return
            acked[int(match.group(3))] = message
    except (OSError, EOFError):
        return  # the server was killed under us: everything acknowledged so far counts
    finally:
        client.close()


def test_acknowledged_appends_survive_kill_9(tmp_path: Path) -> None:
    data = tmp_path / "data"
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
            "--data-dir",
            str(data),
            "--config",
            str(config),
            "--password-stdin",
        ],
        input=b"secret\n",
        check=True,
        capture_output=True,
        timeout=60,
    )
    port = _free_port()
    server = _serve(data, config, port)
    acked: dict[int, bytes] = {}
    errors: list[bytes] = []
    stop = threading.Event()
    threads = [
        threading.Thread(target=_appender, args=(port, seed, acked, errors, stop))
        for seed in range(6)
    ]
    try:
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20
        while len(acked) < 60 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(server.pid, signal.SIGKILL)
        server.wait(10)
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
        if server.poll() is None:
            server.kill()
    assert not errors, errors
    assert len(acked) >= 60, "too few appends acknowledged before the kill"

    async def check() -> tuple[dict[Uid, bytes], int]:
        store = await SqliteStore.open(data, default_mailboxes=())
        try:
            inbox = await (await store.open_account("alice")).open_mailbox(INBOX)
            metas = await inbox.fetch_meta(
                sorted(Uid(u) for u in acked), frozenset({MetaItem.SIZE})
            )
            stored = {m.uid: await inbox.read_message(m.uid) for m in metas}
            status = await inbox.status()
            snapshot = await inbox.snapshot(claim_recent=False)
            assert status.messages == len(snapshot.uids)
            return stored, status.messages
        finally:
            await store.close()

    stored, count = asyncio.run(check())
    assert count >= len(acked)
    missing = sorted(set(acked) - set(stored))
    assert not missing, f"acknowledged but lost: {missing[:10]}"
    corrupt = [uid for uid, content in acked.items() if stored[Uid(uid)] != content]
    assert not corrupt, f"acknowledged but changed: {corrupt[:10]}"
    # And the server starts again on the same data, its UIDs still growing.
    server = _serve(data, config, port)
    try:
        client = LineClient(port)
        try:
            client.line()
            client.send(b"l LOGIN alice secret\r\nb APPEND INBOX {5+}\r\nafter\r\n")
            assert client.line().startswith(b"l OK")
            match = _APPENDUID.match(client.line())
            assert match is not None
            assert int(match.group(3)) > max(acked)
        finally:
            client.close()
    finally:
        server.terminate()
        server.wait(10)
