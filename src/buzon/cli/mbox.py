"""mbox files: a streaming reader and a writer (the mboxrd variant).

Theory of operation
-------------------
An mbox is messages one after the other, each introduced by a "From_" line
(`From sender asctime-date`) and followed by one empty line. In mboxrd every body line
matching `>*From ` is quoted with one more ">" on writing and unquoted on reading, so
any content survives, a message that does not end in a newline included: the writer
puts exactly one "\\n" after each message and the reader takes exactly one away.

`read_mbox` is a generator over a binary file that reads it in chunks (of at least
`CHUNK` bytes, and as long as the unfinished message for a long one) and keeps only the
current message plus one chunk in memory, so a 10 GB file costs no more than a few
times its largest message. Each `MboxMessage` carries the byte offset just past it:
an import records that offset as its checkpoint and resumes there.

Flags ride in the headers the way Dovecot and mutt write them: `Status: R` (\\Seen),
`X-Status: A F T D` (\\Answered \\Flagged \\Draft \\Deleted) and `X-Keywords:` (keywords).
`flags_from_headers` reads them; `with_flag_headers` rewrites them only when they no
longer say what the flags say, so an untouched message is exported byte for byte.

The From_ line's date becomes the internal date (asctime has no zone: UTC); on export
the sender is the Return-Path address, else the From address, else MAILER-DAEMON.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import parseaddr
from typing import BinaryIO

CHUNK = 1 << 20
_UNQUOTE = re.compile(rb"^>(>*From )", re.MULTILINE)
_QUOTE = re.compile(rb"^(>*From )", re.MULTILINE)
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

SYSTEM_LETTERS = {"\\Answered": "A", "\\Flagged": "F", "\\Draft": "T", "\\Deleted": "D"}
_LETTER_FLAGS = {v: k for k, v in SYSTEM_LETTERS.items()}
FLAG_HEADERS = frozenset({b"status", b"x-status", b"x-keywords"})
_SENDER_HEADERS = frozenset({b"return-path", b"from"})


@dataclass(frozen=True, slots=True)
class MboxMessage:
    """One message: its bytes (unquoted, line ends as in the file) and From_ line data."""

    content: bytes
    sender: str
    internal_date: dt.datetime | None
    end: int  # file offset just past this message and its separator


def parse_asctime(text: str) -> dt.datetime | None:
    """`Sat Nov 27 16:23:09 2026`, optionally with a numeric zone before or after the year."""
    tokens = text.split()
    zone = next((t for t in tokens if len(t) == 5 and t[0] in "+-" and t[1:].isdecimal()), None)
    if zone is not None:
        tokens = [t for t in tokens if t != zone]
    if len(tokens) != 5 or tokens[1] not in _MONTHS:
        return None
    try:
        hour, minute, second = (int(x) for x in tokens[3].split(":"))
        tz = dt.UTC
        if zone is not None:
            sign = -1 if zone[0] == "-" else 1
            tz = dt.timezone(sign * dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5])))
        return dt.datetime(
            int(tokens[4]), _MONTHS.index(tokens[1]) + 1, int(tokens[2]), hour, minute, second,
            tzinfo=tz,
        )  # fmt: skip
    except ValueError:
        return None


def format_asctime(value: dt.datetime) -> str:
    """asctime in UTC with English names, whatever the locale: `Sat Nov  7 16:23:09 2026`."""
    u = value.astimezone(dt.UTC)
    return (
        f"{_DAYS[u.weekday()]} {_MONTHS[u.month - 1]} {u.day:2d}"
        f" {u.hour:02d}:{u.minute:02d}:{u.second:02d} {u.year}"
    )


def _message(line: bytes, content: bytes, quoted: bool, end: int) -> MboxMessage:
    """A message from its From_ line (after "From ") and its content (separator removed)."""
    if quoted and b">From " in content:
        content = _UNQUOTE.sub(rb"\1", content)
    fields = line.decode("utf-8", "replace").strip().split(None, 1)
    sender = fields[0] if fields else "MAILER-DAEMON"
    date = parse_asctime(fields[1]) if len(fields) > 1 else None
    return MboxMessage(content, sender, date, end)


def read_mbox(stream: BinaryIO, start: int = 0) -> Iterator[MboxMessage]:
    """Yield the messages of an mbox from byte offset `start` (a From_ line or the end).

    Text before the first From_ line is not a message and is skipped.

    One search for "From " finds both kinds of line that matter: preceded by a line end
    it starts a message; preceded by ">" it may be a quoted line (mboxrd), and only a
    message that has one goes through the unquoting. Each message is one slice of the
    buffer (the From_ line and the separator left out), so its bytes are copied once.
    """
    stream.seek(start)
    # buf[0] is file offset `base`; a virtual line end stands before `start`, so that a
    # From_ line there counts, and buf[hit - 1] always exists.
    buf = b"\n"
    base = start - 1
    head = -1  # where the current message's From_ line starts in buf; -1 before the first
    scan = 1  # where the next search for "From " starts
    quoted = False  # a ">From " since head: the message may need unquoting
    while True:
        hit = buf.find(b"From ", scan)
        if hit >= 0:
            scan = hit + 5
            before = buf[hit - 1]
            if before == 0x0A:  # "\n": a From_ line
                if head >= 0:
                    nl = buf.find(b"\n", head, hit)  # found: at hit - 1 at the latest
                    # The content ends before the separator, the "\n" at hit - 1.
                    yield _message(buf[head + 5 : nl], buf[nl + 1 : hit - 1], quoted, base + hit)
                head = hit
                quoted = False
            elif before == 0x3E:  # ">"
                quoted = True
            continue
        # Keep the unfinished message, or before the first one the last 5 bytes (a
        # "From " cut by the chunk end, and the byte before it); rescan only the tail.
        # A long message is read in ever larger pieces, so that keeping it costs time
        # linear in its size, not quadratic.
        cut = head if head >= 0 else max(0, len(buf) - 5)
        chunk = stream.read(max(CHUNK, len(buf) - cut))
        if not chunk:
            if head >= 0:
                yield _last(buf, head, quoted, base + len(buf))
            return
        scan = max(scan, len(buf) - 4) - cut
        head = min(head, 0)  # the open message now starts at 0; -1 stays -1
        base += cut
        buf = buf[cut:] + chunk


def _last(buf: bytes, head: int, quoted: bool, end: int) -> MboxMessage:
    """The message at the end of the file: its final newline may be missing."""
    nl = buf.find(b"\n", head)
    if nl < 0:
        return _message(buf[head + 5 :], b"", quoted, end)
    stop = len(buf) - 1 if buf[-1] == 0x0A else len(buf)  # the separator, if there
    return _message(buf[head + 5 : nl], buf[nl + 1 : stop], quoted, end)


def from_line(content: bytes, internal_date: dt.datetime) -> bytes:
    """The From_ line for a message (see the module docstring for the sender)."""
    headers = _header_fields(content, _SENDER_HEADERS)
    sender = ""
    for name in (b"return-path", b"from"):
        value = headers.get(name)
        if value is not None:
            sender = parseaddr(value.decode("utf-8", "replace"))[1]
            break
    if not sender or any(c.isspace() for c in sender):
        sender = "MAILER-DAEMON"
    return f"From {sender} {format_asctime(internal_date)}\n".encode()


def write_message(out: BinaryIO, content: bytes, internal_date: dt.datetime) -> int:
    """Append one message (LF line ends) in mboxrd form; return the bytes written."""
    head = from_line(content, internal_date)
    if b"From " in content:
        content = _QUOTE.sub(rb">\1", content)
    out.write(head)
    out.write(content)
    out.write(b"\n")
    return len(head) + len(content) + 1


# --- flags in headers ------------------------------------------------------------------------


def _header_end(content: bytes) -> int:
    """Offset of the empty line that ends the header (or the end of the content)."""
    if content.startswith(b"\n"):
        return 0
    idx = content.find(b"\n\n")
    return len(content) if idx < 0 else idx + 1


def _header_lines(content: bytes) -> list[bytes]:
    """Header fields with their continuation lines, each ending in "\\n" (maybe not the last)."""
    lines = content[: _header_end(content)].splitlines(keepends=True)
    fields: list[bytes] = []
    for line in lines:
        if fields and line[:1] in (b" ", b"\t"):
            fields[-1] += line
        else:
            fields.append(line)
    return fields


def _header_fields(content: bytes, names: frozenset[bytes]) -> dict[bytes, bytes]:
    """The first field of each of `names` (lower case): value unfolded, white space single."""
    out: dict[bytes, bytes] = {}
    for field in _header_lines(content):
        name, colon, value = field.partition(b":")
        if colon:
            key = name.strip().lower()
            if key in names and key not in out:
                out[key] = b" ".join(value.split())
    return out


def _flags_of(fields: dict[bytes, bytes]) -> frozenset[str]:
    flags: set[str] = set()
    if b"R" in fields.get(b"status", b""):
        flags.add("\\Seen")
    for letter in fields.get(b"x-status", b"").decode("ascii", "replace"):
        if letter in _LETTER_FLAGS:
            flags.add(_LETTER_FLAGS[letter])
    keywords = fields.get(b"x-keywords", b"").decode("utf-8", "replace")
    flags.update(k for k in keywords.replace(",", " ").split() if not k.startswith("\\"))
    return frozenset(flags)


def flags_from_headers(content: bytes) -> frozenset[str]:
    """The flags that Status, X-Status and X-Keywords record."""
    # Most messages have none of these fields: one search of the header block tells.
    head = content[: _header_end(content)].lower()
    if b"status" not in head and b"x-keywords" not in head:  # "status" is in "x-status"
        return frozenset()
    return _flags_of(_header_fields(content, FLAG_HEADERS))


def with_flag_headers(content: bytes, flags: frozenset[str]) -> bytes:
    """`content` whose flag headers say `flags`: unchanged when they already do."""
    flags = frozenset(f for f in flags if f != "\\Recent")
    fields = _header_fields(content, FLAG_HEADERS)
    if _flags_of(fields) == flags:
        return content
    old_status = fields.get(b"status", b"")
    status = ("R" if "\\Seen" in flags else "") + ("O" if b"O" in old_status else "")
    xstatus = "".join(SYSTEM_LETTERS[f] for f in sorted(SYSTEM_LETTERS) if f in flags)
    keywords = " ".join(sorted(f for f in flags if not f.startswith("\\")))
    end = _header_end(content)
    kept = [
        f
        for f in _header_lines(content)
        if f.partition(b":")[0].strip().lower() not in FLAG_HEADERS
    ]
    if kept and not kept[-1].endswith(b"\n"):
        kept[-1] += b"\n"
    new = [
        f"{name}: {value}\n".encode()
        for name, value in (("Status", status), ("X-Status", xstatus), ("X-Keywords", keywords))
        if value
    ]
    return b"".join(kept + new) + content[end:]
