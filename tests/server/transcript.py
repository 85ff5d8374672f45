"""Protocol transcripts: one file per behaviour, exact to the byte (STYLE.md).

Format
------
    # a comment; the first comment line is the transcript's title
    fixture: empty             # the server's starting data (see FIXTURES)
    connections: a b           # connections to open, in this order
    state: authenticated       # not-authenticated | authenticated (default) | selected
    a> a1 NOOP                 # sent by connection a, CRLF appended
    a< a1 OK NOOP completed    # the next line connection a must receive, exactly

In an expected line `{{name}}` captures a value the server invents (UIDVALIDITY, a date):
its first appearance matches one or more non-space characters and records them, later
appearances must repeat the same text. `{{*}}` matches any non-space run without recording.
In a sent line `{{name}}` is replaced by the captured value.
After the last line, no connection may have anything unread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from tests.server.fixtures import FIXTURES
from tests.server.harness import PASSWORD, LineClient, ServerThread

_PLACEHOLDER = re.compile(r"\{\{([A-Za-z0-9_*-]+)\}\}")


@dataclass(slots=True)
class Step:
    connection: str
    send: bool
    text: str
    lineno: int


@dataclass(slots=True)
class Transcript:
    title: str
    fixture: str = "empty"
    connections: list[str] = field(default_factory=lambda: ["a"])
    state: str = "authenticated"
    user: str = "alice"
    steps: list[Step] = field(default_factory=list)


def parse_transcript(path: Path) -> Transcript:
    lines = path.read_text(encoding="utf-8").splitlines()
    title = next((ln.lstrip("# ").strip() for ln in lines if ln.startswith("#")), path.stem)
    transcript = Transcript(title=title)
    for lineno, raw in enumerate(lines, start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        match = re.match(r"([a-z][a-z0-9]*)([<>]) ?(.*)$", raw)
        if match and match.group(1) in transcript.connections:
            name, arrow, text = match.groups()
            transcript.steps.append(Step(name, arrow == ">", text, lineno))
            continue
        key, sep, value = raw.partition(":")
        value = value.split(" #", 1)[0].strip()
        if not sep:
            raise ValueError(f"{path}:{lineno}: cannot read {raw!r}")
        match key.strip():
            case "fixture":
                transcript.fixture = value
            case "connections":
                transcript.connections = value.split()
            case "state":
                transcript.state = value
            case "user":
                transcript.user = value
            case other:
                raise ValueError(f"{path}:{lineno}: unknown header {other!r}")
    return transcript


def _expected_regex(expected: str, captures: dict[str, str]) -> re.Pattern[bytes]:
    parts: list[str] = []
    pos = 0
    seen_here: set[str] = set()
    for match in _PLACEHOLDER.finditer(expected):
        parts.append(re.escape(expected[pos : match.start()]))
        name = match.group(1)
        if name == "*":
            parts.append(r"\S+")
        elif name in captures:
            parts.append(re.escape(captures[name]))
        elif name in seen_here:
            parts.append(f"(?P={name})")
        else:
            seen_here.add(name)
            parts.append(rf"(?P<{name}>\S+?)")
        pos = match.end()
    parts.append(re.escape(expected[pos:]))
    return re.compile("".join(parts).encode("utf-8"))


def _login(client: LineClient, user: str, state: str) -> None:
    client.send(f"x1 LOGIN {user} {PASSWORD}\r\n".encode())
    while not client.line().startswith(b"x1 "):
        pass
    if state == "selected":
        client.send(b"x2 SELECT INBOX\r\n")
        while not client.line().startswith(b"x2 "):
            pass


def run_transcript(transcript: Transcript, server: ServerThread, path: Path) -> None:
    clients: dict[str, LineClient] = {}
    captures: dict[str, str] = {}
    store = server.store
    assert store is not None
    server.call(lambda: FIXTURES[transcript.fixture](store))
    try:
        for name in transcript.connections:
            client = LineClient(server.imap_port)
            greeting = client.line()
            assert greeting.startswith(b"* OK "), greeting
            if transcript.state != "not-authenticated":
                _login(client, transcript.user, transcript.state)
            clients[name] = client
        for step in transcript.steps:
            client = clients[step.connection]
            where = f"{path.name}:{step.lineno}"
            if step.send:
                text = _PLACEHOLDER.sub(lambda m: captures[m.group(1)], step.text)
                client.send(text.encode("utf-8") + b"\r\n")
                continue
            got = client.line()
            rx = _expected_regex(step.text, captures)
            match = rx.fullmatch(got)
            assert match is not None, f"{where}: expected {step.text!r}, got {got!r}"
            captures.update({k: v.decode() for k, v in match.groupdict().items()})
        for name, client in clients.items():
            extra = client.pending()
            assert extra == b"", f"{path.name}: connection {name} got unexpected {extra!r}"
    finally:
        for client in clients.values():
            client.close()
