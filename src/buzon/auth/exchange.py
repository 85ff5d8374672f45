"""The server side of one SASL exchange, for any protocol (IMAP AUTHENTICATE, POP3 AUTH).

A mechanism (`sasl.py`, `scram.py`) is sans-I/O; this drives it: challenges go out and
responses come back through the protocol's own `ask` function (IMAP sends "+ data", POP3
"+ data" on its own line), stored credentials are looked up when SCRAM needs them, and the
exchange ends with what the protocol acts on: a password to verify, an authenticated
user, or a failure. The rules that are SASL's and not the protocol's are here once: "*"
cancels (RFC 9051 §6.2.2, RFC 5034 §4), responses are base64, and an exchange has a
bounded number of round trips.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable

from buzon.auth.cache import Authenticator
from buzon.auth.sasl import (
    Authenticated,
    Challenge,
    Failure,
    NeedCredentials,
    SaslMechanism,
    Verify,
)
from buzon.auth.scram import ScramSha256Mechanism

__all__ = ["MAX_STEPS", "SaslAborted", "run_exchange"]

# A mechanism we offer needs at most three round trips; a client that keeps going is cut off.
MAX_STEPS = 10


class SaslAborted(Exception):
    """The exchange ended without an outcome: cancelled, undecodable, or too long.

    The message is the text for the protocol's refusal (IMAP BAD, POP3 -ERR)."""


async def run_exchange(
    mech: SaslMechanism,
    initial: bytes | None,
    ask: Callable[[bytes], Awaitable[bytes]],
    authenticator: Authenticator,
) -> Verify | Authenticated | Failure:
    """Run `mech` from its initial response; `ask` sends a challenge and returns the
    client's line."""
    step = mech.start(initial)
    for _ in range(MAX_STEPS):
        match step:
            case Challenge(data=data):
                line = await ask(data)
                if line == b"*":
                    raise SaslAborted("Authentication cancelled")
                try:
                    decoded = base64.b64decode(line, validate=True)
                except (binascii.Error, ValueError):
                    raise SaslAborted("Invalid base64 in the SASL response") from None
                step = mech.step(decoded)
            case NeedCredentials(authcid=user):
                assert isinstance(mech, ScramSha256Mechanism)
                creds = await authenticator.credentials(user)
                step = mech.provide(None if creds is None else creds.scram_sha256)
            case Verify() | Authenticated() | Failure():
                return step
    raise SaslAborted("Too many SASL round trips")
