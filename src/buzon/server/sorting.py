"""SORT ordering (RFC 5256 §3, RFC 5957 §3) over the keys storage computed at delivery.

SORT itself asks storage to order (`Mailbox.sort`, with `orders`); `sort_uids` is the
reference it must agree with (a hypothesis property compares them), and the rule:

Strings are compared in their folded form (case-insensitive, as RFC 5256's default
i;ascii-casemap collation is for ASCII; Unicode letters fold too); an absent header is
the empty string, which sorts first. Ties fall back to mailbox order (the UID order is
the sequence-number order), and REVERSE reverses only its own criterion: a stable sort per
criterion, last criterion first, does both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from buzon.imap.commands_ext import SortCriterion, SortKey
from buzon.storage.api import SortField, SortFields, SortOrder, Uid

__all__ = ["orders", "sent_date", "sort_uids"]


def sent_date(f: SortFields) -> dt.datetime:
    """RFC 5256 §2.2: the sent date, or the internal date when it cannot be determined."""
    return f.sent if f.sent is not None else f.internal_date


_KEYS: dict[SortKey, Callable[[SortFields], object]] = {
    SortKey.ARRIVAL: lambda f: f.internal_date,
    SortKey.CC: lambda f: f.cc_mailbox,
    SortKey.DATE: sent_date,
    SortKey.FROM: lambda f: f.from_mailbox,
    SortKey.SIZE: lambda f: f.size,
    SortKey.SUBJECT: lambda f: f.base_subject,
    SortKey.TO: lambda f: f.to_mailbox,
    SortKey.DISPLAYFROM: lambda f: f.from_display,
    SortKey.DISPLAYTO: lambda f: f.to_display,
}


def sort_uids(fields: Sequence[SortFields], criteria: Sequence[SortCriterion]) -> list[Uid]:
    """The UIDs of `fields` ordered by `criteria`, then by mailbox order."""
    ordered = sorted(fields, key=lambda f: f.uid)
    for criterion in reversed(criteria):
        key = _KEYS[criterion.key]
        # Python's sort is stable, also with reverse=True: equal keys keep their order.
        ordered.sort(key=key, reverse=criterion.reverse)  # type: ignore[arg-type]
    return [f.uid for f in ordered]


_FIELDS: dict[SortKey, SortField] = {
    SortKey.ARRIVAL: SortField.ARRIVAL,
    SortKey.CC: SortField.CC,
    SortKey.DATE: SortField.DATE,
    SortKey.FROM: SortField.FROM,
    SortKey.SIZE: SortField.SIZE,
    SortKey.SUBJECT: SortField.SUBJECT,
    SortKey.TO: SortField.TO,
    SortKey.DISPLAYFROM: SortField.DISPLAYFROM,
    SortKey.DISPLAYTO: SortField.DISPLAYTO,
}


def orders(criteria: Sequence[SortCriterion]) -> list[SortOrder]:
    """The storage sort orders of SORT criteria."""
    return [SortOrder(_FIELDS[c.key], c.reverse) for c in criteria]
