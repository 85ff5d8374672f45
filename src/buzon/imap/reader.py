"""The sans-I/O IMAP command reader (h11 style): bytes in, typed events out.

    reader.receive_data(chunk)          # b"" at end of stream
    while not isinstance(ev := reader.next_event(), NeedData | Eof): ...

Framing (`framing.Framer`) turns bytes into complete command frames; the grammar
(`grammar.parse_frame`) turns a frame into a command dataclass or a ParseError,
which becomes a `BadCommand` that keeps the tag. The reader knows nothing about
session state: which commands are allowed is the session's decision.
"""

from __future__ import annotations

from dataclasses import dataclass

from buzon.imap.commands_ext import ExtCommand
from buzon.imap.errors import ParseError, ProtocolViolation
from buzon.imap.framing import Frame, FrameError, Framer, LiteralWanted, ReaderLimits
from buzon.imap.grammar import KNOWN_COMMANDS, Command, parse_frame

__all__ = [
    "BadCommand",
    "Command",
    "CommandReader",
    "Eof",
    "Event",
    "ExtCommand",
    "NeedContinuation",
    "NeedData",
    "ProtocolViolation",
    "RawLine",
    "ReaderLimits",
]


@dataclass(frozen=True, slots=True)
class NeedContinuation:
    """A synchronising literal `{size}` awaits "+": call accept_ or reject_literal.

    `command` is the upper-case first word after the tag (e.g. "APPEND", "UID").
    """

    tag: str
    command: str
    size: int


@dataclass(frozen=True, slots=True)
class BadCommand:
    """A command that could not be read; the reader has already resynchronised.

    `tag` is None when no valid tag could be read (answer with "* BAD").
    `code` is a response code such as "TOOBIG" or "BADCHARSET", or None.
    """

    tag: str | None
    text: str
    code: str | None = None


@dataclass(frozen=True, slots=True)
class NeedData:
    """Feed more bytes with receive_data()."""


@dataclass(frozen=True, slots=True)
class RawLine:
    """A line read in line mode (IDLE's DONE, SASL responses), without CRLF."""

    line: bytes


@dataclass(frozen=True, slots=True)
class Eof:
    """The client closed the connection (any incomplete command is dropped)."""


Event = Command | NeedContinuation | BadCommand | NeedData | RawLine | Eof


class CommandReader:
    """Incremental IMAP command reader; see the module docstring."""

    def __init__(self, limits: ReaderLimits | None = None) -> None:
        self.limits = limits if limits is not None else ReaderLimits()
        self._framer = Framer(self.limits)
        self.utf8 = False
        """Set after ENABLE UTF8=ACCEPT (RFC 6855 §3) or IMAP4rev2: names are UTF-8."""

    def set_limits(self, limits: ReaderLimits) -> None:
        """Change the bounds from the next literal on (e.g. larger ones after login)."""
        self.limits = limits
        self._framer.limits = limits

    @property
    def line_mode(self) -> bool:
        """When True, next_event returns each line as RawLine (set by the session)."""
        return self._framer.line_mode

    @line_mode.setter
    def line_mode(self, value: bool) -> None:
        self._framer.line_mode = value

    def receive_data(self, data: bytes) -> None:
        """Add bytes from the client; b"" means the client closed the stream."""
        self._framer.receive(data)

    def accept_literal(self) -> None:
        """After NeedContinuation: the session sends "+ ..." and reading continues."""
        self._framer.accept_literal()

    def reject_literal(self) -> None:
        """After NeedContinuation: the session answers the tag itself; the command is dropped."""
        self._framer.reject_literal()

    def discard_buffered(self) -> int:
        """Drop every unread byte (STARTTLS command injection defence, RFC 9051 §11.1)."""
        return self._framer.discard_buffered()

    def buffered_bytes(self) -> int:
        """Bytes the reader holds now (for tests and memory accounting)."""
        return self._framer.buffered()

    def next_event(self) -> Event:
        ev = self._framer.next()
        if ev is None:
            return Eof() if self._framer.eof else NeedData()
        if isinstance(ev, bytes):
            return RawLine(ev)
        if isinstance(ev, FrameError):
            return BadCommand(ev.tag, ev.text, ev.code)
        if isinstance(ev, LiteralWanted):
            if ev.tag is None:
                self._framer.reject_literal()
                return BadCommand(None, "Invalid tag")
            if ev.command not in KNOWN_COMMANDS:
                self._framer.reject_literal()
                return BadCommand(ev.tag, "Unknown command")
            return NeedContinuation(ev.tag, ev.command, ev.size)
        return self._parse(ev)

    def _parse(self, frame: Frame) -> Command | BadCommand:
        try:
            return parse_frame(frame, utf8=self.utf8, max_depth=self.limits.max_depth)
        except ParseError as exc:
            return BadCommand(exc.tag, exc.text, exc.code)
