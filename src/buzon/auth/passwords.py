"""Password credentials: an argon2id hash plus SCRAM-SHA-256 keys, in one stored string.

Theory of operation
-------------------
When a password is set, `make_credentials` prepares it (SASLprep, RFC 4013) and derives two
independent verifiers from it:

* an argon2id hash (RFC 9106), used to check passwords sent in the clear (PLAIN, LOGIN);
* SCRAM-SHA-256 keys (RFC 5802 §3, RFC 7677): salt, iteration count, StoredKey and
  ServerKey, so that a SCRAM mechanism added later can authenticate the user without the
  password ever being sent or stored.

Both are serialised into one line of text (`Credentials.to_secret`) that the storage layer
keeps as an opaque string. The format, version 1::

    v1 argon2id=<PHC string> scram-sha-256=<iterations>:<salt>:<StoredKey>:<ServerKey>

Fields are separated by one ASCII space; the first is the version tag, the others are
``name=value`` (split at the first ``=``). ``<PHC string>`` is argon2's own encoding
(``$argon2id$v=19$m=...,t=...,p=...$salt$hash``, which never contains a space); salt and
keys are standard base64 with padding. Both fields are required in v1; each may appear only
once; unknown field names are ignored so that a later release can add verifiers for new
mechanisms without breaking older nodes that share the database (an incompatible change
would bump the version tag instead).

Note that the SCRAM keys are an offline-attack target like any password hash and PBKDF2
with a few thousand iterations is far cheaper to attack than argon2id: the SCRAM iteration
count is configurable and the default (`DEFAULT_SCRAM_ITERATIONS`) is above RFC 7677's
minimum of 4096. Protect the user table accordingly.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import stringprep
import unicodedata
from dataclasses import dataclass, field

from argon2 import Parameters, PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY

__all__ = [
    "DEFAULT_ARGON2_PARAMS",
    "DEFAULT_SCRAM_ITERATIONS",
    "MAX_PASSWORD_OCTETS",
    "Credentials",
    "InvalidPasswordError",
    "InvalidSecretError",
    "ScramKeys",
    "make_credentials",
    "needs_rehash",
    "saslprep",
    "scram_sha256_keys",
    "verify_password",
]

#: argon2-cffi's RFC 9106 "second recommended option": t=3, m=64 MiB, p=4.
DEFAULT_ARGON2_PARAMS: Parameters = RFC_9106_LOW_MEMORY

#: RFC 7677 §4: "at least 4096". Clients compute this many HMACs per login, so keep it modest.
DEFAULT_SCRAM_ITERATIONS = 16384
MIN_SCRAM_ITERATIONS = 4096

#: RFC 4616 §2 requires servers to accept passwords up to 255 octets; we accept no more, so a
#: password that can be set can always be sent through PLAIN.
MAX_PASSWORD_OCTETS = 255

SCRAM_SALT_OCTETS = 16
SECRET_VERSION = "v1"
_FIELD_ARGON2 = "argon2id"
_FIELD_SCRAM = "scram-sha-256"


class InvalidPasswordError(ValueError):
    """The password cannot be used: empty, too long, or prohibited by SASLprep."""


class InvalidSecretError(ValueError):
    """A stored secret string is not in a format this version understands."""


# --- SASLprep ----------------------------------------------------------------------------


def saslprep(text: str) -> str:
    """Prepare a string with the SASLprep profile (RFC 4013) of stringprep (RFC 3454).

    Unassigned code points (RFC 3454 table A.1) are allowed, as for a "query" string,
    even when a password is being set. RFC 5802 §2.2 asks SCRAM to treat passwords as stored
    strings, which would refuse every character added to Unicode after 3.2 (most emoji);
    we are lenient so such passwords work. Normalisation uses the Unicode 3.2 tables that
    stringprep mandates, so the result does not change when Python's Unicode does.

    Raises `InvalidPasswordError` for prohibited characters or a bidi violation.
    """
    # RFC 4013 §2.1: non-ASCII spaces map to SPACE; "commonly mapped to nothing" chars vanish.
    mapped = "".join(
        " " if stringprep.in_table_c12(ch) else ch for ch in text if not stringprep.in_table_b1(ch)
    )
    # RFC 4013 §2.2: Unicode normalisation form KC (of Unicode 3.2).
    normal = unicodedata.ucd_3_2_0.normalize("NFKC", mapped)
    # RFC 4013 §2.3: prohibited output.
    for ch in normal:
        if _prohibited(ch):
            raise InvalidPasswordError(f"character U+{ord(ch):04X} is not allowed")
    # RFC 4013 §2.4, RFC 3454 §6: bidirectional characters.
    if any(stringprep.in_table_d1(ch) for ch in normal):
        if any(stringprep.in_table_d2(ch) for ch in normal):
            raise InvalidPasswordError("mixes left-to-right and right-to-left characters")
        if not (stringprep.in_table_d1(normal[0]) and stringprep.in_table_d1(normal[-1])):
            raise InvalidPasswordError("right-to-left text must start and end with such characters")
    return normal


def _prohibited(ch: str) -> bool:
    return (
        stringprep.in_table_c12(ch)
        or stringprep.in_table_c21_c22(ch)
        or stringprep.in_table_c3(ch)
        or stringprep.in_table_c4(ch)
        or stringprep.in_table_c5(ch)
        or stringprep.in_table_c6(ch)
        or stringprep.in_table_c7(ch)
        or stringprep.in_table_c8(ch)
        or stringprep.in_table_c9(ch)
    )


def _prepare(password: str) -> bytes:
    """The octets that both verifiers are derived from; raises `InvalidPasswordError`."""
    if not password:
        raise InvalidPasswordError("the password is empty")
    if len(password.encode("utf-8", "surrogatepass")) > MAX_PASSWORD_OCTETS:
        raise InvalidPasswordError(f"the password is longer than {MAX_PASSWORD_OCTETS} octets")
    prepared = saslprep(password)
    if not prepared:
        raise InvalidPasswordError("the password is empty after SASLprep")
    try:
        return prepared.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates cannot come from a decoded client message
        raise InvalidPasswordError("the password is not valid Unicode") from None


# --- values ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScramKeys:
    """What a SCRAM server stores for one user (RFC 5802 §3, §5 "SCRAM identity")."""

    iterations: int
    salt: bytes
    stored_key: bytes = field(repr=False)
    server_key: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class Credentials:
    """A user's stored verifiers. Never holds the password; repr hides the hash."""

    argon2_hash: str = field(repr=False)
    scram_sha256: ScramKeys

    def to_secret(self) -> str:
        """The single-line v1 text form (see the module docstring)."""
        s = self.scram_sha256
        scram = ":".join([str(s.iterations), _b64(s.salt), _b64(s.stored_key), _b64(s.server_key)])
        return f"{SECRET_VERSION} {_FIELD_ARGON2}={self.argon2_hash} {_FIELD_SCRAM}={scram}"

    @classmethod
    def from_secret(cls, secret: str) -> Credentials:
        """Parse `to_secret` output; raises `InvalidSecretError` (its message shows no value)."""
        parts = secret.split(" ")
        if not parts or parts[0] != SECRET_VERSION:
            raise InvalidSecretError("unknown secret format version")
        fields: dict[str, str] = {}
        for part in parts[1:]:
            name, eq, value = part.partition("=")
            if not eq or not name:
                raise InvalidSecretError("malformed field in secret")
            if name in fields:
                raise InvalidSecretError(f"duplicate field {name!r} in secret")
            fields[name] = value
        try:
            argon2_hash = fields[_FIELD_ARGON2]
            scram_text = fields[_FIELD_SCRAM]
        except KeyError as e:
            raise InvalidSecretError(f"missing field {e.args[0]!r} in secret") from None
        if not argon2_hash.startswith("$argon2id$"):
            raise InvalidSecretError("the argon2id field is not an argon2id hash")
        return cls(argon2_hash=argon2_hash, scram_sha256=_parse_scram(scram_text))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise InvalidSecretError("bad base64 in the scram-sha-256 field") from None


