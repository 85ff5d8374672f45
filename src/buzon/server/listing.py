"""Which mailboxes a LIST or LSUB answers with, and their attributes.

Theory of operation
-------------------
Pure functions over the account's mailbox tree (`MailboxInfo`s, placeholders included) and
its subscriptions. The reference and each pattern are joined into one canonical pattern
(RFC 3501 §6.3.8), turned into a regular expression where `*` matches anything and `%`
anything but the hierarchy delimiter, and matched against every known name. RFC 5258's
selection options (SUBSCRIBED, RECURSIVEMATCH) and return options (CHILDREN, SUBSCRIBED,
SPECIAL-USE) are applied here; STATUS is the handler's business.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from buzon.storage.api import DELIMITER, INBOX, MailboxInfo

NOSELECT = "\\Noselect"
NONEXISTENT = "\\NonExistent"
HAS_CHILDREN = "\\HasChildren"
HAS_NO_CHILDREN = "\\HasNoChildren"
SUBSCRIBED = "\\Subscribed"


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One LIST/LSUB answer line: attributes, the Unicode name, RFC 5258 CHILDINFO."""

    name: str
    attributes: tuple[str, ...]
    child_subscribed: bool = False


@dataclass(frozen=True, slots=True)
class ListRequest:
    """What the client asked for, independent of the wire syntax."""

    reference: str
    patterns: tuple[str, ...]
    select_subscribed: bool = False
    recursive_match: bool = False
    select_special_use: bool = False
    return_subscribed: bool = False
    return_children: bool = True
    return_special_use: bool = True


def canonical_pattern(reference: str, pattern: str) -> str:
    """Join reference and pattern (RFC 3501 §6.3.8) and spell a leading INBOX canonically."""
    joined = reference + pattern
    head, sep, tail = joined.partition(DELIMITER)
    # RFC 3501 §5.1: INBOX is case-insensitive; so is a pattern naming it.
    if head.upper() == INBOX:
        return INBOX + sep + tail
    return joined


@lru_cache(maxsize=256)
def pattern_regex(pattern: str) -> re.Pattern[str]:
    """`*` matches any characters, `%` any but the delimiter (RFC 3501 §6.3.8)."""
    parts: list[str] = []
    for char in pattern:
        if char == "*":
            parts.append(".*")
        elif char == "%":
            parts.append(f"[^{re.escape(DELIMITER)}]*")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL)


def _ancestors(name: str) -> Iterable[str]:
    parts = name.split(DELIMITER)
    for i in range(1, len(parts)):
        yield DELIMITER.join(parts[:i])


def list_mailboxes(
    mailboxes: Sequence[MailboxInfo], subscriptions: Iterable[str], request: ListRequest
) -> list[ListEntry]:
    """Answer LIST (RFC 3501 §6.3.8, RFC 5258 §3) for the given tree."""
    by_name = {m.name: m for m in mailboxes}
    subscribed = set(subscriptions)
    parents: set[str] = set()
    for name in by_name:
        parents.update(_ancestors(name))
    subscribed_parents: set[str] = set()
    for name in subscribed:
        subscribed_parents.update(_ancestors(name))

    regexes = [pattern_regex(canonical_pattern(request.reference, p)) for p in request.patterns]

    def matches(name: str) -> bool:
        return any(rx.fullmatch(name) for rx in regexes)

    candidates: set[str] = set(by_name)
    if request.select_subscribed:
        # RFC 5258 §3.1: subscribed names are listed even when the mailbox is gone.
        candidates = set(subscribed)
        if request.recursive_match:
            candidates |= {p for p in subscribed_parents if matches(p)}

    entries: list[ListEntry] = []
    for name in sorted(candidates, key=_sort_key):
        if not matches(name):
            continue
        info = by_name.get(name)
        child_subscribed = False
        if request.select_subscribed:
            if request.recursive_match and name in subscribed_parents:
                child_subscribed = True
                if name not in subscribed:
                    # RFC 5258 §3.5: a parent listed only for its subscribed children.
                    entries.append(ListEntry(name, (), child_subscribed=True))
                    continue
            if name not in subscribed:
                continue
        if request.select_special_use and (info is None or not info.special_use):
            continue
        attrs: list[str] = []
        if info is None:
            attrs.append(NONEXISTENT)
        elif not info.selectable:
            attrs.append(NOSELECT)
        if info is not None and request.return_children:
            attrs.append(HAS_CHILDREN if name in parents else HAS_NO_CHILDREN)
        if (request.return_subscribed or request.select_subscribed) and name in subscribed:
            attrs.append(SUBSCRIBED)
        if info is not None and (request.return_special_use or request.select_special_use):
            attrs.extend(sorted(info.special_use))
        entries.append(ListEntry(name, tuple(attrs), child_subscribed=child_subscribed))
    return entries


def list_subscribed(
    mailboxes: Sequence[MailboxInfo], subscriptions: Iterable[str], reference: str, pattern: str
) -> list[ListEntry]:
    """Answer LSUB (RFC 3501 §6.3.9).

    A subscribed name whose parent matches a trailing `%` brings the parent along with
    \\Noselect when the parent itself is not subscribed.
    """
    selectable = {m.name for m in mailboxes if m.selectable}
    subscribed = set(subscriptions)
    rx = pattern_regex(canonical_pattern(reference, pattern))
    found: dict[str, tuple[str, ...]] = {}
    for name in subscribed:
        if rx.fullmatch(name):
            found[name] = () if name in selectable else (NOSELECT,)
        elif pattern.endswith("%"):
            for parent in _ancestors(name):
                if parent not in subscribed and rx.fullmatch(parent):
                    found.setdefault(parent, (NOSELECT,))
    return [ListEntry(name, found[name]) for name in sorted(found, key=_sort_key)]


def _sort_key(name: str) -> tuple[int, str]:
    # INBOX first, then the rest in name order: what clients show and what tests expect.
    return (0 if name == INBOX or name.startswith(INBOX + DELIMITER) else 1, name)
