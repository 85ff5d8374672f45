"""The sans-I/O POP3 command reader and the state table (RFC 1939, RFC 2449, RFC 5034).

Theory of operation
-------------------
`CommandReader` takes bytes in (`receive_data`, ``b""`` for end of stream) and gives typed
events out (`next_event`): a command dataclass per keyword, `BadLine` (the line could not be
read; answer ``-ERR`` and go on), `RawLine` (a SASL response, asked for with `line_mode`),
`NeedData` or `Eof`. It never touches a socket and never raises on client input.

POP3 framing is one line per command (RFC 1939 §3: keyword, arguments separated by single
spaces, CRLF). A bare LF is accepted as the end of a line. A line longer than `max_line`
octets (CRLF included) becomes one `BadLine` and is skipped up to its end without being
buffered, whatever the size of the chunks it arrives in. RFC 2449 §4 asks servers to take
commands of 255 octets; the default limit is far above that, enough for a SASL PLAIN response
with fields of the longest size we accept.

STLS (RFC 2595 §4): `discard_buffered` drops every byte received and not yet read, so that a
command injected in plaintext behind STLS is never executed.

`STATES` is the one table of which command is valid in which state (RFC 1939 §3): the
AUTHORIZATION state until the client has authenticated, then TRANSACTION until QUIT, when the
session enters UPDATE, removes the messages it marked and ends.
"""

from __future__ import annotations

import base64
import binascii
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "DEFAULT_MAX_LINE",
    "STATES",
    "Auth",
    "BadLine",
    "Capa",
    "Command",
    "CommandReader",
    "Dele",
    "Eof",
    "Event",
    "Keyword",
    "List",
    "NeedData",
    "Noop",
    "Pass",
    "Quit",
    "RawLine",
    "Retr",
    "Rset",
    "Stat",
    "State",
    "Stls",
    "Top",
    "Uidl",
    "User",
    "parse_line",
]

#: Octets per line, CRLF included. RFC 2449 §4 requires at least 255.
DEFAULT_MAX_LINE = 8192

# Message numbers and TOP's line count: more digits than this cannot name anything real.
_MAX_DIGITS = 9


class State(enum.Enum):
    """RFC 1939 §3: the states of a POP3 session."""

    AUTHORIZATION = "AUTHORIZATION"
    TRANSACTION = "TRANSACTION"
    UPDATE = "UPDATE"


class Keyword(enum.StrEnum):
    """The command keywords we know (RFC 1939 §§4-7, RFC 2449 §5, RFC 2595 §4, RFC 5034 §4)."""

    USER = "USER"
    PASS = "PASS"
    AUTH = "AUTH"
    STLS = "STLS"
    CAPA = "CAPA"
    QUIT = "QUIT"
    STAT = "STAT"
    LIST = "LIST"
    UIDL = "UIDL"
    RETR = "RETR"
    TOP = "TOP"
    DELE = "DELE"
    RSET = "RSET"
    NOOP = "NOOP"


# --- commands ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class User:
    """RFC 1939 §7 USER name."""

    name: str
    keyword: Keyword = field(default=Keyword.USER, init=False, repr=False)


@dataclass(frozen=True, slots=True)
class Pass:
    """RFC 1939 §7 PASS string: the rest of the line, spaces included."""

    password: str = field(repr=False)
    keyword: Keyword = field(default=Keyword.PASS, init=False, repr=False)


@dataclass(frozen=True, slots=True)
class Auth:
    """RFC 5034 §4 AUTH mechanism [initial-response]; no mechanism lists them (RFC 1734 use).

    `initial` is the decoded initial response: ``b""`` for "=", None when absent.
    """

    mechanism: str | None
    initial: bytes | None = field(default=None, repr=False)
    keyword: Keyword = field(default=Keyword.AUTH, init=False, repr=False)


@dataclass(frozen=True, slots=True)
class Stls:
    keyword: Keyword = field(default=Keyword.STLS, init=False, repr=False)


@dataclass(frozen=True, slots=True)
class Capa:
    keyword: Keyword = field(default=Keyword.CAPA, init=False, repr=False)


@dataclass(frozen=True, slots=True)
class Quit:
    keyword: Keyword = field(default=Keyword.QUIT, init=False, repr=False)


