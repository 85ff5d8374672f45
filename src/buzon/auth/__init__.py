"""Authentication: stored credentials, verification with a cache, SASL mechanisms, throttling.

`passwords` derives and parses stored credentials, `cache.Authenticator` verifies passwords
against them off the event loop, `sasl` holds the sans-I/O mechanisms, `exchange` drives one
of them for any protocol and `throttle` holds the failed-login policy. Nothing here does
network I/O.
"""

from __future__ import annotations

from buzon.auth.cache import Authenticator, SecretLookup
from buzon.auth.exchange import SaslAborted, run_exchange
from buzon.auth.passwords import (
    DEFAULT_ARGON2_PARAMS,
    DEFAULT_SCRAM_ITERATIONS,
    MAX_PASSWORD_OCTETS,
    Credentials,
    InvalidPasswordError,
    InvalidSecretError,
    ScramKeys,
    make_credentials,
    needs_rehash,
    saslprep,
    scram_sha256_keys,
    verify_password,
)
from buzon.auth.sasl import (
    Authenticated,
    Challenge,
    Failure,
    FailureKind,
    MechanismName,
    NeedCredentials,
    SaslMechanism,
    SaslStep,
    Verify,
    mechanism,
)
from buzon.auth.scram import ScramSha256Mechanism, new_mechanism, tls_server_end_point
from buzon.auth.throttle import MAX_FAILURES_PER_CONNECTION, FailureThrottle

__all__ = [
    "DEFAULT_ARGON2_PARAMS",
    "DEFAULT_SCRAM_ITERATIONS",
    "MAX_FAILURES_PER_CONNECTION",
    "MAX_PASSWORD_OCTETS",
    "Authenticated",
    "Authenticator",
    "Challenge",
    "Credentials",
    "Failure",
    "FailureKind",
    "FailureThrottle",
    "InvalidPasswordError",
    "InvalidSecretError",
    "MechanismName",
    "NeedCredentials",
    "SaslAborted",
    "SaslMechanism",
    "SaslStep",
    "ScramKeys",
    "ScramSha256Mechanism",
    "SecretLookup",
    "Verify",
    "make_credentials",
    "mechanism",
    "needs_rehash",
    "new_mechanism",
    "run_exchange",
    "saslprep",
    "scram_sha256_keys",
    "tls_server_end_point",
    "verify_password",
]
