"""Mailbox and user name rules, flag encoding and the local change bus."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from buzon.storage import (
    InvalidName,
    LocalBus,
    MailboxChanged,
    MailboxListChanged,
    ModSeq,
    normalize_mailbox_name,
    validate_user_name,
)
from buzon.storage.api import ChangeNotice
from buzon.storage.names import child_range, is_descendant, parents
from buzon.storage.sqlite import flags as fl


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("INBOX", "INBOX"),
        ("inbox", "INBOX"),
        ("InBoX/Sub", "INBOX/Sub"),
        ("inboxes", "inboxes"),
        ("a/inbox", "a/inbox"),
        ("\u0131nbox", "\u0131nbox"),  # dotless i: not INBOX
        ("Büro/日本", "Büro/日本"),
        ("a.b/c..d", "a.b/c..d"),
        ("x" * 255, "x" * 255),
        ("/".join(["x" * 9] * 100), "/".join(["x" * 9] * 100)),  # 999 characters
    ],
)
def test_normalize_valid(raw: str, canonical: str) -> None:
    assert normalize_mailbox_name(raw) == canonical


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("", "empty"),
        ("a//b", "empty component"),
        ("/a", "empty component"),
        ("a/", "empty component"),
        ("a/./b", '"."'),
        ("..", '"."'),
        ("a\x00", "control"),
        ("a\x1b", "control"),
        ("a\x7f", "control"),
        ("a\x80", "control"),
        ("a\u2028b", "control"),  # RFC 6855 §3: LINE SEPARATOR
        ("a\u2029", "control"),  # and PARAGRAPH SEPARATOR
        ("a\ud800", "surrogate"),
        ("x" * 256, "255 bytes"),
        ("x" * 1001, "1000 characters"),
    ],
)
def test_normalize_invalid(raw: str, words: str) -> None:
    with pytest.raises(InvalidName, match=words):
        normalize_mailbox_name(raw)


@settings(max_examples=300)
@given(st.text(max_size=40))
def test_normalize_raises_only_invalid_name_and_is_idempotent(raw: str) -> None:
    try:
        canon = normalize_mailbox_name(raw)
    except InvalidName:
        return
    assert normalize_mailbox_name(canon) == canon
    assert canon.lower() == raw.lower() or canon.split("/")[0] == "INBOX"
    assert len(canon) == len(raw)


@settings(max_examples=300)
@given(st.text(max_size=20))
def test_user_names_raise_only_invalid_name(raw: str) -> None:
    try:
        assert validate_user_name(raw) == raw
    except InvalidName:
        assert not raw or any(
            c.isspace()
            or c == "/"
            or ord(c) < 32
            or 0x7F <= ord(c) <= 0x9F
            or 0xD800 <= ord(c) <= 0xDFFF
            for c in raw
        )


def test_hierarchy_helpers() -> None:
    assert parents("a/b/c") == ["a", "a/b"]
    assert parents("a") == []
    assert is_descendant("a/b", "a")
    assert not is_descendant("ab", "a")
    assert not is_descendant("a", "a")
    lo, hi = child_range("a")
    for name in ["a/b", "a/b/c", "a/\U0001f600"]:
        assert lo <= name < hi
    for name in ["a", "a0", "ab", "a.b", "b"]:
        assert not lo <= name < hi


@settings(max_examples=200)
@given(
    st.frozensets(
        st.sampled_from(
            [
                "\\Seen",
                "\\seen",
                "\\ANSWERED",
                "\\Flagged",
                "\\Deleted",
                "\\Draft",
                "\\Recent",
                "$a",
                "Junk",
            ]
        )
    )
)
def test_flags_round_trip(flags: frozenset[str]) -> None:
    bits, keywords = fl.split_flags(flags)
    out = fl.to_flags(bits, fl.join_keywords(keywords))
    assert "\\Recent" not in out
    expected_system = {f.lower() for f in flags if f.startswith("\\") and f.lower() != "\\recent"}
    assert {f.lower() for f in out if f.startswith("\\")} == expected_system
    assert {f for f in out if not f.startswith("\\")} == {
        f for f in flags if not f.startswith("\\")
    }


@pytest.mark.parametrize("bad", ["", "a b", "a\x00", "x\x7f"])
def test_bad_keywords(bad: str) -> None:
    with pytest.raises(InvalidName):
        fl.split_flags([bad])


def test_local_bus_delivers_per_account_and_cancels(caplog: pytest.LogCaptureFixture) -> None:
    bus = LocalBus()
    got: list[ChangeNotice] = []
    other: list[ChangeNotice] = []

    def boom(_: ChangeNotice) -> None:
        raise RuntimeError("subscriber bug")

    bad = bus.subscribe("alice", boom)
    sub = bus.subscribe("alice", got.append)
    bus.subscribe("bob", other.append)
    notice = MailboxChanged("alice", "1", ModSeq(5))
    with caplog.at_level(logging.ERROR):
        bus.publish(notice)
    assert got == [notice]
    assert other == []
    assert "subscriber failed" in caplog.text
    bad.cancel()
    sub.cancel()
    sub.cancel()
    assert bus.subscriber_count("alice") == 0
    bus.publish(MailboxListChanged("alice"))
    assert got == [notice]
    bus.publish(MailboxListChanged("bob"))
    assert other == [MailboxListChanged("bob")]


def test_local_bus_keeps_subscription_order_across_cancels() -> None:
    bus = LocalBus()
    order: list[int] = []

    def recorder(i: int) -> Callable[[ChangeNotice], None]:
        return lambda _: order.append(i)

    subs = [bus.subscribe("alice", recorder(i)) for i in range(5)]
    subs[2].cancel()
    subs[0].cancel()
    bus.publish(MailboxListChanged("alice"))
    assert order == [1, 3, 4]
    assert bus.subscriber_count("alice") == 3
    again = bus.subscribe("alice", recorder(9))
    bus.publish(MailboxListChanged("alice"))
    assert order == [1, 3, 4, 1, 3, 4, 9]
    for sub in (*subs, again):
        sub.cancel()
    assert bus.accounts() == frozenset()
