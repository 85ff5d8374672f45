"""The `--debug` protocol trace, with passwords and SASL exchanges masked.

Commands are traced after parsing, so a secret is masked by knowing which field holds it
rather than by pattern-matching raw bytes that may arrive split across packets.
"""

from __future__ import annotations

import dataclasses
import logging

from buzon.imap.responses import Response
from buzon.server.session import Session

log = logging.getLogger("buzon.trace")

_MAX_SHOWN = 400
# Fields of parsed commands that carry secrets, whatever command they belong to.
_SECRET_FIELDS = frozenset({"password", "initial_response"})


def _shorten(text: str) -> str:
    return text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + f"... ({len(text)} chars)"


def describe(command: object) -> str:
    """A one-line description of a parsed command with secret fields masked."""
    if not dataclasses.is_dataclass(command) or isinstance(command, type):
        return _shorten(repr(command))
    parts = []
    for f in dataclasses.fields(command):
        value = getattr(command, f.name)
        if f.name in _SECRET_FIELDS and value is not None:
            parts.append(f"{f.name}=<hidden>")
        elif isinstance(value, bytes | bytearray) and len(value) > 64:
            parts.append(f"{f.name}=<{len(value)} bytes>")
        else:
            parts.append(f"{f.name}={value!r}")
    return _shorten(f"{type(command).__name__}({', '.join(parts)})")


def inbound(session: Session, command: object) -> None:
    log.debug("session=%s C: %s", session.session_id, describe(command))


def inbound_hidden(session: Session, what: str) -> None:
    log.debug("session=%s C: <%s hidden>", session.session_id, what)


def outbound_bytes(session: Session, data: bytes) -> None:
    log.debug(
        "session=%s S: %s",
        session.session_id,
        _shorten(data.decode("utf-8", "replace").rstrip("\r\n")),
    )


def outbound(session: Session, response: Response) -> None:
    log.debug("session=%s S: <%s, streamed>", session.session_id, type(response).__name__)
