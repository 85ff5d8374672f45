"""SCRAM-SHA-256 and SCRAM-SHA-256-PLUS server mechanisms (RFC 5802, RFC 7677).

Theory of operation
-------------------
The exchange, on decoded bytes (base64 is the IMAP layer's business):

1. client-first ``gs2-header client-first-bare`` → `NeedCredentials(user)`: the session
   looks up the user's stored SCRAM keys (derived when the password was set, so no
   password is ever needed here) and hands them to `provide`;
2. server-first ``r=nonce,s=salt,i=iterations`` → client-final ``c=...,r=...,p=proof``;
3. the proof is checked against StoredKey; server-final ``v=signature`` proves the server
   knew the keys too; the client's empty answer ends it with `Authenticated`.

An unknown user gets keys derived from a per-process secret, so the exchange runs to the
proof check and fails there: the answer never tells whether a user exists. Channel
binding (RFC 5929 ``tls-server-end-point``) ties the exchange to the TLS connection for
the -PLUS variant; a client that says it could bind while the server offers -PLUS is
refused, as RFC 5802 §6 requires against downgrades.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping

from buzon.auth.passwords import DEFAULT_SCRAM_ITERATIONS, ScramKeys
from buzon.auth.sasl import (
    Authenticated,
    Challenge,
    Failure,
    FailureKind,
    MechanismName,
    NeedCredentials,
    SaslMechanism,
    SaslStep,
    mechanism,
)

_DONE = Failure("the exchange is already finished", FailureKind.PROTOCOL)
_PROCESS_KEY = secrets.token_bytes(32)
_NONCE_OCTETS = 24
_MAX_MESSAGE = 4096


def _hmac(key: bytes, message: bytes) -> bytes:
    return hmac.digest(key, message, "sha256")


def _attributes(message: str) -> list[tuple[str, str]] | None:
    """``a=value,b=value`` pairs in order; None when malformed (RFC 5802 §7)."""
    out: list[tuple[str, str]] = []
    for part in message.split(","):
        if len(part) < 2 or part[1] != "=" or not part[0].isalpha():
            return None
        out.append((part[0], part[2:]))
    return out


def _saslname(value: str) -> str | None:
    """RFC 5802 §5.1: "=2C" is ",", "=3D" is "=", any other "=" is an error."""
    out: list[str] = []
    i = 0
    while i < len(value):
        if value[i] == "=":
            code = value[i + 1 : i + 3]
            if code not in ("2C", "3D"):
                return None
            out.append("," if code == "2C" else "=")
            i += 3
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def _fake_keys(user: str) -> ScramKeys:
    """Plausible keys for a user that does not exist: stable per process, never valid."""
    seed = _hmac(_PROCESS_KEY, user.encode("utf-8", "surrogatepass"))
    return ScramKeys(
        iterations=DEFAULT_SCRAM_ITERATIONS,
        salt=seed[:16],
        stored_key=_hmac(seed, b"stored"),
        server_key=_hmac(seed, b"server"),
    )


class ScramSha256Mechanism:
    """One server-side SCRAM-SHA-256(-PLUS) exchange."""

    def __init__(self, *, plus: bool, channel_bindings: Mapping[str, bytes]) -> None:
        self._plus = plus
        # What this connection can bind to (empty without TLS); -PLUS is only offered with it.
        self._bindings = dict(channel_bindings)
        self._gs2_header = b""
        self._cb_data = b""
        self._user = ""
        self._client_nonce = ""
        self._client_first_bare = ""
        self._server_first = ""
        self._nonce = ""
        self._keys: ScramKeys | None = None
        self._expect = "client-first"

    @property
    def name(self) -> MechanismName:
        return MechanismName.SCRAM_SHA_256_PLUS if self._plus else MechanismName.SCRAM_SHA_256

    def start(self, initial: bytes | None) -> SaslStep:
        if initial is None or initial == b"":
            # RFC 5802 §5: the client speaks first; an empty challenge invites it.
            self._expect = "client-first"
            return Challenge(b"")
        return self.step(initial)

    def step(self, data: bytes) -> SaslStep:
        if len(data) > _MAX_MESSAGE:
            return self._fail("SCRAM message too long")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return self._fail("SCRAM message is not UTF-8")
        match self._expect:
            case "client-first":
                return self._client_first(text)
            case "client-final":
                return self._client_final(text)
            case "empty":
                self._expect = "done"
                if text:
                    return self._fail("unexpected data after the server signature")
                return Authenticated(self._user, None)
        return _DONE

    def provide(self, keys: ScramKeys | None) -> SaslStep:
        """The stored keys of the user named in client-first (None: no such user)."""
        if self._expect != "credentials":
            return _DONE
        self._keys = keys if keys is not None else _fake_keys(self._user)
        self._nonce = self._client_nonce + base64.b64encode(
            secrets.token_bytes(_NONCE_OCTETS)
        ).decode("ascii")
        salt = base64.b64encode(self._keys.salt).decode("ascii")
        self._server_first = f"r={self._nonce},s={salt},i={self._keys.iterations}"
        self._expect = "client-final"
        return Challenge(self._server_first.encode("ascii"))

    def _fail(self, reason: str) -> Failure:
        self._expect = "done"
        return Failure(reason)

    def _client_first(self, text: str) -> SaslStep:
        # gs2-header = gs2-cbind-flag "," [authzid] ","  (RFC 5802 §7)
        parts = text.split(",", 2)
        if len(parts) != 3:
            return self._fail("malformed client-first message")
        flag, authzid, bare = parts
        if flag.startswith("p="):
            cb_type = flag[2:]
            if not self._plus or cb_type not in self._bindings:
                return self._fail(f"channel binding {cb_type!r} is not available")
            self._cb_data = self._bindings[cb_type]
        elif flag == "y":
            if self._bindings:
                # RFC 5802 §6: the client could bind and thinks we cannot: a downgrade.
                return self._fail("client supports channel binding the server offers")
        elif flag != "n":
            return self._fail("bad gs2 channel-binding flag")
        elif self._plus:
            return self._fail("SCRAM-SHA-256-PLUS needs channel binding")
        if authzid and not authzid.startswith("a="):
            return self._fail("bad authzid in gs2 header")
        attrs = _attributes(bare)
        if attrs is None or len(attrs) < 2 or attrs[0][0] != "n" or attrs[1][0] != "r":
            return self._fail("malformed client-first-bare")
        if attrs[0][1].startswith("m=") or bare.startswith("m="):
            return self._fail("mandatory extensions are not supported")
        user = _saslname(attrs[0][1])
        if not user or not attrs[1][1]:
            return self._fail("empty user name or nonce")
        if authzid and _saslname(authzid[2:]) != user:
            return Failure("authorization identity differs", FailureKind.AUTHORIZATION)
        self._gs2_header = (flag + "," + authzid + ",").encode("utf-8")
        self._client_first_bare = bare
        self._client_nonce = attrs[1][1]
        self._user = user
        self._expect = "credentials"
        return NeedCredentials(user)

    def _client_final(self, text: str) -> SaslStep:
        keys = self._keys
        assert keys is not None
        attrs = _attributes(text)
        if attrs is None or len(attrs) < 3 or attrs[0][0] != "c" or attrs[1][0] != "r":
            return self._fail("malformed client-final message")
        if attrs[-1][0] != "p":
            return self._fail("client-final without proof")
        try:
            cbind = base64.b64decode(attrs[0][1], validate=True)
            proof = base64.b64decode(attrs[-1][1], validate=True)
        except (binascii.Error, ValueError):
            return self._fail("bad base64 in client-final")
        if not hmac.compare_digest(cbind, self._gs2_header + self._cb_data):
            return self._fail("channel binding data does not match")
        if attrs[1][1] != self._nonce:
            return self._fail("nonce mismatch")
        without_proof = text[: text.rindex(",p=")]
        auth_message = ",".join((self._client_first_bare, self._server_first, without_proof))
        signature = _hmac(keys.stored_key, auth_message.encode("utf-8"))
        if len(proof) != len(signature):
            return self._fail("proof has the wrong length")
        client_key = bytes(a ^ b for a, b in zip(proof, signature, strict=True))
        if not hmac.compare_digest(hashlib.sha256(client_key).digest(), keys.stored_key):
            return self._fail("wrong password or unknown user")
        server_signature = _hmac(keys.server_key, auth_message.encode("utf-8"))
        self._expect = "empty"
        return Challenge(b"v=" + base64.b64encode(server_signature))


def tls_server_end_point(certificate_der: bytes) -> bytes:
    """RFC 5929 §4.1: the hash of the server certificate (SHA-256 for SHA-256/SHA-1 certs)."""
    return hashlib.sha256(certificate_der).digest()


def new_mechanism(name: str, *, channel_bindings: Mapping[str, bytes]) -> SaslMechanism | None:
    """A fresh server for any mechanism Buzón speaks, or None if unknown.

    `channel_bindings` maps channel-binding types (``tls-server-end-point``) to this
    connection's data; it is empty without TLS, and then -PLUS is not offered.
    """
    upper = name.upper() if name.isascii() else ""
    if upper == MechanismName.SCRAM_SHA_256:
        return ScramSha256Mechanism(plus=False, channel_bindings=channel_bindings)
    if upper == MechanismName.SCRAM_SHA_256_PLUS and channel_bindings:
        return ScramSha256Mechanism(plus=True, channel_bindings=channel_bindings)
    return mechanism(name)
