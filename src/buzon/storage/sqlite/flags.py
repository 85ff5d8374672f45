"""Compact flag encoding: system flags as a bitmask, keywords as a space-separated text.

Flags are case-insensitive (RFC 9051 §2.3.2 defines them as atoms; the grammar's
"\\Seen" and friends match case-insensitively): system flags are stored as bits and
returned in their canonical spelling; keywords keep the first spelling a mailbox saw
(the `mailbox_keywords` table) so "$label1" and "$Label1" are one keyword. \\Recent is
session state (RFC 9051 §2.3.2 / RFC 3501 §2.3.2), never stored.
"""

from __future__ import annotations

from collections.abc import Iterable

from buzon.storage.api import InvalidName

SEEN = 1
ANSWERED = 2
FLAGGED = 4
DELETED = 8
DRAFT = 16

_SYSTEM: dict[str, tuple[str, int]] = {
    "\\seen": ("\\Seen", SEEN),
    "\\answered": ("\\Answered", ANSWERED),
    "\\flagged": ("\\Flagged", FLAGGED),
    "\\deleted": ("\\Deleted", DELETED),
    "\\draft": ("\\Draft", DRAFT),
}
_BITS: list[tuple[int, str]] = [(bit, name) for name, bit in _SYSTEM.values()]
_DROPPED = frozenset({"\\recent"})


def fold(keyword: str) -> str:
    """The case-insensitive key of a keyword."""
    return keyword.lower()


def split_flags(flags: Iterable[str]) -> tuple[int, list[str]]:
    """Split flags into a system bitmask and keywords (as given), dropping \\Recent."""
    bits = 0
    keywords: list[str] = []
    for flag in flags:
        low = flag.lower()
        system = _SYSTEM.get(low)
        if system is not None:
            bits |= system[1]
        elif low in _DROPPED:
            continue
        else:
            if not flag or any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in flag):
                raise InvalidName(f"invalid flag {flag!r}")
            keywords.append(flag)
    return bits, keywords


def join_keywords(keywords: Iterable[str]) -> str:
    return " ".join(sorted(set(keywords)))


def split_keywords(text: str) -> list[str]:
    return text.split()


def to_flags(bits: int, keywords: str) -> frozenset[str]:
    """The API's flag set for a stored row."""
    out = [name for bit, name in _BITS if bits & bit]
    if keywords:
        out.extend(keywords.split())
    return frozenset(out)


class FlagCache:
    """`to_flags` memoised: a mailbox has few distinct flag combinations, so 200,000
    messages share a handful of frozensets instead of building one each."""

    __slots__ = ("_cache",)

    def __init__(self) -> None:
        self._cache: dict[tuple[int, str], frozenset[str]] = {}

    def __call__(self, bits: int, keywords: str) -> frozenset[str]:
        key = (bits, keywords)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = to_flags(bits, keywords)
        return found
