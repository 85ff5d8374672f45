"""Mailbox and user name rules shared by every backend.

Mailbox names are Unicode strings with "/" as the hierarchy delimiter. "INBOX" is
case-insensitive (RFC 9051 §5.1): as a whole name or as the first component it is stored
and returned as "INBOX", so "inbox/x" names the child "INBOX/x".
"""

from __future__ import annotations

from buzon.storage.api import DELIMITER, INBOX, InvalidName

MAX_NAME_CHARS = 1000
MAX_COMPONENT_BYTES = 255
MAX_USER_BYTES = 255


def _is_control(ch: str) -> bool:
    code = ord(ch)
    # C0, DEL and C1 controls.
    return code < 0x20 or 0x7F <= code <= 0x9F


def normalize_mailbox_name(name: str) -> str:
    """Validate `name` and return its canonical spelling (INBOX upper-cased).

    Raises InvalidName with a message fit for a client.
    """
    if not name:
        raise InvalidName("mailbox name is empty")
    if len(name) > MAX_NAME_CHARS:
        raise InvalidName(f"mailbox name is longer than {MAX_NAME_CHARS} characters")
    for ch in name:
        # RFC 6855 §3: no controls, DEL, LINE SEPARATOR or PARAGRAPH SEPARATOR.
        if _is_control(ch) or ch in "\u2028\u2029":
            raise InvalidName("mailbox name contains a control character")
    parts = name.split(DELIMITER)
    for part in parts:
        if not part:
            raise InvalidName(
                f"mailbox name has an empty component (leading, trailing or double {DELIMITER!r})"
            )
        if part in (".", ".."):
            raise InvalidName('mailbox name has a "." or ".." component')
        if len(part.encode("utf-8", "surrogatepass")) > MAX_COMPONENT_BYTES:
            raise InvalidName(f"mailbox name component is longer than {MAX_COMPONENT_BYTES} bytes")
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in name):
        raise InvalidName("mailbox name contains a lone surrogate")
    # ASCII only: "ınbox".upper() is "INBOX" in Python, but it is not INBOX.
    if parts[0].isascii() and parts[0].upper() == INBOX:
        parts[0] = INBOX
    return DELIMITER.join(parts)


def validate_user_name(name: str) -> str:
    """Check a user name (case-sensitive, exact); return it unchanged."""
    if not name:
        raise InvalidName("user name is empty")
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in name):
        raise InvalidName("user name contains a lone surrogate")
    if len(name.encode("utf-8")) > MAX_USER_BYTES:
        raise InvalidName(f"user name is longer than {MAX_USER_BYTES} bytes")
    for ch in name:
        if _is_control(ch) or ch == "/" or ch.isspace():
            raise InvalidName("user name contains a control character, whitespace or '/'")
    return name


def parents(name: str) -> list[str]:
    """The ancestors of a canonical name, outermost first: "a/b/c" -> ["a", "a/b"]."""
    parts = name.split(DELIMITER)
    return [DELIMITER.join(parts[:i]) for i in range(1, len(parts))]


def is_descendant(name: str, ancestor: str) -> bool:
    """True when `name` lies strictly below `ancestor` in the hierarchy."""
    return name.startswith(ancestor + DELIMITER)


def child_range(name: str) -> tuple[str, str]:
    """Bounds (lo, hi) such that every descendant d of `name` has lo <= d < hi.

    Works with binary (code point / UTF-8 byte order) comparison: "0" follows "/".
    """
    return name + DELIMITER, name + chr(ord(DELIMITER) + 1)
