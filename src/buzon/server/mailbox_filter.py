"""Mailbox filters (RFC 5465 §6, RFC 7377 §2.2): which mailboxes a filter names.

NOTIFY (`server/notify.py`) and the multimailbox ESEARCH (`server/multisearch.py`) name
mailboxes the same way: "personal", "inboxes", "subscribed", "subtree", "mailboxes", and
for ESEARCH also "subtree-one". The selected-mailbox filters are each caller's business.
Names that do not exist are not errors: they match nothing (RFC 5465 §6, RFC 7377 §5).
"""

from __future__ import annotations

from collections.abc import Iterable

from buzon.server.namespaces import reserved
from buzon.storage.api import DELIMITER, InvalidName
from buzon.storage.names import normalize_mailbox_name

__all__ = ["canonical", "matches"]


def canonical(name: str) -> str:
    """A filter's mailbox name as storage spells it (INBOX in any case is INBOX)."""
    try:
        return normalize_mailbox_name(name)
    except InvalidName:
        return name  # matches nothing, which is what a nonexistent name should do


def matches(kind: str, names: Iterable[str], name: str, subscribed: frozenset[str]) -> bool:
    """Whether the filter `kind` (upper case) with its canonical `names` includes `name`."""
    match kind:
        case "INBOXES" | "PERSONAL":
            # RFC 5465 §6.2, §6.3: delivery may file into any personal folder, so INBOXES
            # is the whole personal namespace.
            return not reserved(name)
        case "SUBSCRIBED":  # RFC 5465 §6.4
            return name in subscribed
        case "SUBTREE":  # RFC 5465 §6.5: the mailbox and all below it
            return any(name == n or name.startswith(n + DELIMITER) for n in names)
        case "SUBTREE-ONE":  # RFC 7377 §2.2: the mailbox and its children, one level down
            return any(
                name == n
                or (name.startswith(n + DELIMITER) and DELIMITER not in name[len(n) + 1 :])
                for n in names
            )
    return name in names  # RFC 5465 §6.6 MAILBOXES: no wildcard expansion