@dataclass(frozen=True, slots=True)
class Stat:
    keyword: Keyword = field(default=Keyword.STAT, init=False, repr=False)


@dataclass(frozen=True, slots=True)
class List:
    """RFC 1939 §5 LIST [msg]."""

    msg: int | None = None
    keyword: Keyword = field(default=Keyword.LIST, init=False, repr=False)


@dataclass(frozen=True, slots=True)
class Uidl:
    """RFC 1939 §7 UIDL [msg]."""

    msg: int | None = None
    keyword: Keyword = field(default=Keyword.UIDL, init=False, repr=False)


@dataclass(frozen=True, slots=True)
class Retr:
    msg: int
    keyword: Keyword = field(default=Keyword.RETR, init=False, repr=False)


@dataclass(frozen=True, slots=True)
class Top:
    """RFC 1939 §7 TOP msg n."""

    msg: int
    lines: int
    keyword: Keyword = field(default=Keyword.TOP, init=False, repr=False)


@dataclass(frozen=True, slots=True)
class Dele:
    msg: int
    keyword: Keyword = field(default=Keyword.DELE, init=False, repr=False)


@dataclass(frozen=True, slots=True)
class Rset:
    keyword: Keyword = field(default=Keyword.RSET, init=False, repr=False)


@dataclass(frozen=True, slots=True)
class Noop:
    keyword: Keyword = field(default=Keyword.NOOP, init=False, repr=False)


Command = (
    User | Pass | Auth | Stls | Capa | Quit | Stat | List | Uidl | Retr | Top | Dele | Rset | Noop
)

_AUTHORIZATION = frozenset({State.AUTHORIZATION})
_TRANSACTION = frozenset({State.TRANSACTION})
_BOTH = frozenset({State.AUTHORIZATION, State.TRANSACTION})

#: RFC 1939 §3 and the capability descriptions of RFC 2449 §6: where each command is valid.
STATES: Mapping[Keyword, frozenset[State]] = {
    Keyword.USER: _AUTHORIZATION,
    Keyword.PASS: _AUTHORIZATION,
    Keyword.AUTH: _AUTHORIZATION,
    Keyword.STLS: _AUTHORIZATION,  # RFC 2595 §4: "Only permitted in AUTHORIZATION state"
    Keyword.CAPA: _BOTH,  # RFC 2449 §5
    Keyword.QUIT: _BOTH,
    Keyword.STAT: _TRANSACTION,
    Keyword.LIST: _TRANSACTION,
    Keyword.UIDL: _TRANSACTION,
    Keyword.RETR: _TRANSACTION,
    Keyword.TOP: _TRANSACTION,
    Keyword.DELE: _TRANSACTION,
    Keyword.RSET: _TRANSACTION,
    Keyword.NOOP: _TRANSACTION,
}


# --- events ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line that is not a valid command; the reader is already at the next line."""

    text: str


@dataclass(frozen=True, slots=True)
class RawLine:
    """A line read in line mode (a SASL response), without its line end."""

    line: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class NeedData:
    """Feed more bytes with `receive_data`."""


@dataclass(frozen=True, slots=True)
class Eof:
    """The client closed its side; an incomplete last line is dropped."""


Event = Command | BadLine | RawLine | NeedData | Eof


