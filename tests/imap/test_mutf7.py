"""Modified UTF-7 (RFC 3501 §5.1.3): tables and round trip."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from buzon.imap import mutf7

VALID = [
    ("INBOX", "INBOX"),
    ("", ""),
    ("&-", "&"),
    ("A&-B", "A&B"),
    ("~peter/mail/&U,BTFw-/&ZeVnLIqe-", "~peter/mail/台北/日本語"),
    ("&AOk-t&AOk-", "été"),
    ("Entw&APw-rfe", "Entwürfe"),
    ("&ZeVnLIqe-", "日本語"),
    ("&2D3eAA-", "😀"),
    ("&AAA-", "\x00"),
    ("&AB8-", "\x1f"),
    ("&AH8-", "\x7f"),
    ("&AOkA6Q-", "éé"),
]


@pytest.mark.parametrize(("wire", "name"), VALID)
def test_decode_valid(wire: str, name: str) -> None:
    assert mutf7.decode(wire) == name


@pytest.mark.parametrize(("wire", "name"), VALID)
def test_encode_valid(wire: str, name: str) -> None:
    assert mutf7.encode(name) == wire


INVALID = [
    ("&AOk", "unterminated"),
    ("&", "unterminated"),
    ("a&b", "unterminated"),
    ("&AOk=-", "not modified base64"),
    ("&AO/-", "not modified base64"),
    ("&AG-", "whole number"),
    ("&AOkA-", "whole number"),
    ("&AOl-", "padding bits"),
    ("&AGE-", "must not be base64"),
    ("&ACY-", "must not be base64"),
    ("&AOk-&AOk-", "adjacent"),
    ("é", "must be base64 encoded"),
    ("a\tb", "must be base64 encoded"),
    ("a\x7f", "must be base64 encoded"),
    ("&2D0-", "surrogate"),
    ("&3gA-", "surrogate"),
]


@pytest.mark.parametrize(("wire", "message"), INVALID)
def test_decode_invalid(wire: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        mutf7.decode(wire)


def test_encode_lone_surrogate() -> None:
    with pytest.raises(ValueError, match="surrogate"):
        mutf7.encode("a\ud800b")


_names = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)


@settings(max_examples=300)
@given(_names)
def test_round_trip(name: str) -> None:
    wire = mutf7.encode(name)
    assert wire.isascii()
    assert all(0x20 <= ord(c) <= 0x7E for c in wire)
    assert mutf7.decode(wire) == name


@settings(max_examples=300)
@given(st.text(st.sampled_from("&-AOkZeVn2D3eA,+abc/ \x00é"), max_size=20))
def test_decode_is_canonical(wire: str) -> None:
    """Whatever decode accepts, encode gives back byte for byte."""
    try:
        name = mutf7.decode(wire)
    except ValueError:
        return
    assert mutf7.encode(name) == wire
