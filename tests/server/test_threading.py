"""Unit tables: RFC 5256 base subjects, message ids, SORT order and both THREAD algorithms."""

from __future__ import annotations

import datetime as dt

import pytest

from buzon.imap.commands_ext import SortCriterion, SortKey
from buzon.server import sorting, threading_
from buzon.storage.api import SortFields, ThreadRow, Uid
from buzon.storage.fields import base_subject, message_ids

BASE_SUBJECTS = [
    ("Hello", "Hello", False),
    ("Re: Hello", "Hello", True),
    ("RE:  re: Fwd: Hello", "Hello", True),
    ("Re[2]: Hello", "Hello", True),
    ("Re [2] : Hello", "Hello", True),
    ("[list] Hello", "Hello", False),
    ("[list] Re: Hello", "Hello", True),
    ("Re: [list] Hello", "Hello", True),
    ("[list]", "[list]", False),  # (4): removing the blob would leave nothing
    ("[a][b] Hello", "Hello", False),
    ("Hello (fwd)", "Hello", True),
    ("Hello (FWD)  (fwd) ", "Hello", True),
    ("[Fwd: Hello]", "Hello", True),
    ("[fwd: Re: [list] Hello (fwd)]", "Hello", True),
    ("  Hello\t  world  ", "Hello world", False),
    ("Fw: Hello", "Hello", True),
    ("Reply: Hello", "Reply: Hello", False),
    ("", "", False),
    ("Re:", "", True),
]


@pytest.mark.parametrize(("subject", "base", "reply"), BASE_SUBJECTS)
def test_base_subject(subject: str, base: str, reply: bool) -> None:
    assert base_subject(subject) == (base, reply)


def test_message_ids_are_normalised() -> None:
    # RFC 5256: quoting does not make two Message IDs different.
    assert message_ids(b'<"01KF8JCEOCBS0045PS"@xxx.yyy.com>') == ["01KF8JCEOCBS0045PS@xxx.yyy.com"]
    assert message_ids(b"<a@b> junk <c@d>") == ["a@b", "c@d"]
    assert message_ids(b"<no-at-sign> <>") == []
    assert message_ids(None) == []


def _f(
    uid: int,
    subject: str = "",
    day: int = 1,
    msgid: str | None = None,
    refs: tuple[str, ...] = (),
    **extra: str,
) -> SortFields:
    base, reply = base_subject(subject)
    when = dt.datetime(2026, 1, day, tzinfo=dt.UTC)
    return SortFields(
        uid=Uid(uid),
        internal_date=when,
        size=uid,
        sent=when,
        base_subject=base.casefold(),
        is_reply=reply,
        from_mailbox=extra.get("from_mailbox", ""),
        from_display="",
        to_mailbox="",
        to_display="",
        cc_mailbox=extra.get("cc", ""),
        message_id=msgid if msgid is not None else f"{uid}@x",
        references=refs,
    )


def _rows(fields: list[SortFields]) -> list[ThreadRow]:
    return [threading_.row_of(f) for f in fields]


def _shape(trees: list[threading_.Tree]) -> list[object]:
    def one(t: threading_.Tree) -> object:
        kids = [one(c) for c in t.children]
        return (t.uid(), kids) if kids else t.uid()

    return [one(t) for t in trees]


def test_sort_reverse_keeps_mailbox_order_for_ties() -> None:
    # RFC 5256: REVERSE does not reverse the implicit sequence-number criterion.
    fields = [_f(1, "b", 2), _f(2, "a", 2), _f(3, "b", 1), _f(4, "a", 3)]
    reverse = (SortCriterion(SortKey.SUBJECT, reverse=True),)
    assert sorting.sort_uids(fields, reverse) == [1, 3, 2, 4]
    both = (SortCriterion(SortKey.SUBJECT), SortCriterion(SortKey.DATE, reverse=True))
    assert sorting.sort_uids(fields, both) == [4, 2, 1, 3]


def test_sort_empty_string_first() -> None:
    fields = [_f(1, cc="zed"), _f(2), _f(3, cc="amy")]
    assert sorting.sort_uids(fields, (SortCriterion(SortKey.CC),)) == [2, 3, 1]


def test_ordered_subject() -> None:
    fields = [_f(1, "Re: b", 3), _f(2, "a", 2), _f(3, "b", 1), _f(4, "A", 4), _f(5, "b", 5)]
    # threads sorted by their first message's date; children siblings of the second
    assert _shape(threading_.ordered_subject(_rows(fields))) == [(3, [1, 5]), (2, [4])]


def test_references_chain_and_missing_parent() -> None:
    fields = [
        _f(1, "x", 1),
        _f(2, "Re: x", 2, refs=("1@x",)),
        _f(3, "Re: x", 3, refs=("1@x", "2@x")),
        _f(4, "y", 4, refs=("gone@x",)),
        _f(5, "z", 5, refs=("gone@x",)),
    ]
    # 4 and 5 share a missing parent: a dummy at the root keeps them together.
    assert _shape(threading_.references(_rows(fields))) == [(1, [(2, [3])]), (None, [4, 5])]


def test_references_single_child_of_dummy_is_promoted() -> None:
    fields = [_f(1, "x", 1, refs=("gone@x",)), _f(2, "y", 2)]
    assert _shape(threading_.references(_rows(fields))) == [1, 2]


def test_references_subject_merge_makes_dummy() -> None:
    # Two unrelated non-replies with one subject: both become children of a dummy.
    fields = [_f(1, "Plan", 1), _f(2, "Plan", 2), _f(3, "Re: Plan", 3)]
    assert _shape(threading_.references(_rows(fields))) == [(None, [1, 2, 3])]


def test_references_reply_joins_original() -> None:
    fields = [_f(1, "Plan", 1), _f(2, "Re: Plan", 2)]
    assert _shape(threading_.references(_rows(fields))) == [(1, [2])]


def test_references_no_loops() -> None:
    # 1 says its parent is 2 and 2 says its parent is 1: no loop is created.
    fields = [_f(1, "a", 1, refs=("2@x",)), _f(2, "b", 2, refs=("1@x",))]
    trees = threading_.references(_rows(fields))
    assert sorted(u for u in _flat(trees)) == [1, 2]


def _flat(trees: list[threading_.Tree]) -> list[int]:
    out: list[int] = []
    for t in trees:
        uid = t.uid()
        if uid is not None:
            out.append(uid)
        out.extend(_flat(t.children))
    return out


def test_references_duplicate_message_id() -> None:
    # Only the first message keeps a duplicated id; the second is threaded on its own.
    fields = [_f(1, "a", 1, msgid="d@x"), _f(2, "b", 2, msgid="d@x"), _f(3, "c", 3, refs=("d@x",))]
    assert _shape(threading_.references(_rows(fields))) == [(1, [3]), 2]
