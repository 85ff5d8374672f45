"""Grammar primitives: a cursor over one command frame (RFC 9051 §9 tokens).

`Parser` reads the joined command line left to right. Literals are found by the
offset of their marker (see `framing`), so a string may be an atom, a quoted
string or a literal wherever the ABNF allows it. Every method either consumes
what it names or raises `ParseError` with a message a client author can use.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import NoReturn

from buzon.imap import mutf7
from buzon.imap.commands_values import STAR, SeqNumber, SequenceSet, canonical_flag
from buzon.imap.errors import ParseError
from buzon.imap.framing import Literal

__all__ = ["Parser"]

_ATOM = re.compile(rb"[^\x00-\x20\x7f-\xff(){%*\"\\\]]+")
_ASTRING = re.compile(rb"[^\x00-\x20\x7f-\xff(){%*\"\\]+")
_LIST_CHARS = re.compile(rb"[^\x00-\x20\x7f-\xff(){\"\\]+")
_QUOTED = re.compile(rb'"((?:[^"\\\r\n\x00\x80-\xff]|\\["\\])*)"')
_QUOTED_UTF8 = re.compile(rb'"((?:[^"\\\r\n\x00]|\\["\\])*)"')
_UNESCAPE = re.compile(rb"\\([\"\\])")
_NAME = re.compile(rb"[A-Za-z0-9.+\-]+")
_DIGITS = re.compile(rb"[0-9]+")
_SEQ_NUM = re.compile(rb"[0-9]+|\*")
# A whole sequence set of numbers of at most ten digits, at its longest (nothing of a
# sequence set follows): what `Parser.sequence_set` reads a number at a time.
_SEQ_SET = re.compile(
    rb"(?:[0-9]{1,10}|\*)(?::(?:[0-9]{1,10}|\*))?"
    rb"(?:,(?:[0-9]{1,10}|\*)(?::(?:[0-9]{1,10}|\*))?)*(?![0-9:,*])"
)
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}
_DATE = re.compile(rb"([0-9]{1,2})-([A-Za-z]{3})-([0-9]{4})")
# RFC 9051 §9 date-time; lenient: a one-digit day without the leading space.
_DATE_TIME = re.compile(
    rb'"( ?[0-9]{1,2})-([A-Za-z]{3})-([0-9]{4}) '
    rb'([0-9]{2}):([0-9]{2}):([0-9]{2}) ([+-])([0-9]{2})([0-9]{2})"'
)
MAX_NUMBER = 0xFFFFFFFF  # RFC 9051 §9 number: 32 bit
MAX_NUMBER64 = 0x7FFFFFFFFFFFFFFF  # RFC 9051 §9 number64: 63 bit


class Parser:
    """A cursor over one command frame."""

    def __init__(
        self, line: bytes, literals: dict[int, Literal], *, utf8: bool, max_depth: int
    ) -> None:
        self.line = line
        self.literals = literals
        self.pos = 0
        self.utf8 = utf8
        self.max_depth = max_depth

    # -- basics ---------------------------------------------------------------

    def error(self, text: str, code: str | None = None) -> NoReturn:
        raise ParseError(text, code)

    def at_end(self) -> bool:
        return self.pos >= len(self.line)

    def peek(self) -> int:
        """The next byte, or -1 at the end."""
        return self.line[self.pos] if self.pos < len(self.line) else -1

    def at(self, ch: bytes) -> bool:
        return self.line.startswith(ch, self.pos)

    def sp(self, context: str) -> None:
        if self.peek() != 0x20:
            self.error(f"Expected SP {context}")
        self.pos += 1

    def try_sp(self) -> bool:
        if self.peek() == 0x20:
            self.pos += 1
            return True
        return False

    def expect(self, ch: bytes, context: str) -> None:
        if not self.at(ch):
            self.error(f"Expected {ch.decode()!r} {context}")
        self.pos += len(ch)

    def try_char(self, ch: bytes) -> bool:
        if self.at(ch):
            self.pos += len(ch)
            return True
        return False

    def end(self) -> None:
        if not self.at_end():
            self.error("Unexpected characters at end of command")

    def open_paren(self, context: str) -> None:
        self.expect(b"(", context)

    def close_paren(self, context: str) -> None:
        self.expect(b")", context)

    # -- atoms and strings ---------------------------------------------------------

    def atom(self, context: str = "") -> str:
        m = _ATOM.match(self.line, self.pos)
        if m is None:
            self.error(f"Expected atom{' ' + context if context else ''}")
        self.pos = m.end()
        return m.group().decode("ascii")

    def name(self, context: str = "") -> str:
        """A keyword of letters, digits, ".", "-" and "+", upper-cased (FETCH items, ...)."""
        m = _NAME.match(self.line, self.pos)
        if m is None:
            self.error(f"Expected keyword{' ' + context if context else ''}")
        self.pos = m.end()
        return m.group().decode("ascii").upper()

    def is_digit(self) -> bool:
        return 0x30 <= self.peek() <= 0x39

    def word(self) -> str:
        """An atom, upper-cased (for keywords compared with the enums)."""
        return self.atom().upper()

    def try_word(self, word: str) -> bool:
        """Consume `word` (case-insensitive) if it is the whole next atom."""
        m = _ATOM.match(self.line, self.pos)
        if m is not None and m.group().decode("ascii").upper() == word:
            self.pos = m.end()
            return True
        return False

    def is_literal(self) -> bool:
        return self.pos in self.literals

    def literal(self, *, binary_ok: bool = False) -> tuple[bytes, bool]:
        lit = self.literals.get(self.pos)
        if lit is None:
            self.error("Literal must be followed by CRLF")
        if lit.binary and not binary_ok:
            self.error("literal8 is not allowed here")
        self.pos = lit.end
        return lit.data, lit.binary

    def quoted(self) -> bytes:
        rx = _QUOTED_UTF8 if self.utf8 else _QUOTED
        m = rx.match(self.line, self.pos)
        if m is None:
            self._quoted_error()
        self.pos = m.end()
        return _UNESCAPE.sub(rb"\1", m.group(1))

    def _quoted_error(self) -> NoReturn:
        i = self.pos + 1
        line = self.line
        while i < len(line):
            c = line[i]
            if c == 0x5C:
                if i + 1 < len(line) and line[i + 1] in b'"\\':
                    i += 2
                    continue
                self.error('Invalid escape in quoted string (only \\\\ and \\" are allowed)')
            if c == 0x22:
                break
            if c in (0x0D, 0x0A, 0x00):
                self.error("Invalid character in quoted string")
            if c >= 0x80:
                self.error("8-bit character in quoted string (use a literal)")
            i += 1
        self.error("Unterminated quoted string")

    def string(self) -> bytes:
        if self.peek() == 0x22:
            return self.quoted()
        if self.is_literal():
            return self.literal()[0]
        if self.at(b"{") or self.at(b"~{"):
            self.error("Literal must be followed by CRLF")
        raise ParseError("Expected string")

    def astring(self) -> bytes:
        m = _ASTRING.match(self.line, self.pos)
        if m is not None:
            self.pos = m.end()
            return m.group()
        return self.string()

    def nstring(self) -> bytes | None:
        if self.try_word("NIL"):
            return None
        return self.string()

    def text(self, raw: bytes, what: str) -> str:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            self.error(f"{what} is not valid UTF-8")

    def astring_text(self, what: str) -> str:
        return self.text(self.astring(), what)

    # -- numbers ---------------------------------------------------------------------

    def number(self, context: str = "", *, limit: int = MAX_NUMBER) -> int:
        m = _DIGITS.match(self.line, self.pos)
        if m is None:
            self.error(f"Expected number{' ' + context if context else ''}")
        if len(m.group()) > 20 or int(m.group()) > limit:
            self.error(f"Number too large{' ' + context if context else ''}")
        self.pos = m.end()
        return int(m.group())

    def nz_number(self, context: str = "") -> int:
        n = self.number(context)
        if n == 0:
            self.error(f"Expected non-zero number{' ' + context if context else ''}")
        return n

    def number64(self, context: str = "") -> int:
        return self.number(context, limit=MAX_NUMBER64)

    # -- sequence sets -------------------------------------------------------------------

    def sequence_set(self) -> SequenceSet:
        """sequence-set (RFC 9051 §9) or "$" (RFC 5182)."""
        if self.at(b"$"):
            self.pos += 1
            return SequenceSet(saved=True)
        # A client fetching 1,000 chosen messages sends 1,000 numbers: read at once when
        # well formed, a number at a time (saying what is wrong) otherwise.
        m = _SEQ_SET.match(self.line, self.pos)
        if m is not None:
            ranges = _well_formed_ranges(m.group())
            if ranges is not None:
                self.pos = m.end()
                return SequenceSet(ranges)
        return self._sequence_set_stepwise()

    def _sequence_set_stepwise(self) -> SequenceSet:
        ranges: list[tuple[SeqNumber, SeqNumber]] = []
        while True:
            a = self._seq_number()
            b = a
            if self.try_char(b":"):
                b = self._seq_number()
            ranges.append((a, b))
            if not self.try_char(b","):
                break
        return SequenceSet(tuple(ranges))

    def _seq_number(self) -> SeqNumber:
        m = _SEQ_NUM.match(self.line, self.pos)
        if m is None:
            self.error("Invalid sequence set: expected a number or '*'")
        self.pos = m.end()
        if m.group() == b"*":
            return STAR
        if len(m.group()) > 10 or int(m.group()) > MAX_NUMBER:
            self.error("Invalid sequence set: number too large")
        n = int(m.group())
        if n == 0:
            self.error("Invalid sequence set: 0 is not allowed")
        return n

    # -- flags ---------------------------------------------------------------------------

    def flag(self) -> str:
        """flag: a system flag (canonical spelling), "\\" atom or a keyword atom."""
        if self.try_char(b"\\"):
            return canonical_flag("\\" + self.atom("after '\\' in flag"))
        return self.atom("(flag)")

    def flag_list(self) -> tuple[str, ...]:
        self.open_paren("to start flag list")
        flags: list[str] = []
        if not self.try_char(b")"):
            while True:
                f = self.flag()
                if f not in flags:
                    flags.append(f)
                if self.try_char(b")"):
                    break
                self.sp("between flags")
        return tuple(flags)

    # -- mailboxes -----------------------------------------------------------------------

    def decode_mailbox(self, raw: bytes, *, pattern: bool = False) -> str:
        """Mailbox name to Unicode: UTF-8 when `utf8`, else modified UTF-7."""
        if self.utf8:
            name = self.text(raw, "Mailbox name")
        else:
            if not raw.isascii():
                self.error(
                    "Mailbox name contains 8-bit characters; use modified UTF-7 "
                    "or ENABLE UTF8=ACCEPT"
                )
            try:
                name = mutf7.decode(raw.decode("ascii"))
            except ValueError as exc:
                self.error(f"Mailbox name is not valid modified UTF-7: {exc}")
        if not pattern and name.upper() == "INBOX":
            return "INBOX"
        return name

    def mailbox(self) -> str:
        return self.decode_mailbox(self.astring())

    def list_mailbox(self) -> str:
        """list-mailbox: 1*list-char / string (RFC 9051 §9)."""
        m = _LIST_CHARS.match(self.line, self.pos)
        if m is not None:
            self.pos = m.end()
            raw = m.group()
        else:
            raw = self.string()
        return self.decode_mailbox(raw, pattern=True)

    # -- dates ----------------------------------------------------------------------------

    def date(self) -> dt.date:
        """date: date-text or quoted date-text (RFC 9051 §9)."""
        quoted = self.try_char(b'"')
        m = _DATE.match(self.line, self.pos)
        if m is None:
            self.error("Invalid date (expected dd-Mon-yyyy)")
        self.pos = m.end()
        if quoted:
            self.expect(b'"', "after date")
        month = _MONTHS.get(m.group(2).decode("ascii").lower())
        if month is None:
            self.error("Invalid month in date")
        try:
            return dt.date(int(m.group(3)), month, int(m.group(1)))
        except ValueError:
            self.error("Invalid date")

    def date_time(self) -> dt.datetime:
        """date-time with zone, as an aware datetime (RFC 9051 §9)."""
        m = _DATE_TIME.match(self.line, self.pos)
        if m is None:
            self.error('Invalid date-time (expected "dd-Mon-yyyy hh:mm:ss +zzzz")')
        self.pos = m.end()
        month = _MONTHS.get(m.group(2).decode("ascii").lower())
        if month is None:
            self.error("Invalid month in date-time")
        zh, zm = int(m.group(8)), int(m.group(9))
        if zm >= 60:
            self.error("Invalid zone in date-time")
        offset = dt.timedelta(hours=zh, minutes=zm)
        if m.group(7) == b"-":
            offset = -offset
        try:
            return dt.datetime(
                int(m.group(3)),
                month,
                int(m.group(1)),
                int(m.group(4)),
                int(m.group(5)),
                int(m.group(6)),
                tzinfo=dt.timezone(offset),
            )
        except ValueError:
            self.error("Invalid date-time")

    # -- lists ---------------------------------------------------------------------------

    def paren_atoms(self, context: str) -> list[str]:
        """ "(" [atom *(SP atom)] ")", upper-cased."""
        self.open_paren(context)
        items: list[str] = []
        if not self.try_char(b")"):
            while True:
                items.append(self.word())
                if self.try_char(b")"):
                    break
                self.sp(context)
        return items


def _seq_value(text: bytes) -> SeqNumber | None:
    if text == b"*":
        return STAR
    n = int(text)
    return n if 0 < n <= MAX_NUMBER else None


def _well_formed_ranges(text: bytes) -> tuple[tuple[SeqNumber, SeqNumber], ...] | None:
    """The ranges of a `_SEQ_SET` match; None when a number is 0 or too large."""
    ranges: list[tuple[SeqNumber, SeqNumber]] = []
    for element in text.split(b","):
        first, colon, last = element.partition(b":")
        a = _seq_value(first)
        b = _seq_value(last) if colon else a
        if a is None or b is None:
            return None
        ranges.append((a, b))
    return tuple(ranges)
