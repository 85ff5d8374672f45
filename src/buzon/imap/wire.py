"""How a value goes on the wire: atom, quoted string or literal; flags, numbers, dates.

Theory of operation: a renderer (``encoder``) writes into ``Out``, which gathers protocol
text as ``str`` pieces and keeps literal data as the caller's own ``bytes`` objects (never
copied). One set of functions here decides how a value is written (RFC 9051 §4.3, §9):

- ``atom``-contexts (flags, capabilities, charsets) only ever write atoms and refuse anything
  else with ``ValueError``: such values come from the server, and a broken one is a bug.
- ``astring``: an atom when every char is an ASTRING-CHAR and the value is not ``NIL`` (which a
  client would read as nil), otherwise a string.
- ``string``: quoted when short and every char is allowed in ``quoted`` (7-bit without NUL,
  CR, LF; any UTF-8 too once the client enabled it, RFC 6855 §3 / RFC 9051 §4.3), else literal.
- ``nstring``: ``NIL`` for ``None``, otherwise a string.
- ``literal``: ``{n}``; ``~{n}`` (literal8) for data with NUL where binary is allowed (RFC 3516
  §4.2). Elsewhere NUL cannot be sent at all (RFC 9051 §4.3), so it becomes 0x80 as Dovecot does.
- ``mailbox``: INBOX in any case is ``INBOX``; other names in modified UTF-7 (RFC 3501 §5.1.3)
  unless UTF-8 is enabled, then an astring.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import TypeVar

from buzon.imap import mutf7
from buzon.imap.words import AttrWord, CapabilityWord, Flag, FlagWord

__all__ = [
    "QUOTED_MAX",
    "Out",
    "astring",
    "atom",
    "atom_or_quoted",
    "attr",
    "capabilities",
    "compact",
    "each",
    "flag_list",
    "flags",
    "format_datetime",
    "literal",
    "literal_data",
    "mailbox",
    "nstring",
    "quote",
    "string",
    "text",
]

_T = TypeVar("_T")

QUOTED_MAX = 1024
"""Longer strings go as literals: some clients limit line length (RFC 2683 §3.2.1.5)."""

# RFC 9051 §9: atom-specials = "(" / ")" / "{" / SP / CTL / "%" / "*" / DQUOTE / "\" / "]";
# atoms are 7-bit. ASTRING-CHAR adds "]".
_ATOM = re.compile(r'[^\x00-\x20\x7f-\U0010ffff(){%*"\\\]]+')
_ASTRING = re.compile(r'[^\x00-\x20\x7f-\U0010ffff(){%*"\\]+')
# QUOTED-CHAR: TEXT-CHAR (CHAR except CR, LF; CHAR excludes NUL) minus nothing: the quoted
# specials are escaped. In UTF-8 mode any non-surrogate character is allowed as well.
_UNQUOTABLE = re.compile(r"[^\x01-\x09\x0b\x0c\x0e-\x7f]")
_UNQUOTABLE_UTF8 = re.compile(r"[\x00\r\n\ud800-\udfff]")
_UNQUOTABLE_BYTES = re.compile(rb"[^\x01-\x09\x0b\x0c\x0e-\x7f]")
_CTL_BYTES = re.compile(rb"[\x00\r\n]")
_BAD_TEXT = re.compile(r"[\x00\r\n]")
_LITERAL_END = re.compile(r"\{\d+\+?\}\Z")

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class Out:
    """Output under construction: protocol text plus untouched literal data."""

    __slots__ = ("_parts", "_text", "utf8")

    def __init__(self, utf8: bool) -> None:
        self.utf8 = utf8
        self._parts: list[bytes] = []
        self._text: list[str] = []

    def w(self, text: str) -> None:
        self._text.append(text)

    def data(self, data: bytes) -> None:
        """Append bytes as they are (literal contents, pre-encoded items)."""
        self._flush()
        self._parts.append(data)

    def _flush(self) -> None:
        if self._text:
            # Only UTF-8-mode quoted strings and text can hold non-ASCII here, both checked.
            self._parts.append("".join(self._text).encode("utf-8"))
            self._text.clear()

    def parts(self) -> list[bytes]:
        self._flush()
        return self._parts


def each(out: Out, items: Iterable[_T], write: Callable[[_T], None]) -> None:
    """Write items separated by SP."""
    for i, item in enumerate(items):
        if i:
            out.w(" ")
        write(item)


# --- choosing atom, quoted string or literal ---------------------------------------------------


def _utf8(value: str) -> bytes:
    # surrogateescape gives back the bytes of a str decoded with it; other lone surrogates
    # cannot be sent at all and become "?".
    try:
        return value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace")


def quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _quotable_bytes(value: bytes, utf8: bool) -> bool:
    if len(value) > QUOTED_MAX:
        return False
    if not _UNQUOTABLE_BYTES.search(value):
        return True
    if not utf8 or _CTL_BYTES.search(value):
        return False
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def literal_data(data: bytes) -> bytes:
    """The data of a literal (not literal8) as sent: RFC 9051 §4.3 allows no NUL there.
    Lenient like Dovecot: a stored NUL goes out as 0x80."""
    return data.replace(b"\x00", b"\x80") if b"\x00" in data else data


def literal(out: Out, data: bytes, binary: bool) -> None:
    if binary and b"\x00" in data:
        out.w(f"~{{{len(data)}}}\r\n")  # RFC 3516 §4.2: literal8
        out.data(data)
        return
    data = literal_data(data)
    out.w(f"{{{len(data)}}}\r\n")
    out.data(data)


def string(out: Out, value: str | bytes, binary: bool = False) -> None:
    """string = quoted / literal (RFC 9051 §4.3)."""
    if isinstance(value, str):
        unquotable = _UNQUOTABLE_UTF8 if out.utf8 else _UNQUOTABLE
        if len(value) <= QUOTED_MAX and not unquotable.search(value):
            out.w(quote(value))
        else:
            literal(out, _utf8(value), binary)
    elif _quotable_bytes(value, out.utf8):
        out.w(quote(value.decode("utf-8")))
    else:
        literal(out, value, binary)


def nstring(out: Out, value: str | bytes | None, binary: bool = False) -> None:
    if value is None:
        out.w("NIL")
    else:
        string(out, value, binary)


def astring(out: Out, value: str) -> None:
    # "NIL" is a valid astring, but clients that read nstring-ish places take it as nil.
    if _ASTRING.fullmatch(value) and value.upper() != "NIL":
        out.w(value)
    else:
        string(out, value)


def atom_or_quoted(out: Out, value: str) -> None:
    if _ATOM.fullmatch(value) and value.upper() != "NIL":
        out.w(value)
    else:
        string(out, value)


def _mailbox_wire(name: str, utf8: bool) -> str:
    # RFC 9051 §5.1: INBOX is case-insensitive; we always show it as INBOX.
    if name.upper() == "INBOX":
        return "INBOX"
    return name if utf8 else mutf7.encode(name)


def mailbox(out: Out, name: str) -> None:
    astring(out, _mailbox_wire(name, out.utf8))


def atom(value: str, what: str) -> str:
    if not _ATOM.fullmatch(value):
        raise ValueError(f"{what} is not an atom: {value!r}")
    return value


def _flag(value: FlagWord) -> str:
    """flag = "\\" atom (system or extension flag) / flag-keyword (atom) (RFC 9051 §9)."""
    if isinstance(value, Flag):
        return value
    body = value[1:] if value.startswith("\\") else value
    if not _ATOM.fullmatch(body):
        raise ValueError(f"not a valid flag: {value!r}")
    return value


@lru_cache(maxsize=4096)
def flag_list(flags: tuple[FlagWord, ...]) -> str:
    """The checked, space-separated flags; FETCH FLAGS repeats a few sets very often."""
    return " ".join(_flag(f) for f in flags)


def flags(flags: Iterable[FlagWord], extra: str = "") -> str:
    inner = flag_list(flags) if isinstance(flags, tuple) else " ".join(_flag(f) for f in flags)
    if extra:
        inner = f"{inner} {extra}" if inner else extra
    return f"({inner})"


def attr(value: AttrWord) -> str:
    # mbx-list-flag: "\" atom (RFC 9051 §9 flag-extension)
    if not value.startswith("\\") or not _ATOM.fullmatch(value[1:]):
        raise ValueError(f"not a mailbox attribute: {value!r}")
    return value


def capabilities(caps: Iterable[CapabilityWord]) -> str:
    return " ".join(atom(c, "capability") for c in caps)


def text(text: str, utf8: bool, bad: re.Pattern[str] = _BAD_TEXT) -> str:
    """resp-text never holds CR, LF or NUL; 8-bit text only with UTF-8 enabled.

    A line ending in ``{n}`` announces a literal to clients that scan lines (imaplib does), so
    such text gets a "." after it.
    """
    if bad.search(text):
        text = bad.sub(" ", text)
    if not text.isascii():
        charset = "utf-8" if utf8 else "ascii"
        text = text.encode(charset, "replace").decode(charset)
    return text + "." if _LITERAL_END.search(text) else text


# --- numbers and dates ---------------------------------------------------------------------------


def compact(numbers: Iterable[int], *, keep_order: bool = False) -> str:
    """Write numbers as a sequence set: ``[1, 2, 3, 5, 7, 8, 9]`` gives ``"1:3,5,7:9"``.

    Sorted and de-duplicated unless ``keep_order`` (COPYUID/APPENDUID, whose sets correspond by
    position, RFC 4315 §3): then only ascending runs in the given order are merged. Raises
    ``ValueError`` for an empty set or a number below 1 (a sequence-set has neither).
    """
    nums: list[int] = list(numbers) if keep_order else sorted(set(numbers))
    if not nums:
        raise ValueError("empty sequence set")
    if min(nums) < 1:
        raise ValueError("sequence set numbers must be at least 1")
    ranges: list[str] = []
    start = prev = nums[0]
    for n in nums[1:]:
        if n == prev + 1:
            prev = n
            continue
        ranges.append(str(start) if start == prev else f"{start}:{prev}")
        start = prev = n
    ranges.append(str(start) if start == prev else f"{start}:{prev}")
    return ",".join(ranges)


def format_datetime(value: dt.datetime) -> str:
    """RFC 9051 §9 date-time without quotes: ``17-Jul-1996 02:44:25 -0700``.

    In the zone of the value; a naive value is taken as UTC. The day is space-padded
    (date-day-fixed). Offsets with seconds are truncated to minutes.
    """
    offset = value.utcoffset()
    seconds = 0 if offset is None else int(offset.total_seconds())
    sign = "-" if seconds < 0 else "+"
    minutes = abs(seconds) // 60
    return (
        f"{value.day:2d}-{_MONTHS[value.month - 1]}-{value.year:04d} "
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d} "
        f"{sign}{minutes // 60:02d}{minutes % 60:02d}"
    )
