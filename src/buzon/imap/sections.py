"""FETCH BODY[section], BINARY[part] and BINARY.SIZE data (RFC 3501 §6.4.5, RFC 3516).

Theory of operation
-------------------
Everything is a pure function of the raw message bytes and its stored `ParsedMessage`:
the section is resolved to a byte range of ``raw`` by `buzon.mime` (`part_at`,
`header_range`, ...), and only the answer is sliced out (a ``<partial>`` is applied to the
range before slicing, so a partial fetch of a 50 MB message copies only what it returns).
HEADER.FIELDS and BINARY compute new bytes, from the header or the part body only.

Decisions
---------
- A section that does not exist (part 7 of a 2-part message, ``1.HEADER`` when part 1 is not
  message/rfc822, a part inside a leaf) is the empty string. RFC 3501/9051 §6.4.5 do not
  say what to answer; Dovecot returns an empty string ("MIME part not found. return an
  empty part."), which clients handle better than NIL or NO. Nothing here ever raises.
- Part numbering is `buzon.mime.part_at`: part 1 of a non-multipart message is its body,
  and inside a message/rfc822 (or message/global) part the numbers address the embedded
  message's parts (RFC 9051 §6.4.5.1).
- ``[HEADER]`` and ``[N.MIME]`` are the header bytes as stored (with their blank line when
  the message has one). HEADER.FIELDS always ends with the blank line, except for "a
  message which has no body and no blank line" (RFC 3501 §7.4.2).
- BINARY (RFC 3516 §4.2, RFC 9051 §6.4.5) is defined for leaf parts. For a multipart part the
  content is the raw body (RFC 2045 §6.4 allows only identity encodings on multipart), and
  ``BINARY[]`` is the whole message as stored, like ``BODY[]``. A message/rfc822 part is
  decoded like a leaf (a base64 encapsulated message then comes out readable). Text and
  message parts get CRLF line ends (RFC 9051 §7.5.2: textual sections "MUST" use CRLF).
"""

from __future__ import annotations

from buzon.imap.commands_values import (
    BodySection,
    FetchAtt,
    FetchBinary,
    FetchBinarySize,
    FetchBody,
    SectionText,
)
from buzon.imap.encoder import encode_astring
from buzon.mime import (
    BodyPart,
    ParsedMessage,
    body_range,
    decode_transfer,
    header_range,
    mime_header_range,
    normalize_crlf,
    part_at,
    select_header_fields,
    text_range,
)

__all__ = [
    "apply_partial",
    "binary_bytes",
    "binary_size",
    "header_section",
    "is_header_section",
    "response_name",
    "rfc822_section",
    "section_bytes",
]

Partial = tuple[int, int]
_IDENTITY = frozenset({"7BIT", "8BIT", "BINARY", ""})
_LINE_TYPES = frozenset({"text", "message"})


def apply_partial(data: bytes, partial: Partial | None) -> bytes:
    """``<origin.size>`` (RFC 3501 §6.4.5): at most ``size`` octets from ``origin``.

    "If the starting octet is beyond the end of the text, an empty string is returned";
    a range reaching past the end is truncated.
    """
    if partial is None:
        return data
    origin, size = max(partial[0], 0), max(partial[1], 0)
    return data[origin : origin + size]


def _slice(raw: bytes, start: int, end: int, partial: Partial | None) -> bytes:
    """``raw[start:end]`` with ``partial`` applied first, so only the answer is copied."""
    start, end = max(start, 0), max(min(end, len(raw)), 0)
    if partial is not None:
        origin, size = max(partial[0], 0), max(partial[1], 0)
        start, end = min(start + origin, end), min(start + origin + size, end)
    if start == 0 and end == len(raw):
        return raw  # the whole message: no copy
    return raw[start:end] if start < end else b""


def section_bytes(
    raw: bytes, msg: ParsedMessage, section: BodySection, *, partial: Partial | None = None
) -> bytes:
    """The octets of ``BODY[section]`` (RFC 3501 §6.4.5), ``partial`` applied if given.

    A section that does not exist gives ``b""`` (see the module docstring); never raises.
    """
    target: ParsedMessage | BodyPart = msg
    if section.part:
        part = part_at(msg, section.part)
        if part is None:
            return b""
        if section.text is None:
            return _slice(raw, *body_range(part), partial)  # [1.2]: the body, no MIME header
        if section.text is SectionText.MIME:
            return _slice(raw, *mime_header_range(part), partial)
        # RFC 3501 §6.4.5: HEADER/TEXT after a part number need a MESSAGE/RFC822 part;
        # header_range/text_range give None for any other part.
        target = part
    elif section.text is None:
        return _slice(raw, 0, len(raw), partial)  # []: the whole message
    elif section.text is SectionText.MIME:
        return b""  # RFC 3501 §6.4.5: MIME "MUST be prefixed by" a part number
    if section.text is SectionText.TEXT:
        span = text_range(target)
        return b"" if span is None else _slice(raw, *span, partial)
    span = header_range(target)
    if span is None:
        return b""
    if section.text is SectionText.HEADER:
        return _slice(raw, *span, partial)
    header = raw[span[0] : span[1]]
    exclude = section.text is SectionText.HEADER_FIELDS_NOT
    selected = select_header_fields(header, section.fields, exclude=exclude)
    body = text_range(target)
    if body is not None and body[0] >= body[1] and not _ends_with_blank_line(header):
        # RFC 3501 §7.4.2: the blank line is included "except in the case of a message
        # which has no body and no blank line".
        selected = selected[:-2]
    return apply_partial(selected, partial)


