"""How a handler ends: a tagged OK it returns, or a NO, BAD or BYE it raises."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from buzon.imap.responses import RespCode


@dataclass(frozen=True, slots=True)
class Ok:
    """The tagged OK a handler returns; `text` defaults to "<COMMAND> completed".

    `then` runs after the tagged OK is written: STARTTLS starts its handshake there.
    """

    text: str | None = None
    code: RespCode | None = None
    then: Callable[[], Awaitable[None]] | None = None


class Refusal(Exception):
    """Base of the outcomes a handler raises."""

    def __init__(self, text: str, code: RespCode | None = None) -> None:
        super().__init__(text)
        self.text = text
        self.code = code


class No(Refusal):
    """Tagged NO: the command was understood but failed (RFC 9051 §7.1.2)."""


class Bad(Refusal):
    """Tagged BAD: the command was not acceptable (RFC 9051 §7.1.3)."""


class Bye(Refusal):
    """Untagged BYE, then the connection is closed (RFC 9051 §7.1.5)."""
