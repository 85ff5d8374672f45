"""Section addressing for FETCH BODY[...] (RFC 3501 §6.4.5): part numbers to byte ranges.

Ranges are ``(start, end)`` offsets into the raw message; the IMAP layer slices (and
applies ``<partial>``) itself, so large bodies can be streamed from the file.
"""

from __future__ import annotations

from buzon.mime.model import BodyPart, ParsedMessage

Range = tuple[int, int]


def _numbered(root: BodyPart, n: int) -> BodyPart | None:
    """Part ``n`` of a message whose top-level entity is ``root``.

    RFC 3501 §6.4.5: a non-multipart message has exactly one part, 1, its body.
    """
    if root.type == "multipart":
        return root.parts[n - 1] if 1 <= n <= len(root.parts) else None
    return root if n == 1 else None


def part_at(msg: ParsedMessage, path: tuple[int, ...]) -> BodyPart | None:
    """The part at section ``path`` (``(2, 1)`` for ``2.1``); ``()`` is the root entity.

    Inside a message/rfc822 part the numbers address the parts of the embedded message,
    so a message/rfc822 part N whose message is not multipart has part N.1 = its body.
    None when the path does not exist.
    """
    part: BodyPart | None = None
    for n in path:
        if part is None:
            part = _numbered(msg.root, n)
        elif part.type == "multipart":
            part = part.parts[n - 1] if 1 <= n <= len(part.parts) else None
        elif part.message is not None:
            part = _numbered(part.message.root, n)
        else:
            return None
        if part is None:
            return None
    return msg.root if part is None else part


def _message_of(target: ParsedMessage | BodyPart) -> ParsedMessage | None:
    if isinstance(target, ParsedMessage):
        return target
    return target.message


def header_range(target: ParsedMessage | BodyPart) -> Range | None:
    """HEADER of a message, or of section N when N is message/rfc822 (its embedded
    message's header, RFC 3501 §6.4.5); None for any other part. Includes the blank line.
    """
    msg = _message_of(target)
    if msg is None:
        return None
    return msg.root.header_start, msg.root.body_start


def text_range(target: ParsedMessage | BodyPart) -> Range | None:
    """TEXT of a message, or of a message/rfc822 part (its embedded message's body)."""
    msg = _message_of(target)
    if msg is None:
        return None
    return msg.root.body_start, msg.root.body_end


def mime_header_range(part: BodyPart) -> Range:
    """N.MIME: the part's own MIME header, including its blank line (RFC 3501 §6.4.5)."""
    return part.header_start, part.body_start


def body_range(part: BodyPart) -> Range:
    """BODY[N]: the part's body (for message/rfc822, the whole embedded message)."""
    return part.body_start, part.body_end