HEADER_TEXTS = frozenset(
    {SectionText.HEADER, SectionText.HEADER_FIELDS, SectionText.HEADER_FIELDS_NOT}
)


def is_header_section(section: BodySection) -> bool:
    """HEADER, HEADER.FIELDS or HEADER.FIELDS.NOT of the message itself (no part number):
    answered by `header_section` from the header alone."""
    return not section.part and section.text in HEADER_TEXTS


def header_section(
    header: bytes, body_empty: bool, section: BodySection, *, partial: Partial | None = None
) -> bytes:
    """`section_bytes` for an `is_header_section` section, from the message's header
    (blank line included) and whether its body is empty; the same octets, without the
    message or its structure."""
    if section.text is SectionText.HEADER:
        return apply_partial(header, partial)
    exclude = section.text is SectionText.HEADER_FIELDS_NOT
    selected = select_header_fields(header, section.fields, exclude=exclude)
    if body_empty and not _ends_with_blank_line(header):
        selected = selected[:-2]  # RFC 3501 §7.4.2, as in `section_bytes`
    return apply_partial(selected, partial)


def _ends_with_blank_line(header: bytes) -> bool:
    return header.endswith((b"\n\n", b"\n\r\n")) or header in (b"\n", b"\r\n")


def binary_bytes(raw: bytes, msg: ParsedMessage, part: tuple[int, ...]) -> bytes | None:
    """``BINARY[part]`` (RFC 3516 §4.2): the part's content with its CTE removed.

    None when the Content-Transfer-Encoding is unknown (the server answers
    ``NO [UNKNOWN-CTE]``); ``b""`` for a part that does not exist. See the module docstring
    for ``BINARY[]`` and multiparts.
    """
    if not part:
        return raw
    found = part_at(msg, part)
    if found is None:
        return b""
    body = _slice(raw, *body_range(found), None)
    if found.is_multipart:
        return body
    decoded = decode_transfer(body, found.encoding)
    if decoded is None:
        return None
    if found.type in _LINE_TYPES:
        # RFC 9051 §7.5.2: textual sections "always transmitted using the IMAP CRLF line
        # termination syntax, regardless of the underlying storage representation".
        decoded = normalize_crlf(decoded)
    return decoded


def binary_size(raw: bytes, msg: ParsedMessage, part: tuple[int, ...]) -> int | None:
    """``BINARY.SIZE[part]`` (RFC 3516 §4.2): ``len(binary_bytes(...))``, None if unknown CTE.

    Identity-encoded non-text parts are measured without copying their body.
    """
    if not part:
        return len(raw)
    found = part_at(msg, part)
    if found is None:
        return 0
    start, end = body_range(found)
    plain = found.encoding.strip().upper() in _IDENTITY and found.type not in _LINE_TYPES
    if found.is_multipart or plain:
        start, end = max(start, 0), max(min(end, len(raw)), 0)
        return max(end - start, 0)
    data = binary_bytes(raw, msg, part)
    return None if data is None else len(data)


def rfc822_section(att: FetchAtt) -> BodySection:
    """The BODY section equivalent to RFC822, RFC822.HEADER or RFC822.TEXT (RFC 3501 §6.4.5).

    Raises ValueError for any other attribute (a caller bug, not client input).
    """
    if att is FetchAtt.RFC822:
        return BodySection()
    if att is FetchAtt.RFC822_HEADER:
        return BodySection(text=SectionText.HEADER)
    if att is FetchAtt.RFC822_TEXT:
        return BodySection(text=SectionText.TEXT)
    raise ValueError(f"{att.value} is not an RFC822 section item")


def response_name(item: FetchBody | FetchBinary | FetchBinarySize, *, utf8: bool = False) -> str:
    """The item name as the FETCH response shows it (RFC 3501 §7.4.2, RFC 3516 §4.3).

    ``BODY.PEEK``/``BINARY.PEEK`` answer as ``BODY``/``BINARY``; a partial shows its origin
    only (``BODY[]<0>``); header field names are shown as the client gave them.
    """
    if isinstance(item, FetchBody):
        name = f"BODY[{_section_spec(item.section, utf8)}]"
    elif isinstance(item, FetchBinary):
        name = f"BINARY[{_part_spec(item.part)}]"
    else:
        return f"BINARY.SIZE[{_part_spec(item.part)}]"
    if item.partial is not None:
        name += f"<{item.partial[0]}>"
    return name


def _part_spec(part: tuple[int, ...]) -> str:
    return ".".join(str(n) for n in part)


def _section_spec(section: BodySection, utf8: bool) -> str:
    specs = [_part_spec(section.part)] if section.part else []
    if section.text is not None:
        text = section.text.value
        if section.text in (SectionText.HEADER_FIELDS, SectionText.HEADER_FIELDS_NOT):
            names = " ".join(_field_name(f, utf8) for f in section.fields)
            text += f" ({names})"
        specs.append(text)
    return ".".join(specs)


def _field_name(name: str, utf8: bool) -> str:
    """A header-fld-name (astring) as the client gave it: atom, else quoted string."""
    wire = encode_astring(name, utf8=utf8)
    if not wire.startswith((b"{", b"~{")):
        return wire.decode("utf-8", "surrogateescape")
    # The encoder would send a literal, which cannot appear inside an item name (it holds no
    # line ends). Such a name (CR, LF, NUL, 8-bit, very long) matches no header field; it is
    # quoted here with the characters a quoted string cannot hold dropped.
    cleaned = "".join(c for c in name if c not in "\r\n\x00")
    return '"' + cleaned.replace("\\", "\\\\").replace('"', '\\"') + '"'
