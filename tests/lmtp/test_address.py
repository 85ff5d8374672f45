"""Paths and parameters of MAIL FROM and RCPT TO."""

from __future__ import annotations

import pytest

from buzon.lmtp.address import Address, AddressError, PathArgs, parse_path_args


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<a@b>", PathArgs(Address("a", "b"), ())),
        (" <a@b>", PathArgs(Address("a", "b"), ())),
        ("<>", PathArgs(None, ())),
        ("<@r1,@r2:a@b>", PathArgs(Address("a", "b"), ())),
        ('<"john doe"@b>', PathArgs(Address("john doe", "b"), ())),
        ('<"a\\"q>"@b>', PathArgs(Address('a"q>', "b"), ())),
        ("<postmaster>", PathArgs(Address("postmaster", ""), ())),
        (
            "<a@b> SIZE=10 body=8bitmime",
            PathArgs(Address("a", "b"), (("SIZE", "10"), ("BODY", "8bitmime"))),
        ),
        ("<a@b>  SMTPUTF8", PathArgs(Address("a", "b"), (("SMTPUTF8", None),))),
        ("<josé@exämple.org>", PathArgs(Address("josé", "exämple.org"), ())),
    ],
)
def test_parse(text: str, expected: PathArgs) -> None:
    assert parse_path_args(text, allow_null=True) == expected


@pytest.mark.parametrize(
    "text",
    [
        "a@b",
        "<a@b",
        "<a@b>x",
        "<a b@c>",
        "<a@b@c>",
        "<@r:>",
        "<a@>",
        '<""@b>',
        '<"a@b>',
        "<a@b> =x",
        "<a@b> K=",
        "<a@b> K=a=b",
        "<a@b c>",
        "<\x01@b>",
    ],
)
def test_refused(text: str) -> None:
    with pytest.raises(AddressError):
        parse_path_args(text, allow_null=True)


def test_null_path_only_where_allowed() -> None:
    with pytest.raises(AddressError):
        parse_path_args("<>", allow_null=False)


@pytest.mark.parametrize(
    ("address", "text"),
    [
        (Address("a", "b"), "a@b"),
        (Address("john doe", "b"), '"john doe"@b'),
        (Address('q"x', "b"), '"q\\"x"@b'),
        (Address("postmaster", ""), "postmaster"),
    ],
)
def test_str_round_trips(address: Address, text: str) -> None:
    assert str(address) == text
    assert parse_path_args(f"<{text}>", allow_null=False).address == address
