"""Protocol transcripts: one file per behaviour, exact to the byte (STYLE.md).

Format
------
    # a comment; the first comment line is the transcript's title
    fixture: empty             # the server's starting data (see FIXTURES)
    connections: a b           # connections to open, in this order
    users: b=bob               # who a connection logs in as (default: `user:`, alice)
    state: authenticated       # not-authenticated | authenticated (default) | selected
    a> a1 NOOP                 # sent by connection a, CRLF appended
    a< a1 OK NOOP completed    # the next line connection a must receive, exactly

In an expected line `{{name}}` captures a value the server invents (UIDVALIDITY, a date):
its first appearance matches one or more non-space characters and records them, later
appearances must repeat the same text. `{{*}}` matches any non-space run without recording.
In a sent line `{{name}}` is replaced by the captured value.
After the last line, no connection may have anything unread.

Modes (IMAP4rev1 / IMAP4rev2)
-----------------------------
    modes: rev1 rev2           # run the transcript once per mode (default: rev1 only)
    a<[rev1] * 1 RECENT        # a step that belongs to one mode only (sent or expected)
    a>[utf8,rev2] a1 CREATE Café   # ... or to several
    a<[rev2] * LIST (\\HasNoChildren) "/" INBOX

A mode is what every connection ENABLEs right after LOGIN (before the SELECT of
`state: selected`): `rev1` nothing, `rev2` IMAP4rev2, `utf8` UTF8=ACCEPT (RFC 6855).
Unprefixed steps run in every mode.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from tests.server.fixtures import FIXTURES
from tests.server.harness import PASSWORD, LineClient, ServerThread

_PLACEHOLDER = re.compile(r"\{\{([A-Za-z0-9_*-]+)\}\}")
# What each mode ENABLEs after login (None: nothing).
MODES: dict[str, str | None] = {"rev1": None, "rev2": "IMAP4rev2", "utf8": "UTF8=ACCEPT"}


@dataclass(slots=True)
class Step:
    connection: str
    send: bool
    text: str
    lineno: int
    modes: frozenset[str] | None = None  # only in these modes


@dataclass(slots=True)
class Transcript:
    title: str
    fixture: str = "empty"
    connections: list[str] = field(default_factory=lambda: ["a"])
    state: str = "authenticated"
    user: str = "alice"
    users: dict[str, str] = field(default_factory=dict)  # connection -> user, else `user`
    modes: list[str] = field(default_factory=lambda: ["rev1"])
    steps: list[Step] = field(default_factory=list)


def parse_transcript(path: Path) -> Transcript:
    lines = path.read_text(encoding="utf-8").splitlines()
    title = next((ln.lstrip("# ").strip() for ln in lines if ln.startswith("#")), path.stem)
    transcript = Transcript(title=title)
    for lineno, raw in enumerate(lines, start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        match = re.match(r"([a-z][a-z0-9]*)([<>])(?:\[([a-z0-9,]+)\])? ?(.*)$", raw)
        if match and match.group(1) in transcript.connections:
            name, arrow, only, text = match.groups()
            modes = None if only is None else frozenset(only.split(","))
            if modes is not None and not modes <= set(transcript.modes):
                raise ValueError(f"{path}:{lineno}: modes {only!r} are not all in modes:")
            transcript.steps.append(Step(name, arrow == ">", text, lineno, modes))
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
            case "users":
                transcript.users = dict(item.split("=", 1) for item in value.split())
            case "modes":
                transcript.modes = value.split()
                unknown = set(transcript.modes) - set(MODES)
                if unknown or not transcript.modes:
                    raise ValueError(f"{path}:{lineno}: unknown modes {sorted(unknown)}")
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


def _login(client: LineClient, user: str, state: str, mode: str) -> None:
    client.send(f"x1 LOGIN {user} {PASSWORD}\r\n".encode())
    while not client.line().startswith(b"x1 "):
        pass
    enable = MODES[mode]
    if enable is not None:
        client.send(f"x0 ENABLE {enable}\r\n".encode())
        assert client.line() == f"* ENABLED {enable}".encode()
        assert client.line().startswith(b"x0 OK")
    if state == "selected":
        client.send(b"x2 SELECT INBOX\r\n")
        while not client.line().startswith(b"x2 "):
            pass


def run_transcript(
    transcript: Transcript, server: ServerThread, path: Path, mode: str = "rev1"
) -> None:
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
                user = transcript.users.get(name, transcript.user)
                _login(client, user, transcript.state, mode)
            clients[name] = client
        for step in transcript.steps:
            if step.modes is not None and mode not in step.modes:
                continue
            client = clients[step.connection]
            where = f"{path.name}:{step.lineno} [{mode}]"
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
