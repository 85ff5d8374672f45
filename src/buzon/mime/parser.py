"""The tolerant MIME parser: raw bytes to a `ParsedMessage` with byte offsets.

Theory of operation
-------------------
`parse` walks the entity tree top-down. Every entity is parsed within a byte range
``[start, end)`` of the one raw buffer its parent gives it; nothing is copied except header
field values. For an entity:

1. its header ends at the first empty line, or at the first line that is not a header
   field (`headers.header_end`);
2. the few fields we need are found by one regex pass (`headers.find_fields`);
3. a multipart body is cut at its delimiter lines (RFC 2046 §5.1.1), found by a compiled
   regex that only matches whole delimiter lines, so the scan runs in C even for a 50 MB
   attachment. The CRLF before a delimiter belongs to the delimiter. An outer boundary
   always bounds the inner parts: a child multipart missing its close delimiter ends
   where its parent's next delimiter starts;
4. a message/rfc822 (or message/global) body is parsed as a message in its own range.

Bounds keep hostile input cheap: nesting deeper than `MAX_DEPTH` and parts beyond
`MAX_PARTS` are left opaque (a multipart then shows one empty part, an embedded message
is an empty message). Line counts are `count_lines` of the body: the number of LF bytes.
"""

from __future__ import annotations

from buzon.mime import headers
from buzon.mime.address import parse_addresses
from buzon.mime.model import Address, BodyPart, Envelope, ParsedMessage
from buzon.mime.params import (
    parse_content_type,
    parse_disposition,
    parse_encoding,
    parse_language,
    raw_boundary,
)

MAX_DEPTH = 64
MAX_PARTS = 10000
MAX_ADDRESS_FIELD = 256 * 1024  # bytes of an address field parsed (about 10000 addresses)
MAX_MIME_FIELD = 64 * 1024  # bytes of a Content-* field parsed
_MESSAGE_SUBTYPES = frozenset({"rfc822", "global"})
_TEXT_DEFAULT = ("text", "plain")
_DIGEST_DEFAULT = ("message", "rfc822")  # RFC 2046 §5.1.5
_MAX_BOUNDARY = 200  # RFC 2046 §5.1.1 allows 70; lenient, but bounded


def count_lines(raw: bytes, start: int, end: int) -> int:
    """Body line count for BODYSTRUCTURE: the number of LF bytes in ``raw[start:end]``.

    This is Dovecot's convention (message-parser counts ``\\n`` in body blocks): a last
    line without a line end is not counted. In a multipart the CRLF before a delimiter
    belongs to the delimiter (RFC 2046 §5.1.1), so a part "a\\r\\nb" has one line.
    """
    return raw.count(b"\n", start, end)


def parse(raw: bytes) -> ParsedMessage:
    """Parse a message (ideally CRLF-normalized, but bare LF works too); never raises."""
    try:
        return parse_strict(raw)
    except Exception:  # last-resort net; the fuzz tests call parse_strict to prove it unused
        end = len(raw)
        root = BodyPart(0, 0, end, size=end, lines=count_lines(raw, 0, end))
        return ParsedMessage(root=root, envelope=Envelope())


def parse_strict(raw: bytes) -> ParsedMessage:
    """`parse` without the safety net, for tests that prove the net is never needed."""
    return _Parser(raw).message(0, len(raw), 0, top=True)


def _capped(value: bytes | None, limit: int) -> bytes | None:
    """The part of a structured field we are willing to parse (a Python loop per token).

    Lenient and bounded: an address list is cut after its last "," within the limit.
    """
    if value is None or len(value) <= limit:
        return value
    cut = value.rfind(b",", 0, limit)
    return value[: cut if cut > 0 else limit]


def _addresses(value: bytes | None) -> tuple[Address, ...]:
    return parse_addresses(_capped(value, MAX_ADDRESS_FIELD))


def _envelope(f: dict[str, bytes]) -> Envelope:
    """RFC 3501 §7.4.2 ENVELOPE fields, raw (unfolded, not decoded)."""
    return Envelope(
        date=f.get("date"),
        subject=f.get("subject"),
        from_=_addresses(f.get("from")),
        sender=_addresses(f.get("sender")),
        reply_to=_addresses(f.get("reply-to")),
        to=_addresses(f.get("to")),
        cc=_addresses(f.get("cc")),
        bcc=_addresses(f.get("bcc")),
        in_reply_to=f.get("in-reply-to"),
        message_id=f.get("message-id"),
    )


def _delimiter_tail(raw: bytes, pos: int, end: int) -> tuple[int, bool] | None:
    """After "--" boundary at `pos`: the end of the delimiter line and whether it closes.

    RFC 2046 §5.1.1: "--" for the close delimiter, then optional transport padding
    (lenient: any spaces/tabs) and the line end. Junk after the boundary makes it not a
    delimiter, so "--abc-def" is not a delimiter of "abc". Written without regular
    expressions: every message has its own boundaries, and compiling a pattern per
    boundary was a third of the parse time.
    """
    close = raw.startswith(b"--", pos, end)
    i = pos + 2 if close else pos
    while i < end and raw[i] in (0x20, 0x09):
        i += 1
    if i < end and raw[i] == 0x0D:
        i += 1
    if i >= end:
        return end, close
    if raw[i] == 0x0A:
        return i + 1, close
    return None


