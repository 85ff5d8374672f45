"""Header blocks: where a header ends, field lookup, unfolding, HEADER.FIELDS selection.

Theory of operation
-------------------
Everything here works on ``raw`` with explicit ``start``/``end`` positions, so a 50 MB
message is never copied to look at its header. The scans are single regular-expression
searches (the loop runs in C): the end of a header is the first empty line, or the first
line that is neither a header field nor a continuation line (real mail sometimes omits
the blank line, RFC 5322 §2.1 notwithstanding).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from functools import lru_cache

# A line that may appear in a header: "name:" (RFC 5322 §2.2 field-name is printable
# US-ASCII except colon; we also accept 8-bit bytes and obs WSP before the colon, RFC 5322
# §4.5) or a continuation line starting with WSP.
# Possessive and bounded, so a 50 MB line without a colon costs one pass, not backtracking.
_FIELD_START = rb"[!-9;-~\x80-\xff]{1,256}+[ \t]*+:"
_VALID_LINE_START = re.compile(_FIELD_START + rb"|[ \t]")
_INVALID_LINE = re.compile(rb"\n(?!" + _FIELD_START + rb"|[ \t])")
_CONTINUATION = re.compile(rb"[^\n]*(?:\n[ \t][^\n]*)*")
_FOLD = re.compile(rb"\r?\n(?=[ \t])")
# One field of a header block: not the empty line that ends the header, then a first line
# (whose "name:" prefix, if valid, is group 1), its continuation lines and its line end.
_FIELD = re.compile(
    rb"(?!\r?\n)(?:([!-9;-~\x80-\xff]{1,256}+)[ \t]*+:)?[^\n]*+(?:\n[ \t][^\n]*+)*+\n?"
)
_WSP = b" \t\r\n"

# Fields the parser looks up; one regex finds them all in one pass.
WANTED = (
    "content-type",
    "content-transfer-encoding",
    "content-id",
    "content-description",
    "content-md5",
    "content-disposition",
    "content-language",
    "content-location",
    "date",
    "subject",
    "from",
    "sender",
    "reply-to",
    "to",
    "cc",
    "bcc",
    "in-reply-to",
    "message-id",
)
_WANTED_RE = re.compile(
    rb"(?im)^(" + b"|".join(re.escape(n.encode()) for n in WANTED) + rb")[ \t]*:"
)
# Bound on interesting fields examined per header (pathological headers repeat them).
_MAX_FIELD_MATCHES = 2000


def header_end(raw: bytes, start: int, end: int, *, allow_from_line: bool = False) -> int:
    """Return body_start for an entity whose header starts at ``start``.

    The header is ``raw[start:result]`` including its terminating empty line, if any.
    ``allow_from_line`` tolerates an mbox "From " line as the first line.
    """
    if start >= end:
        return end
    # Header ends immediately with an empty line.
    if raw.startswith(b"\r\n", start, end):
        return start + 2
    if raw.startswith(b"\n", start, end):
        return start + 1
    first_ok = _VALID_LINE_START.match(raw, start, end) is not None or (
        allow_from_line and raw.startswith(b"From ", start, end)
    )
    if not first_ok:
        return start  # no header at all: the entity starts with its body
    # The first empty line ("\n\r\n" or "\n\n") bounds the search for a bad line.
    blank = _first_blank_line(raw, start, end)
    limit = end if blank < 0 else blank - 1  # exclude the "\n" that ends the last field
    bad = _INVALID_LINE.search(raw, start, limit)
    if bad is not None:
        # Lenient: a non-field line ends the header; it is the first line of the body.
        return bad.start() + 1
    if blank < 0:
        return end
    return blank + (2 if raw.startswith(b"\r\n", blank, end) else 1)


def _first_blank_line(raw: bytes, start: int, end: int) -> int:
    """Position of the first empty line after ``start`` (never at ``start``), or -1."""
    crlf = raw.find(b"\n\r\n", start, end)
    lf = raw.find(b"\n\n", start, crlf + 2 if crlf >= 0 else end)
    candidates = [p for p in (crlf, lf) if p >= 0]
    return min(candidates) + 1 if candidates else -1


def unfold(value: bytes) -> bytes:
    """Unfold (RFC 5322 §2.2.3: remove CRLF before WSP) and strip surrounding WSP."""
    stripped = value.strip(_WSP)
    if b"\n" not in stripped:  # one line (but for its line end): nothing to unfold
        return stripped
    return _FOLD.sub(b"", value).strip(_WSP)


def find_fields(raw: bytes, start: int, end: int) -> dict[str, bytes]:
    """The first occurrence of each `WANTED` field in ``raw[start:end]``, unfolded.

    Lenient: duplicated fields (e.g. two Content-Type) are common in spam; the first wins.
    """
    found: dict[str, bytes] = {}
    for count, m in enumerate(_WANTED_RE.finditer(raw, start, end)):
        if count >= _MAX_FIELD_MATCHES or len(found) == len(WANTED):
            break
        name = m.group(1).lower().decode("ascii")
        if name in found:
            continue
        value = _CONTINUATION.match(raw, m.end(), end)
        found[name] = unfold(value.group(0)) if value is not None else b""
    return found


def iter_fields(header: bytes) -> list[tuple[bytes | None, bytes]]:
    """Split a header block into (lower-case name or None, raw field bytes) pairs.

    Each field keeps its continuation lines and line ends byte for byte; a line that is not
    a field (name None) is kept as its own item. The empty line that ends the header is
    not returned. One regular-expression pass: `_FIELD` matches field after field.
    """
    out: list[tuple[bytes | None, bytes]] = []
    pos = 0
    for m in _FIELD.finditer(header):
        stop = m.end()
        if m.start() != pos or stop == pos:
            break  # the empty line ending the header (or the end of the block)
        name = m.group(1)
        out.append((None if name is None else name.lower(), m.group(0)))
        pos = stop
    return out


@lru_cache(maxsize=256)
def _wanted(names: tuple[str, ...]) -> frozenset[bytes]:
    """Field names as `iter_fields` gives them; a message list asks the same for each
    message (a sixth of the selection's time when made each time)."""
    return frozenset(n.lower().encode("ascii", "replace") for n in names)


def select_header_fields(header: bytes, names: Collection[str], *, exclude: bool) -> bytes:
    """HEADER.FIELDS / HEADER.FIELDS.NOT (RFC 3501 §6.4.5) of a header block.

    Field names match case-insensitively; matching fields keep their folding byte for
    byte, and the result ends with the empty line (CRLF). Lines that are not header
    fields never match a name, so they appear only in HEADER.FIELDS.NOT results.
    """
    wanted = _wanted(tuple(names))
    parts: list[bytes] = []
    for name, field in iter_fields(header):
        matches = name is not None and name in wanted
        if matches != exclude:
            parts.append(field)
            if not field.endswith(b"\n"):
                parts.append(b"\r\n")  # last field of a header with no body nor line end
    parts.append(b"\r\n")
    return b"".join(parts)
