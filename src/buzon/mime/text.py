"""Text for searching: decoded addresses and the readable text of a message."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from buzon.mime.address import MISSING_DOMAIN, MISSING_MAILBOX
from buzon.mime.charsets import decode_text, guess_decode
from buzon.mime.decode import decode_header, decode_transfer
from buzon.mime.model import Address, BodyPart, ParsedMessage

_INVISIBLE = re.compile(rb"(?is)<(script|style|head)\b.*?</\1\s*>|<!--.*?-->")
_TAG = re.compile(r"<[^>]*>")
_HTML_SUBTYPES = frozenset({"html", "xhtml+xml"})


def addresses_text(addrs: Iterable[Address]) -> list[tuple[str, str]]:
    """(decoded display name, "mailbox@host") per address, for SEARCH FROM/TO/CC/BCC.

    Group markers are skipped; placeholder mailbox/host values are left out.
    """
    out: list[tuple[str, str]] = []
    for a in addrs:
        if a.host is None:
            continue  # group start or end (RFC 3501 §7.4.2)
        name = decode_header(a.name) if a.name else ""
        mailbox = b"" if a.mailbox in (None, MISSING_MAILBOX) else a.mailbox or b""
        address = guess_decode(mailbox)
        if a.host != MISSING_DOMAIN:
            address = f"{address}@{guess_decode(a.host)}"
        out.append((name, address))
    return out


def html_to_text(data: bytes, charset: str | None) -> str:
    """Crude HTML to text: drop script/style/head and comments, tags become spaces."""
    data = _INVISIBLE.sub(b" ", data)
    return html.unescape(_TAG.sub(" ", decode_text(data, charset)))


def part_text(raw: bytes, part: BodyPart) -> str:
    """The decoded text of one text/* part (transfer-decoded, charset-converted)."""
    body = raw[part.body_start : part.body_end]
    decoded = decode_transfer(body, part.encoding)
    data = body if decoded is None else decoded  # unknown encoding: the raw bytes
    charset = part.param("charset")
    if part.subtype in _HTML_SUBTYPES:
        return html_to_text(data, charset)
    return decode_text(data, charset)


def body_text(raw: bytes, msg: ParsedMessage) -> str:
    """All text/* parts of ``msg`` (embedded messages included), joined by newlines."""
    texts: list[str] = []
    stack = [msg.root]
    while stack:
        part = stack.pop()
        if part.type == "multipart":
            stack.extend(reversed(part.parts))
        elif part.message is not None:
            stack.append(part.message.root)
        elif part.type == "text":
            texts.append(part_text(raw, part))
    return "\n".join(texts)
