"""POP3 transcripts, POP3 and IMAP connections side by side, exact to the byte.

Format (as tests/server/transcript.py, with two kinds of connection)
------
    # a comment; the first comment line is the transcript's title
    fixture: inbox-4        # starting data (tests/pop3/fixtures.py)
    pop3: p q               # POP3 connections, opened in this order
    imap: i                 # IMAP connections: logged in as alice, INBOX selected
    state: transaction      # of the POP3 connections: authorization | transaction (default)
    p> STAT                 # sent by p, CRLF appended
    p< +OK 4 622            # the next line p must receive, exactly
    p! close                # p drops the connection; wait until the server has let it go
    p! closed               # the server must close p's connection now

An expected line that ends in a space ("+ ", an empty SASL challenge) keeps that space.

In the transaction state the POP3 connections have logged in as alice with USER/PASS.
`{{name}}` captures and repeats values as in the IMAP transcripts. After the last step no
connection may have anything unread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from tests.pop3.fixtures import POP3_FIXTURES
from tests.pop3.harness import PASSWORD, Pop3Thread
from tests.server.harness import LineClient
from tests.server.transcript import _PLACEHOLDER, _expected_regex


@dataclass(slots=True)
class Step:
    connection: str
    action: str  # ">" send, "<" expect, "!" an action
    text: str
    lineno: int


@dataclass(slots=True)
class Transcript:
    title: str
    fixture: str = "empty"
    pop3: list[str] = field(default_factory=lambda: ["p"])
    imap: list[str] = field(default_factory=list)
    state: str = "transaction"
    steps: list[Step] = field(default_factory=list)


def parse_transcript(path: Path) -> Transcript:
    lines = path.read_text(encoding="utf-8").splitlines()
    title = next((ln.lstrip("# ").strip() for ln in lines if ln.startswith("#")), path.stem)
    transcript = Transcript(title=title)
    for lineno, raw in enumerate(lines, start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        match = re.match(r"([a-z][a-z0-9]*)([<>!]) ?(.*)$", raw)
        if match and match.group(1) in transcript.pop3 + transcript.imap:
            name, action, text = match.groups()
            transcript.steps.append(Step(name, action, text, lineno))
            continue
        key, sep, value = raw.partition(":")
        value = value.split(" #", 1)[0].strip()
        if not sep:
            raise ValueError(f"{path}:{lineno}: cannot read {raw!r}")
        match key.strip():
            case "fixture":
                transcript.fixture = value
            case "pop3":
                transcript.pop3 = value.split()
            case "imap":
                transcript.imap = value.split()
            case "state":
                transcript.state = value
            case other:
                raise ValueError(f"{path}:{lineno}: unknown header {other!r}")
    return transcript


def _until(client: LineClient, prefix: bytes) -> bytes:
    while not (line := client.line()).startswith(prefix):
        pass
    return line


def run_transcript(transcript: Transcript, running: Pop3Thread, path: Path) -> None:
    server = running.server
    store = server.store
    assert store is not None
    server.call(lambda: POP3_FIXTURES[transcript.fixture](store))
    clients: dict[str, LineClient] = {}
    captures: dict[str, str] = {}
    try:
        for name in transcript.pop3:
            client = running.pop3_client()
            if transcript.state == "transaction":
                client.send(f"USER alice\r\nPASS {PASSWORD}\r\n".encode())
                assert client.line() == b"+OK"
                assert client.line().startswith(b"+OK Logged in")
            clients[name] = client
        for name in transcript.imap:
            client = LineClient(running.imap_port)
            client.line()
            client.send(f"x1 LOGIN alice {PASSWORD}\r\nx2 SELECT INBOX\r\n".encode())
            assert _until(client, b"x1 ").startswith(b"x1 OK")
            assert _until(client, b"x2 ").startswith(b"x2 OK")
            clients[name] = client
        for step in transcript.steps:
            client = clients[step.connection]
            where = f"{path.name}:{step.lineno}"
            if step.action == ">":
                text = _PLACEHOLDER.sub(lambda m: captures[m.group(1)], step.text)
                client.send(text.encode("utf-8") + b"\r\n")
            elif step.action == "!":
                if step.text == "closed":
                    assert client.closed(), f"{where}: the server kept the connection open"
                else:
                    assert step.text == "close", f"{where}: unknown action {step.text!r}"
                    before = running.connections()
                    client.close()
                    running.wait_sessions_below(before)
                client.close()
                del clients[step.connection]
            else:
                got = client.line()
                match = _expected_regex(step.text, captures).fullmatch(got)
                assert match is not None, f"{where}: expected {step.text!r}, got {got!r}"
                captures.update({k: v.decode() for k, v in match.groupdict().items()})
        for name, client in clients.items():
            extra = client.pending()
            assert extra == b"", f"{path.name}: connection {name} got unexpected {extra!r}"
    finally:
        for client in clients.values():
            client.close()
