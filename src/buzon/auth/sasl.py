"""Sans-I/O SASL server mechanisms (RFC 4422): decoded client responses in, steps out.

Theory of operation
-------------------
A mechanism object serves one exchange. The session calls `start` with the initial response
(RFC 4959 SASL-IR) or None, then `step` with each further client response, and acts on the
returned `SaslStep`:

* `Challenge(data)`: send ``+ base64(data)`` and feed the client's answer to `step`;
* `Verify(authcid, authzid, password)`: the mechanism is done; the session checks the
  password (e.g. with `Authenticator.verify`) and answers OK or NO;
* `NeedCredentials(authcid)`: SCRAM wants the user's stored keys; the session passes them
  (or None) to the mechanism's `provide` (see `buzon.auth.scram`);
* `Authenticated(authcid, authzid)`: the mechanism verified the client itself (SCRAM, from
  the stored keys);
* `Failure(reason, kind)`: the exchange is over and failed. `reason` is for logs, never
  for the client (it may repeat what the client sent).

Everything here works on bytes: base64 and the client's ``*`` cancellation are the IMAP
layer's business (RFC 9051 §6.2.2). Mechanisms never raise on client input; any step after
the final one is a `Failure`. PLAIN and LOGIN send the password in the clear, so the
session must offer them only under TLS (RFC 9051 §6.2.2, LOGINDISABLED).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Protocol

from buzon.auth.passwords import MAX_PASSWORD_OCTETS

__all__ = [
    "MAX_FIELD_OCTETS",
    "Authenticated",
    "Challenge",
    "Failure",
    "FailureKind",
    "LoginMechanism",
    "MechanismName",
    "NeedCredentials",
    "PlainMechanism",
    "SaslMechanism",
    "SaslStep",
    "Verify",
    "mechanism",
]

#: RFC 4616 §2: servers MUST accept authzid, authcid and passwd of up to 255 octets. We
#: accept no longer ones (LOGIN follows the same limit), which is also the longest password
#: `make_credentials` accepts.
MAX_FIELD_OCTETS = MAX_PASSWORD_OCTETS


class MechanismName(enum.StrEnum):
    """SASL mechanism names as they appear in CAPABILITY (AUTH=...) and AUTHENTICATE."""

    PLAIN = "PLAIN"
    LOGIN = "LOGIN"
    SCRAM_SHA_256 = "SCRAM-SHA-256"
    SCRAM_SHA_256_PLUS = "SCRAM-SHA-256-PLUS"


class FailureKind(enum.Enum):
    """Why an exchange failed, so the session can choose its response code."""

    MALFORMED = "malformed"  # the client's message does not parse
    AUTHORIZATION = "authorization"  # RFC 5530 AUTHORIZATIONFAILED: authzid refused
    PROTOCOL = "protocol"  # a response arrived when none was expected


@dataclass(frozen=True, slots=True)
class Challenge:
    """Send these bytes to the client as a continuation and wait for its response."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Verify:
    """Final: check this password for `authcid`. `authzid` is None or equal to `authcid`."""

    authcid: str
    authzid: str | None
    password: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class NeedCredentials:
    """Look up `authcid`'s stored SCRAM keys and pass them to the mechanism's `provide`."""

    authcid: str


@dataclass(frozen=True, slots=True)
class Authenticated:
    """Final: the mechanism proved the client's identity itself (SCRAM)."""

    authcid: str
    authzid: str | None


@dataclass(frozen=True, slots=True)
class Failure:
    """Final: the exchange failed. `reason` is for the log only."""

    reason: str
    kind: FailureKind = FailureKind.MALFORMED


SaslStep = Challenge | Verify | NeedCredentials | Authenticated | Failure


class SaslMechanism(Protocol):
    """One server-side exchange of a SASL mechanism."""

    @property
    def name(self) -> MechanismName: ...

    def start(self, initial: bytes | None) -> SaslStep:
        """Begin, with the SASL-IR initial response (RFC 4959) or None if there was none."""
        ...

    def step(self, data: bytes) -> SaslStep:
        """Take the client's response to the last `Challenge`."""
        ...


_DONE = Failure("the exchange is already finished", FailureKind.PROTOCOL)
_NOT_STARTED = Failure("start() was not called", FailureKind.PROTOCOL)


def _field(data: bytes, what: str) -> str | Failure:
    """Decode one non-empty, NUL-free UTF-8 field of at most MAX_FIELD_OCTETS octets."""
    if not data:
        return Failure(f"empty {what}")
    if len(data) > MAX_FIELD_OCTETS:
        return Failure(f"{what} longer than {MAX_FIELD_OCTETS} octets")
    if b"\x00" in data:
        return Failure(f"NUL in {what}")
    try:
        # Strict UTF-8: no overlong forms, no surrogates (RFC 4616 §2 SAFE, RFC 3629).
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return Failure(f"{what} is not UTF-8")


class _Phase(enum.Enum):
    NEW = enum.auto()
    USERNAME = enum.auto()  # LOGIN only
    RESPONSE = enum.auto()  # PLAIN: the message; LOGIN: the password
    DONE = enum.auto()


