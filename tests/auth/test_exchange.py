"""`auth.exchange.run_exchange`: the SASL rules IMAP and POP3 share."""

from __future__ import annotations

import asyncio
import base64

import pytest

from buzon.auth import Authenticator, SaslAborted, Verify, mechanism, run_exchange
from buzon.auth.sasl import Challenge, MechanismName, SaslStep


class _Endless:
    """A mechanism that never finishes."""

    name = MechanismName.PLAIN

    def start(self, initial: bytes | None) -> SaslStep:
        return Challenge(b"more")

    def step(self, data: bytes) -> SaslStep:
        return Challenge(b"more")


async def _no_secret(user: str) -> str | None:
    return None


def _run(mech: object, lines: list[bytes]) -> object:
    asked: list[bytes] = []

    async def ask(data: bytes) -> bytes:
        asked.append(data)
        return lines[min(len(asked), len(lines)) - 1]

    return asyncio.run(run_exchange(mech, None, ask, Authenticator(_no_secret)))  # type: ignore[arg-type]


def test_plain_gives_the_password_to_verify() -> None:
    plain = mechanism("PLAIN")
    assert plain is not None
    line = base64.b64encode(b"\0alice\0secret")
    assert _run(plain, [line]) == Verify("alice", None, "secret")


@pytest.mark.parametrize(
    ("line", "text"),
    [(b"*", "Authentication cancelled"), (b"not base64!", "Invalid base64 in the SASL response")],
)
def test_cancel_and_bad_base64_abort(line: bytes, text: str) -> None:
    plain = mechanism("PLAIN")
    with pytest.raises(SaslAborted, match=text):
        _run(plain, [line])


def test_an_exchange_that_never_ends_is_cut_off() -> None:
    with pytest.raises(SaslAborted, match="Too many SASL round trips"):
        _run(_Endless(), [base64.b64encode(b"x")])
