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
    """Answer LIST (RFC 3501 §6.3.8, RFC 5258 §3) for the given tree.

    A name is listed when it matches a pattern and meets every selection option, or, with
    RECURSIVEMATCH, when it has a descendant that meets them but matches no pattern (that
    one gets CHILDINFO; RFC 5258 §3.5 asks to suppress redundant CHILDINFO). Empty
    patterns match nothing (RFC 5258 §3); the basic `LIST "" ""` is the caller's.
    """
    by_name = {m.name: m for m in mailboxes}
    subscribed = set(subscriptions)
    parents: set[str] = set()
    for name in by_name:
        parents.update(_ancestors(name))

    regexes = [
        pattern_regex(canonical_pattern(request.reference, p)) for p in request.patterns if p
    ]

    def matches(name: str) -> bool:
        return any(rx.fullmatch(name) for rx in regexes)

    def meets(name: str) -> bool:
        info = by_name.get(name)
        if request.select_subscribed:
            # RFC 5258 §3.1: subscribed names are listed even when the mailbox is gone.
            if name not in subscribed:
                return False
        elif info is None:
            return False
        # RFC 6154 §3: the SPECIAL-USE selection option lists only special-use mailboxes.
        return not request.select_special_use or (info is not None and bool(info.special_use))

    universe = set(by_name) | (subscribed if request.select_subscribed else set())
    child_info: set[str] = set()
    if request.recursive_match:
        for name in universe:
            if meets(name) and not matches(name):
                child_info.update(_ancestors(name))

    entries: list[ListEntry] = []
    for name in sorted(universe | child_info, key=_sort_key):
        if not matches(name) or not (name in child_info or meets(name)):
            continue
        info = by_name.get(name)
        attrs: list[str] = []
        if info is None:
            # RFC 5258 §3: \NonExistent, which implies \Noselect, accurately computed.
            attrs.append(NONEXISTENT)
        elif not info.selectable:
            attrs.append(NOSELECT)
        if info is not None and request.return_children:
            attrs.append(HAS_CHILDREN if name in parents else HAS_NO_CHILDREN)
        # RFC 5258 §3.1: the SUBSCRIBED selection option implies the return option.
        if (request.return_subscribed or request.select_subscribed) and name in subscribed:
            attrs.append(SUBSCRIBED)
        if info is not None and (request.return_special_use or request.select_special_use):
            attrs.extend(sorted(info.special_use))
        entries.append(ListEntry(name, tuple(attrs), child_subscribed=name in child_info))
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