def _parse_scram(text: str) -> ScramKeys:
    pieces = text.split(":")
    if len(pieces) != 4:
        raise InvalidSecretError("the scram-sha-256 field needs 4 parts")
    iterations_text, salt, stored, server = pieces
    if not (iterations_text.isascii() and iterations_text.isdigit()):
        raise InvalidSecretError("bad iteration count in the scram-sha-256 field")
    keys = ScramKeys(
        iterations=int(iterations_text),
        salt=_unb64(salt),
        stored_key=_unb64(stored),
        server_key=_unb64(server),
    )
    digest = hashlib.sha256().digest_size
    if keys.iterations < 1 or not keys.salt:
        raise InvalidSecretError("bad iteration count or salt in the scram-sha-256 field")
    if len(keys.stored_key) != digest or len(keys.server_key) != digest:
        raise InvalidSecretError("bad key length in the scram-sha-256 field")
    return keys


# --- making and checking -----------------------------------------------------------------


def scram_sha256_keys(password: str, salt: bytes, iterations: int) -> ScramKeys:
    """Derive SCRAM-SHA-256 keys (RFC 5802 §3) from a password; raises `InvalidPasswordError`."""
    salted = hashlib.pbkdf2_hmac("sha256", _prepare(password), salt, iterations)  # Hi()
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    return ScramKeys(
        iterations=iterations,
        salt=salt,
        stored_key=hashlib.sha256(client_key).digest(),
        server_key=hmac.digest(salted, b"Server Key", "sha256"),
    )


def _hasher(params: Parameters) -> PasswordHasher:
    if params.type is not Type.ID:
        raise ValueError("only argon2id parameters are accepted")
    return PasswordHasher.from_parameters(params)


def make_credentials(
    password: str,
    *,
    argon2_params: Parameters = DEFAULT_ARGON2_PARAMS,
    scram_iterations: int = DEFAULT_SCRAM_ITERATIONS,
) -> Credentials:
    """Derive stored credentials from a new password. Slow by design: run it off the loop.

    Raises `InvalidPasswordError` for an empty, over-long or SASLprep-prohibited password.
    """
    if scram_iterations < MIN_SCRAM_ITERATIONS:
        raise ValueError(f"RFC 7677 §4: SCRAM iterations must be at least {MIN_SCRAM_ITERATIONS}")
    prepared = _prepare(password)
    argon2_hash = _hasher(argon2_params).hash(prepared)
    scram = scram_sha256_keys(password, os.urandom(SCRAM_SALT_OCTETS), scram_iterations)
    return Credentials(argon2_hash=argon2_hash, scram_sha256=scram)


_VERIFIER = PasswordHasher()  # verify() reads the parameters from the hash itself


def verify_password(creds: Credentials, password: str) -> bool:
    """Check a password against the argon2id hash (constant time in the password's value).

    Slow by design: run it off the event loop. A password SASLprep refuses is simply wrong.
    """
    try:
        prepared = _prepare(password)
    except InvalidPasswordError:
        return False
    try:
        return _VERIFIER.verify(creds.argon2_hash, prepared)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(creds: Credentials, *, argon2_params: Parameters = DEFAULT_ARGON2_PARAMS) -> bool:
    """True if the stored hash was made with other argon2 parameters than these."""
    return _hasher(argon2_params).check_needs_rehash(creds.argon2_hash)