class PlainMechanism:
    """PLAIN (RFC 4616): one message, ``[authzid] NUL authcid NUL passwd``."""

    __slots__ = ("_phase",)

    def __init__(self) -> None:
        self._phase = _Phase.NEW

    @property
    def name(self) -> MechanismName:
        return MechanismName.PLAIN

    def start(self, initial: bytes | None) -> SaslStep:
        if self._phase is not _Phase.NEW:
            return self._finish(_DONE)
        # RFC 4959 §3 calls "=" a zero-length initial response; an empty PLAIN message can
        # never be valid, so we leniently read it as "no initial response" and send the
        # empty challenge RFC 4422 §5 prescribes for a mechanism that starts with the client.
        if not initial:
            self._phase = _Phase.RESPONSE
            return Challenge(b"")
        return self._message(initial)

    def step(self, data: bytes) -> SaslStep:
        if self._phase is _Phase.NEW:
            return self._finish(_NOT_STARTED)
        if self._phase is not _Phase.RESPONSE:
            return self._finish(_DONE)
        return self._message(data)

    def _finish(self, result: SaslStep) -> SaslStep:
        self._phase = _Phase.DONE
        return result

    def _message(self, data: bytes) -> SaslStep:
        # RFC 4616 §2: message = [authzid] UTF8NUL authcid UTF8NUL passwd; NUL may not occur
        # inside a field, so a well-formed message splits into exactly three parts.
        parts = data.split(b"\x00")
        if len(parts) != 3:
            return self._finish(Failure(f"expected 2 NUL separators, got {len(parts) - 1}"))
        raw_authzid, raw_authcid, raw_password = parts
        authzid: str | None = None
        if raw_authzid:
            decoded = _field(raw_authzid, "authzid")
            if isinstance(decoded, Failure):
                return self._finish(decoded)
            authzid = decoded
        authcid = _field(raw_authcid, "authcid")
        if isinstance(authcid, Failure):
            return self._finish(authcid)
        password = _field(raw_password, "password")
        if isinstance(password, Failure):
            return self._finish(password)
        if authzid is not None and authzid != authcid:
            # RFC 4616 §2 leaves authorizing as another identity to the server; we have no
            # proxy authorization (yet), so any other authzid is refused.
            return self._finish(
                Failure(
                    "authorization as another identity is unsupported", FailureKind.AUTHORIZATION
                )
            )
        return self._finish(Verify(authcid=authcid, authzid=authzid, password=password))


class LoginMechanism:
    """LOGIN (draft-murchison-sasl-login, never an RFC): username, then password.

    Obsolete but still what some clients (older Outlook among them) use when PLAIN is also
    offered. Challenges are the customary "Username:" and "Password:", which a few clients
    check. An initial response (RFC 4959) carries the username.
    """

    __slots__ = ("_phase", "_username")

    USERNAME_CHALLENGE = b"Username:"
    PASSWORD_CHALLENGE = b"Password:"

    def __init__(self) -> None:
        self._phase = _Phase.NEW
        self._username = ""

    @property
    def name(self) -> MechanismName:
        return MechanismName.LOGIN

    def start(self, initial: bytes | None) -> SaslStep:
        if self._phase is not _Phase.NEW:
            return self._finish(_DONE)
        # As for PLAIN, an empty initial response (RFC 4959 "=") can never be a username, so
        # we leniently treat it as absent and ask.
        if not initial:
            self._phase = _Phase.USERNAME
            return Challenge(self.USERNAME_CHALLENGE)
        return self._take_username(initial)

    def step(self, data: bytes) -> SaslStep:
        if self._phase is _Phase.USERNAME:
            return self._take_username(data)
        if self._phase is _Phase.RESPONSE:
            password = _field(data, "password")
            if isinstance(password, Failure):
                return self._finish(password)
            return self._finish(Verify(authcid=self._username, authzid=None, password=password))
        if self._phase is _Phase.NEW:
            return self._finish(_NOT_STARTED)
        return self._finish(_DONE)

    def _take_username(self, data: bytes) -> SaslStep:
        username = _field(data, "username")
        if isinstance(username, Failure):
            return self._finish(username)
        self._username = username
        self._phase = _Phase.RESPONSE
        return Challenge(self.PASSWORD_CHALLENGE)

    def _finish(self, result: SaslStep) -> SaslStep:
        self._phase = _Phase.DONE
        self._username = ""
        return result


_MECHANISMS: dict[str, type[PlainMechanism] | type[LoginMechanism]] = {
    MechanismName.PLAIN: PlainMechanism,
    MechanismName.LOGIN: LoginMechanism,
}


def mechanism(name: str) -> SaslMechanism | None:
    """A fresh server for the named mechanism (case-insensitive), or None if unknown."""
    # RFC 4422 §3.1: mechanism names are upper case; clients are not always careful.
    cls = _MECHANISMS.get(name.upper()) if name.isascii() else None
    return None if cls is None else cls()
