"""The preview of a message (RFC 8970 §3.3), computed once at delivery.

Theory of operation
-------------------
The text comes from the first text part a reader would see: the first text/plain part
that is not an attachment, in depth-first order, else the first such text/html part
stripped of markup (`text.html_to_text`). Embedded messages (message/rfc822) are not
entered: their text is not this message's. The part is transfer-decoded and converted
from its charset, every run of white space becomes one space, and the result is cut to
at most `MAX_PREVIEW` characters (RFC 8970 §3.3: MUST NOT exceed 256 "preview
characters", i.e. Unicode code points, so a cut never splits a UTF-8 sequence). A
message with no such part (an image, an encrypted message) has the empty preview, which
RFC 8970 §3.2 requires in that case.
"""

from __future__ import annotations

import dataclasses

from buzon.mime.model import BodyPart, ParsedMessage
from buzon.mime.text import part_text

__all__ = ["MAX_PREVIEW", "collapsed_prefix", "preview"]

MAX_PREVIEW = 256
# Bytes of the part decoded: plenty for 256 characters, and a 20 MB text part is not
# decoded whole a second time (fields.compute already decodes it for the search index).
_PLAIN_PREFIX = 16 * 1024
_HTML_PREFIX = 256 * 1024  # markup, styles and scripts come before the text


def _is_attachment(part: BodyPart) -> bool:
    return part.disposition is not None and part.disposition[0].lower() == "attachment"


def _first_text(msg: ParsedMessage) -> BodyPart | None:
    plain: BodyPart | None = None
    html: BodyPart | None = None
    stack = [msg.root]
    while stack:
        part = stack.pop()
        if part.type == "multipart":
            stack.extend(reversed(part.parts))
        elif part.type == "text" and not _is_attachment(part):
            if part.subtype == "plain" and plain is None:
                plain = part
            elif part.subtype in ("html", "xhtml+xml") and html is None:
                html = part
    return plain if plain is not None else html


def preview(raw: bytes, msg: ParsedMessage, limit: int = MAX_PREVIEW) -> str:
    """The preview text of the message `raw` parsed as `msg`; "" when there is none."""
    part = _first_text(msg)
    if part is None:
        return ""
    prefix = _PLAIN_PREFIX if part.subtype == "plain" else _HTML_PREFIX
    cut = part.body_end - part.body_start > prefix
    if cut:
        part = dataclasses.replace(part, body_end=part.body_start + prefix)
    decoded = part_text(raw, part)
    if cut:
        decoded = decoded.rstrip("\ufffd")  # a character the prefix split in two
    # A str slice counts code points: the cut never splits a character's UTF-8 bytes.
    return collapsed_prefix(decoded, limit).rstrip(" ")


def collapsed_prefix(text: str, limit: int) -> str:
    """``" ".join(text.split())[:limit]``, splitting only as much of `text` as it needs.

    Splitting a whole 16 KB part into words costs more than the rest of the preview: a
    window of `text` is split instead, and it is enough once the words that surely end
    inside it (all but the last, which may go on past the window) fill `limit`.
    """
    window = 4 * limit + 64
    while limit >= 0 and window < len(text):
        words = text[:window].split()
        head = " ".join(words[:-1])  # a prefix of the whole text's joined words
        if len(head) >= limit:
            return head[:limit]
        window *= 4
    return " ".join(text.split())[:limit]