class CommandReader:
    """Bytes in, POP3 events out."""

    def __init__(self, max_line: int = DEFAULT_MAX_LINE) -> None:
        if max_line < 3:
            raise ValueError("max_line must leave room for a keyword and CRLF")
        self.max_line = max_line
        #: When true the next complete line is returned as `RawLine` (SASL responses).
        self.line_mode = False
        self._buffer = bytearray()
        self._skipping = False  # inside an over-long line, dropping bytes up to its end
        self._eof = False

    def receive_data(self, data: bytes) -> None:
        """Add bytes from the client; ``b""`` means the client closed its side."""
        if not data:
            self._eof = True
            return
        if self._eof:
            return
        self._buffer += data

    def discard_buffered(self) -> int:
        """Drop every byte not yet read (RFC 2595 §4 STLS); return how many."""
        dropped = len(self._buffer)
        self._buffer.clear()
        self._skipping = False
        return dropped

    def next_event(self) -> Event:
        while True:
            end = self._buffer.find(b"\n")
            if self._skipping:
                if end < 0:
                    self._buffer.clear()
                    return Eof() if self._eof else NeedData()
                del self._buffer[: end + 1]
                self._skipping = False
                continue
            if end < 0:
                if len(self._buffer) >= self.max_line:
                    # Whatever follows, this line is too long: say so once, then skip it.
                    self._buffer.clear()
                    self._skipping = True
                    return BadLine("Line too long")
                return Eof() if self._eof else NeedData()
            line = bytes(self._buffer[:end])
            del self._buffer[: end + 1]
            if end + 1 > self.max_line:
                return BadLine("Line too long")
            line = line.removesuffix(b"\r")
            if self.line_mode:
                return RawLine(line)
            return parse_line(line)


# --- grammar -----------------------------------------------------------------------------

_NO_ARGUMENTS: Mapping[Keyword, Command] = {
    Keyword.STLS: Stls(),
    Keyword.CAPA: Capa(),
    Keyword.QUIT: Quit(),
    Keyword.STAT: Stat(),
    Keyword.RSET: Rset(),
    Keyword.NOOP: Noop(),
}


def parse_line(line: bytes) -> Command | BadLine:
    """One command line, without its line end, to a command or a `BadLine`."""
    if b"\x00" in line:
        return BadLine("NUL in command line")
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return BadLine("Command line is not UTF-8")
    word, _, rest = text.partition(" ")
    if not word:
        return BadLine("Empty command")
    if not (word.isascii() and word.isalpha()):
        return BadLine("Unknown command")
    try:
        keyword = Keyword(word.upper())
    except ValueError:
        return BadLine("Unknown command")
    if keyword is Keyword.PASS:
        # RFC 1939 §7: the password is the rest of the line; it may contain spaces.
        return Pass(rest) if rest else BadLine("PASS needs a password")
    args = rest.split()
    if keyword in _NO_ARGUMENTS:
        return BadLine(f"{keyword} takes no arguments") if args else _NO_ARGUMENTS[keyword]
    match keyword:
        case Keyword.USER:
            if len(args) != 1:
                return BadLine("USER needs exactly one name")
            return User(args[0])
        case Keyword.AUTH:
            return _auth(args)
        case Keyword.LIST | Keyword.UIDL:
            if not args:
                return List() if keyword is Keyword.LIST else Uidl()
            if len(args) > 1:
                return BadLine(f"{keyword} takes at most one message number")
            msg = _number(args[0])
            if msg is None:
                return BadLine("Invalid message number")
            return List(msg) if keyword is Keyword.LIST else Uidl(msg)
        case Keyword.RETR | Keyword.DELE:
            if len(args) != 1:
                return BadLine(f"{keyword} needs one message number")
            msg = _number(args[0])
            if msg is None:
                return BadLine("Invalid message number")
            return Retr(msg) if keyword is Keyword.RETR else Dele(msg)
        case _:
            if len(args) != 2:
                return BadLine("TOP needs a message number and a number of lines")
            msg, lines = _number(args[0]), _number(args[1])
            if msg is None or lines is None:
                return BadLine("Invalid number")
            return Top(msg, lines)


def _number(text: str) -> int | None:
    if not (text.isascii() and text.isdigit()) or len(text) > _MAX_DIGITS:
        return None
    return int(text)


def _auth(args: list[str]) -> Auth | BadLine:
    """RFC 5034 §4: AUTH mechanism [initial-response]; "=" is an empty initial response."""
    if not args:
        return Auth(None)
    if len(args) > 2:
        return BadLine("AUTH takes a mechanism and an optional initial response")
    name = args[0]
    if not name.isascii() or len(name) > 20:
        return BadLine("Invalid mechanism name")
    if len(args) == 1:
        return Auth(name.upper())
    if args[1] == "=":
        return Auth(name.upper(), b"")
    try:
        initial = base64.b64decode(args[1], validate=True)
    except (binascii.Error, ValueError):
        return BadLine("Invalid base64 in the initial response")
    return Auth(name.upper(), initial)
