"""Framing: split the client byte stream into command frames (lines plus literals).

Theory of operation. A command is one or more line fragments; every fragment
but the last ends with a literal marker `{n}`, `{n+}` or `~{n}` (literal8,
RFC 3516) followed by n bytes of literal data. The framer concatenates the
fragments into one `Frame.line` (markers kept) and records each literal's data
under the offset of its marker, so the grammar parses each command exactly once
when it is complete, and a literal never causes a re-parse.

States: LINE (collecting a fragment), LITERAL (collecting n bytes), WAIT (a
synchronising literal awaits the session's accept/reject), SKIP (dropping the
bytes of an over-limit non-synchronising literal) and DISCARD (dropping the rest
of a bad command line by line, keeping only a short tail to notice literal
markers so the skipped command's literals are skipped too).

Every limit is checked before bytes are stored: a fragment may not make the
command's lines longer than `max_line`, and a literal is only collected after
its announced size passed `max_literal`/`max_nonsync_literal`/`max_command`.
Events do not depend on how the input was split.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

from buzon.imap.errors import ProtocolViolation

__all__ = [
    "Frame",
    "FrameError",
    "Framer",
    "Literal",
    "LiteralWanted",
    "ReaderLimits",
    "read_tag",
]

# The literal marker at the end of a line fragment. More than 20 digits is not a
# size any client means; such a line is left to the grammar, which rejects it.
_MARKER = re.compile(rb"(~?)\{([0-9]{1,20})(\+?)\}\Z")
_TAIL = 40  # longest marker is 24 bytes
_TAG = re.compile(rb"[^\x00-\x20\x7f-\xff(){%*\"\\+]+")
_NAME = re.compile(rb"[A-Za-z0-9.\-]+")


@dataclass(frozen=True, slots=True)
class ReaderLimits:
    """Bounds on what one command may make the reader hold.

    `max_line` counts the bytes of all line fragments of a command, literals
    excluded (RFC 7162 §4 asks servers to accept at least 8192).
    """

    max_line: int = 65536
    max_literal: int = 64 * 1024 * 1024
    max_nonsync_literal: int = 64 * 1024 * 1024  # RFC 7888 LITERAL+; LITERAL- is 4096
    max_command: int = 128 * 1024 * 1024  # all literals of one command (MULTIAPPEND)
    max_depth: int = 32


@dataclass(frozen=True, slots=True)
class Literal:
    """Literal data; `end` is the offset just past its marker in `Frame.line`."""

    data: bytes
    binary: bool
    end: int


@dataclass(frozen=True, slots=True)
class Frame:
    """A complete command: its lines joined and its literals by marker offset."""

    line: bytes
    literals: dict[int, Literal] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LiteralWanted:
    """A synchronising literal of `size` bytes awaits accept/reject."""

    tag: str | None
    command: str
    size: int


@dataclass(frozen=True, slots=True)
class FrameError:
    """A command dropped by the framer (over-long line, too big literal)."""

    tag: str | None
    text: str
    code: str | None = None


class _State(enum.Enum):
    LINE = enum.auto()
    LITERAL = enum.auto()
    WAIT = enum.auto()
    SKIP = enum.auto()
    DISCARD = enum.auto()


def read_tag(prefix: bytes) -> str | None:
    """The tag at the start of a command line if it is a valid tag followed by SP."""
    m = _TAG.match(prefix)
    if m is None or prefix[m.end() : m.end() + 1] != b" ":
        return None
    return m.group().decode("ascii")


def _command_name(line: bytes) -> str:
    m = _TAG.match(line)
    if m is None:
        return ""
    n = _NAME.match(line, m.end() + 1)
    return n.group().decode("ascii").upper() if n else ""


def _ends_in_quote(data: bytes) -> bool:
    """True when `data` ends inside a quoted string (so a `{n}` there is no marker)."""
    inq = False
    pos = 0
    while True:
        if not inq:
            j = data.find(b'"', pos)
            if j < 0:
                return False
            inq = True
            pos = j + 1
        else:
            q = data.find(b'"', pos)
            b = data.find(b"\\", pos)
            if q < 0:
                return True
            if 0 <= b < q:
                pos = b + 2
            else:
                inq = False
                pos = q + 1


FrameEvent = Frame | LiteralWanted | FrameError | bytes | None
"""bytes is a raw line (line mode); None means more data is needed or EOF."""


class Framer:
    """Incremental framer; see the module docstring."""

    def __init__(self, limits: ReaderLimits) -> None:
        self.limits = limits
        self.line_mode = False
        self.eof = False
        self._buf = bytearray()
        self._scan = 0
        self._state = _State.LINE
        self._line = bytearray()
        self._literals: dict[int, Literal] = {}
        self._literal_total = 0
        self._lit = bytearray()
        self._lit_size = 0
        self._lit_binary = False
        self._lit_start = 0
        self._lit_end = 0
        self._skip = 0
        self._tail = bytearray()
        self._error: FrameError | None = None
        self._wanted: LiteralWanted | None = None

    # -- input ---------------------------------------------------------------

    def receive(self, data: bytes) -> None:
        if self.eof:
            if data:
                raise ProtocolViolation("data received after end of stream")
            return
        if not data:
            self.eof = True
            return
        self._buf += data

    def buffered(self) -> int:
        """Bytes held: unread input, collected lines and literal data."""
        return (
            len(self._buf)
            + len(self._line)
            + len(self._lit)
            + sum(len(lit.data) for lit in self._literals.values())
        )

    def discard_buffered(self) -> int:
        n = len(self._buf) + len(self._line) + len(self._lit)
        self._buf.clear()
        self._scan = 0
        self._reset()
        return n

    # -- literal decisions ------------------------------------------------------

    def accept_literal(self) -> None:
        if self._state is not _State.WAIT:
            raise RuntimeError("accept_literal() without a pending literal")
        self._wanted = None
        self._state = _State.LITERAL

    def reject_literal(self) -> None:
        if self._state is not _State.WAIT:
            raise RuntimeError("reject_literal() without a pending literal")
        self._reset()

    # -- events -------------------------------------------------------------------

    def next(self) -> FrameEvent:
        while True:
            state = self._state
            if state is _State.LINE:
                ev = self._step_line()
            elif state is _State.LITERAL:
                ev = self._step_literal()
            elif state is _State.WAIT:
                return None if self.eof else self._wanted
            elif state is _State.SKIP:
                ev = self._step_skip()
            else:
                ev = self._step_discard()
            if ev is not _AGAIN:
                return ev

    def _reset(self) -> None:
        self._state = _State.LINE
        self._line = bytearray()
        self._literals = {}
        self._literal_total = 0
        self._lit = bytearray()
        self._tail = bytearray()
        self._error = None
        self._wanted = None

    def _tag(self) -> str | None:
        src = self._line if self._line else self._buf
        return read_tag(bytes(src[: min(1024, self.limits.max_line)]))

    def _start_discard(self, text: str, code: str | None = None) -> None:
        tag = None if self.line_mode and not self._line else self._tag()
        err = FrameError(tag, text, code)
        self._reset()
        self._error = err
        self._state = _State.DISCARD

    def _step_line(self) -> FrameEvent | _Again:
        buf = self._buf
        i = buf.find(b"\n", self._scan)
        limit = self.limits.max_line
        if i < 0:
            if len(self._line) + len(buf) > limit + 1:  # +1: a CR may be pending
                self._start_discard("Command line too long")
                return _AGAIN
            self._scan = len(buf)
            return None
        # RFC 9051 §2.2 lines end with CRLF; we are lenient and accept a bare LF.
        end = i - 1 if i > 0 and buf[i - 1] == 0x0D else i
        if len(self._line) + end > limit:
            self._start_discard("Command line too long")
            return _AGAIN
        frag = bytes(buf[:end])
        del buf[: i + 1]
        self._scan = 0
        if self.line_mode and not self._line:
            return frag
        if not frag and not self._line:
            return _AGAIN  # lenient: ignore empty lines between commands
        m = _MARKER.search(frag)
        if m is None or _ends_in_quote(frag[: m.start()]):
            self._line += frag
            frame = Frame(bytes(self._line), self._literals)
            self._reset()
            return frame
        start = len(self._line) + m.start()
        self._line += frag
        size = int(m.group(2))
        binary = bool(m.group(1))
        sync = not m.group(3)
        lim = self.limits
        over_command = self._literal_total + size > lim.max_command
        self._lit_size = size
        self._lit_binary = binary
        self._lit_start = start
        self._lit_end = len(self._line)
        self._lit = bytearray()
        if sync:
            if size > lim.max_literal or over_command:
                allowed = min(lim.max_literal, lim.max_command - self._literal_total)
                err = FrameError(self._tag(), _too_big(size, allowed), "TOOBIG")
                self._reset()
                return err
            self._wanted = LiteralWanted(self._tag(), _command_name(bytes(self._line)), size)
            self._state = _State.WAIT
            return _AGAIN
        if size > lim.max_nonsync_literal or size > lim.max_literal or over_command:
            allowed = min(
                lim.max_nonsync_literal, lim.max_literal, lim.max_command - self._literal_total
            )
            err = FrameError(self._tag(), _too_big(size, allowed), "TOOBIG")
            self._reset()
            self._error = err
            self._skip = size
            self._state = _State.SKIP
            return _AGAIN
        self._state = _State.LITERAL
        return _AGAIN

    def _step_literal(self) -> FrameEvent | _Again:
        need = self._lit_size - len(self._lit)
        if need:
            if not self._buf:
                return None
            take = self._buf[:need]
            del self._buf[:need]
            self._lit += take
            if len(self._lit) < self._lit_size:
                return None
        self._literals[self._lit_start] = Literal(bytes(self._lit), self._lit_binary, self._lit_end)
        self._literal_total += self._lit_size
        self._lit = bytearray()
        self._state = _State.LINE
        return _AGAIN

    def _step_skip(self) -> FrameEvent | _Again:
        if self._skip:
            n = min(self._skip, len(self._buf))
            if n == 0:
                return None
            del self._buf[:n]
            self._skip -= n
            if self._skip:
                return None
        self._tail = bytearray()
        self._state = _State.DISCARD
        return _AGAIN

    def _step_discard(self) -> FrameEvent | _Again:
        buf = self._buf
        i = buf.find(b"\n")
        if i < 0:
            self._tail = (self._tail + buf)[-_TAIL:]
            buf.clear()
            self._scan = 0
            return None
        tail = (self._tail + buf[:i])[-_TAIL:]
        del buf[: i + 1]
        self._scan = 0
        self._tail = bytearray()
        if tail.endswith(b"\r"):
            tail = tail[:-1]
        m = _MARKER.search(tail)
        if m is not None and m.group(3):
            # A non-synchronising literal inside the dropped command: skip it too.
            self._skip = int(m.group(2))
            self._state = _State.SKIP
            return _AGAIN
        # End of the dropped command (a synchronising literal will not be sent
        # because we never send "+").
        err = self._error
        self._reset()
        return err


class _Again(enum.Enum):
    AGAIN = enum.auto()


_AGAIN = _Again.AGAIN


def _too_big(size: int, allowed: int) -> str:
    """The BAD text for a refused literal: what was asked and what is allowed."""
    return f"Literal of {size} octets is too big; the limit is {max(allowed, 0)} octets"
