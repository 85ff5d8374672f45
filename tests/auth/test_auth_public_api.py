"""The names `buzon.auth` exports are the ones we mean to, and all of them exist."""

from __future__ import annotations

import buzon.auth

EXPECTED = {
    # passwords
    "Credentials",
    "ScramKeys",
    "InvalidPasswordError",
    "InvalidSecretError",
    "make_credentials",
    "verify_password",
    "needs_rehash",
    "saslprep",
    "scram_sha256_keys",
    "DEFAULT_ARGON2_PARAMS",
    "DEFAULT_SCRAM_ITERATIONS",
    "MAX_PASSWORD_OCTETS",
    # cache
    "Authenticator",
    "SecretLookup",
    # sasl
    "SaslAborted",
    "SaslMechanism",
    "SaslStep",
    "Challenge",
    "Verify",
    "Authenticated",
    "Failure",
    "FailureKind",
    "MechanismName",
    "mechanism",
    "NeedCredentials",
    # scram
    "ScramSha256Mechanism",
    "new_mechanism",
    "run_exchange",
    "tls_server_end_point",
    # throttle
    "FailureThrottle",
    "MAX_FAILURES_PER_CONNECTION",
}


def test_public_names() -> None:
    assert set(buzon.auth.__all__) == EXPECTED
    assert len(buzon.auth.__all__) == len(EXPECTED)
    for name in EXPECTED:
        assert getattr(buzon.auth, name) is not None