class _Parser:
    """One parse: the raw buffer and the part budget shared by the whole tree."""

    __slots__ = ("parts", "raw")

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.parts = 0

    def message(self, start: int, end: int, depth: int, *, top: bool = False) -> ParsedMessage:
        body_start = headers.header_end(self.raw, start, end, allow_from_line=top)
        fields = headers.find_fields(self.raw, start, body_start)
        root = self.entity(start, body_start, end, fields, default=_TEXT_DEFAULT, depth=depth)
        return ParsedMessage(root=root, envelope=_envelope(fields))

    def part(self, start: int, end: int, *, default: tuple[str, str], depth: int) -> BodyPart:
        body_start = headers.header_end(self.raw, start, end)
        fields = headers.find_fields(self.raw, start, body_start)
        return self.entity(start, body_start, end, fields, default=default, depth=depth)

    def entity(
        self,
        start: int,
        body_start: int,
        end: int,
        fields: dict[str, bytes],
        *,
        default: tuple[str, str],
        depth: int,
    ) -> BodyPart:
        raw = self.raw
        self.parts += 1
        content_type = _capped(fields.get("content-type"), MAX_MIME_FIELD)
        type_, subtype, params = parse_content_type(content_type, default)
        encoding = parse_encoding(_capped(fields.get("content-transfer-encoding"), 1024))
        opaque = depth >= MAX_DEPTH or self.parts >= MAX_PARTS
        parts: tuple[BodyPart, ...] = ()
        message: ParsedMessage | None = None
        lines: int | None = None
        if type_ == "multipart":
            if not opaque:
                boundary = raw_boundary(content_type)
                child_default = _DIGEST_DEFAULT if subtype == "digest" else _TEXT_DEFAULT
                parts = self.split(body_start, end, boundary, default=child_default, depth=depth)
            if not parts:
                # RFC 3501 §7.4.2 needs at least one part; like Dovecot, show an empty one.
                parts = (BodyPart(body_start, body_start, body_start, lines=0),)
        elif type_ == "message" and subtype in _MESSAGE_SUBTYPES:
            lines = count_lines(raw, body_start, end)
            # Like Dovecot, the body is parsed as a message whatever its transfer encoding
            # (a base64 one yields an empty header): BODYSTRUCTURE's body-type-msg needs an
            # envelope and a body (RFC 3501 §7.4.2). Past the limits it is an empty message.
            if opaque:
                empty = BodyPart(body_start, body_start, body_start, lines=0)
                message = ParsedMessage(root=empty, envelope=Envelope())
            else:
                message = self.message(body_start, end, depth + 1)
        elif type_ == "text":
            lines = count_lines(raw, body_start, end)
        return BodyPart(
            header_start=start,
            body_start=body_start,
            body_end=end,
            type=type_,
            subtype=subtype,
            params=params,
            id=fields.get("content-id"),
            description=fields.get("content-description"),
            encoding=encoding,
            size=end - body_start,
            lines=lines,
            md5=fields.get("content-md5"),
            disposition=parse_disposition(
                _capped(fields.get("content-disposition"), MAX_MIME_FIELD)
            ),
            language=parse_language(_capped(fields.get("content-language"), MAX_MIME_FIELD)),
            location=fields.get("content-location"),
            parts=parts,
            message=message,
        )

    def split(
        self, start: int, end: int, boundary: bytes, *, default: tuple[str, str], depth: int
    ) -> tuple[BodyPart, ...]:
        """Cut a multipart body ``raw[start:end]`` into its body parts (RFC 2046 §5.1.1)."""
        raw = self.raw
        if not boundary or len(boundary) > _MAX_BOUNDARY:
            return ()
        marker = b"--" + boundary
        # Delimiter lines as (start incl. the preceding line end, end, is close delimiter).
        spans: list[tuple[int, int, bool]] = []
        pos = start
        if raw.startswith(marker, start, end):
            tail = _delimiter_tail(raw, start + len(marker), end)
            if tail is not None:
                spans.append((start, tail[0], tail[1]))
                pos = tail[0]
        needle = b"\n" + marker
        while not (spans and spans[-1][2]) and len(spans) <= MAX_PARTS:
            # Search from the LF ending the previous line: back-to-back delimiters match.
            search_from = pos - 1 if pos > start and raw[pos - 1] == 0x0A else pos
            found = raw.find(needle, search_from, end)
            tail = None
            while found != -1:
                tail = _delimiter_tail(raw, found + len(needle), end)
                if tail is not None:
                    break
                found = raw.find(needle, found + 1, end)
            if found == -1 or tail is None:
                break
            line_start = found
            if line_start > start and raw[line_start - 1] == 0x0D:
                line_start -= 1  # RFC 2046 §5.1.1: the CRLF before a delimiter belongs to it
            spans.append((line_start, tail[0], tail[1]))
            pos = tail[0]
        out: list[BodyPart] = []
        for index, (_, part_start, close) in enumerate(spans):
            if close:
                break  # what follows the close delimiter is the epilogue
            if self.parts >= MAX_PARTS:
                # Past the limit: the rest is folded into one opaque last part.
                out.append(self.part(part_start, end, default=default, depth=MAX_DEPTH))
                break
            # Lenient: without a close delimiter the last part runs to the end.
            part_end = end if index + 1 == len(spans) else max(spans[index + 1][0], part_start)
            out.append(self.part(part_start, part_end, default=default, depth=depth + 1))
        return tuple(out)
