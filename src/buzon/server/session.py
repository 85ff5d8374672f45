"""The state of one IMAP session (RFC 9051 §3): who, where, what was enabled."""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass, field

from buzon.storage.api import Account


class State(enum.Enum):
    """RFC 9051 §3: the four states of a connection."""

    NOT_AUTHENTICATED = "not authenticated"
    AUTHENTICATED = "authenticated"
    SELECTED = "selected"
    LOGOUT = "logout"


class Wakeup(enum.Enum):
    """Why an IDLE wait ended without a client line."""

    CHANGE = "change"  # something the session should report has happened
    TIMER = "timer"  # the wait's timeout passed


ANY_STATE = frozenset({State.NOT_AUTHENTICATED, State.AUTHENTICATED, State.SELECTED})
NOT_AUTHENTICATED = frozenset({State.NOT_AUTHENTICATED})
AUTHENTICATED = frozenset({State.AUTHENTICATED, State.SELECTED})
SELECTED = frozenset({State.SELECTED})


def new_session_id() -> str:
    """A short random id that ties the log lines of one connection together."""
    return secrets.token_hex(4)


@dataclass(slots=True)
class Session:
    """Mutable per-connection state; the connection loop and handlers share it."""

    peer: str
    secure: bool
    loopback: bool
    session_id: str = field(default_factory=new_session_id)
    state: State = State.NOT_AUTHENTICATED
    user: str | None = None
    account: Account | None = None
    # RFC 5161: extensions the client enabled, by their capability name.
    enabled: set[str] = field(default_factory=set)
    auth_failures: int = 0
    # Consecutive unparsable commands before any valid one: a client that does not speak
    # IMAP is told BYE quickly.
    bad_before_valid: int = 0
    seen_valid_command: bool = False
    client_id: dict[str, str | None] | None = None
    # Set by a handler that wants the connection closed with BYE after its tagged answer.
    close_reason: str | None = None

    @property
    def plaintext_ok(self) -> bool:
        """Whether a password may cross this connection (TLS or loopback)."""
        return self.secure or self.loopback
