"""Stored credentials: derivation, the v1 secret format, verification, SASLprep."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from argon2 import Parameters, Type
from argon2.profiles import CHEAPEST
from hypothesis import given, settings
from hypothesis import strategies as st

from buzon.auth.passwords import (
    MAX_PASSWORD_OCTETS,
    MIN_SCRAM_ITERATIONS,
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

CHEAP = CHEAPEST


def cheap(password: str) -> Credentials:
    return make_credentials(password, argon2_params=CHEAP, scram_iterations=MIN_SCRAM_ITERATIONS)


# --- RFC 7677 §3 test vector ---------------------------------------------------------------

RFC7677_SALT = base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ==")
RFC7677_AUTH_MESSAGE = (
    b"n=user,r=rOprNGfwEbeRWgbNEkqO,"
    b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,"
    b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
)
RFC7677_CLIENT_PROOF = base64.b64decode("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
RFC7677_SERVER_SIGNATURE = base64.b64decode("6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")


def test_scram_keys_match_rfc7677_example() -> None:
    keys = scram_sha256_keys("pencil", RFC7677_SALT, 4096)
    # RFC 5802 §3: the server recovers ClientKey from the proof and compares H(ClientKey).
    client_signature = hmac.digest(keys.stored_key, RFC7677_AUTH_MESSAGE, "sha256")
    client_key = bytes(a ^ b for a, b in zip(RFC7677_CLIENT_PROOF, client_signature, strict=True))
    assert hashlib.sha256(client_key).digest() == keys.stored_key
    assert hmac.digest(keys.server_key, RFC7677_AUTH_MESSAGE, "sha256") == RFC7677_SERVER_SIGNATURE
    assert keys.iterations == 4096
    assert keys.salt == RFC7677_SALT


def test_scram_keys_depend_on_password() -> None:
    assert scram_sha256_keys("pencil", RFC7677_SALT, 4096) != scram_sha256_keys(
        "pencil2", RFC7677_SALT, 4096
    )


def test_made_credentials_carry_scram_keys_of_the_password() -> None:
    creds = cheap("pencil")
    s = creds.scram_sha256
    assert scram_sha256_keys("pencil", s.salt, s.iterations) == s
    assert len(s.salt) == 16


# --- verification ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stored", "given_pw", "ok"),
    [
        ("hunter2", "hunter2", True),
        ("hunter2", "hunter3", False),
        ("hunter2", "Hunter2", False),
        ("hunter2", "hunter2 ", False),
        ("pässwörd", "pässwörd", True),
        ("pässwörd", "passwor", False),
        ("пароль", "пароль", True),
        ("🔑 key", "🔑 key", True),  # unassigned in Unicode 3.2: allowed (query profile)
        ("a\u00a0b", "a b", True),  # RFC 4013 §2.1: non-ASCII space maps to SPACE
        ("I\u00adX", "IX", True),  # RFC 4013 §3: soft hyphen maps to nothing
        ("\u2168", "IX", True),  # NFKC: ROMAN NUMERAL NINE is "IX"
        ("e\u0301", "\u00e9", True),  # NFKC composes
        ("hunter2", "", False),
        ("hunter2", "bad\u0007", False),  # SASLprep prohibits it: just a wrong password
        ("hunter2", "x" * (MAX_PASSWORD_OCTETS + 1), False),
    ],
)
def test_verify_password(stored: str, given_pw: str, ok: bool) -> None:
    assert verify_password(cheap(stored), given_pw) is ok


def test_verify_with_corrupt_hash_is_false() -> None:
    creds = cheap("pencil")
    broken = Credentials(argon2_hash="$argon2id$garbage", scram_sha256=creds.scram_sha256)
    assert verify_password(broken, "pencil") is False


@pytest.mark.parametrize(
    "password",
    ["", "\u00ad", "bad\u0007bell", "\ufffe", "x" * (MAX_PASSWORD_OCTETS + 1), "\u0627a\u0628"],
)
def test_make_credentials_rejects(password: str) -> None:
    with pytest.raises(InvalidPasswordError):
        cheap(password)


def test_longest_password_is_accepted() -> None:
    pw = "é" * (MAX_PASSWORD_OCTETS // 2)
    assert verify_password(cheap(pw), pw)


def test_parameters_are_checked() -> None:
    with pytest.raises(ValueError, match="4096"):
        make_credentials("pencil", argon2_params=CHEAP, scram_iterations=4095)
    argon2i = Parameters(
        type=Type.I, version=19, salt_len=8, hash_len=4, time_cost=1, memory_cost=8, parallelism=1
    )
    with pytest.raises(ValueError, match="argon2id"):
        make_credentials("pencil", argon2_params=argon2i)


def test_needs_rehash() -> None:
    creds = cheap("pencil")
    assert not needs_rehash(creds, argon2_params=CHEAP)
    stronger = Parameters(
        type=Type.ID, version=19, salt_len=16, hash_len=32, time_cost=2, memory_cost=64,
        parallelism=1,
    )  # fmt: skip
    assert needs_rehash(creds, argon2_params=stronger)


def test_repr_hides_secrets() -> None:
    creds = cheap("pencil")
    text = repr(creds)
    assert creds.argon2_hash not in text
    assert "pencil" not in text
    assert base64.b64encode(creds.scram_sha256.stored_key).decode() not in text


# --- SASLprep (RFC 4013 §3 examples and more) ---------------------------------------------


@pytest.mark.parametrize(
    ("raw", "prepared"),
    [
        ("I\u00adX", "IX"),
        ("user", "user"),
        ("USER", "USER"),
        ("\u00aa", "a"),
        ("\u2168", "IX"),
        ("a\u2000b", "a b"),
        ("\u200b", ""),
        ("\u0627\u0628", "\u0627\u0628"),
    ],
)
def test_saslprep(raw: str, prepared: str) -> None:
    assert saslprep(raw) == prepared


@pytest.mark.parametrize("raw", ["\u0007", "\u0627\u0031", "a\u0627", "\ud800", "\ue000"])
def test_saslprep_rejects(raw: str) -> None:
    with pytest.raises(InvalidPasswordError):
        saslprep(raw)


@settings(max_examples=300)
@given(st.text(max_size=40))
def test_saslprep_only_raises_invalid_password(text: str) -> None:
    try:
        out = saslprep(text)
    except InvalidPasswordError:
        return
    assert saslprep(out) == out  # idempotent on its output


# --- the v1 secret format ----------------------------------------------------------------


def test_secret_round_trip() -> None:
    creds = cheap("pencil")
    secret = creds.to_secret()
    assert "\n" not in secret
    assert secret.startswith("v1 argon2id=$argon2id$")
    assert Credentials.from_secret(secret) == creds
    assert verify_password(Credentials.from_secret(secret), "pencil")


def test_secret_layout() -> None:
    keys = ScramKeys(
        iterations=4096, salt=b"salt", stored_key=b"\x01" * 32, server_key=b"\x02" * 32
    )
    creds = Credentials(argon2_hash="$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA", scram_sha256=keys)
    assert creds.to_secret() == (
        "v1 argon2id=$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA "
        "scram-sha-256=4096:c2FsdA==:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=:"
        "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI="
    )


GOOD_SCRAM = "scram-sha-256=4096:c2FsdA==:" + "A" * 43 + "=:" + "B" * 43 + "="
GOOD_ARGON = "argon2id=$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA"


def test_unknown_fields_are_ignored() -> None:
    base = Credentials.from_secret(f"v1 {GOOD_ARGON} {GOOD_SCRAM}")
    assert Credentials.from_secret(f"v1 {GOOD_ARGON} future-mech=xyz {GOOD_SCRAM}") == base


@pytest.mark.parametrize(
    "secret",
    [
        "",
        "v1",
        f"v2 {GOOD_ARGON} {GOOD_SCRAM}",
        f"V1 {GOOD_ARGON} {GOOD_SCRAM}",
        f"{GOOD_ARGON} {GOOD_SCRAM}",
        f"v1 {GOOD_ARGON}",
        f"v1 {GOOD_SCRAM}",
        f"v1 {GOOD_ARGON} {GOOD_SCRAM} {GOOD_SCRAM}",
        f"v1  {GOOD_ARGON} {GOOD_SCRAM}",  # two spaces: an empty field
        f"v1 {GOOD_ARGON} {GOOD_SCRAM} ",
        f"v1 argon2id=$argon2i$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA {GOOD_SCRAM}",
        f"v1 argon2id=$2b$12$abcdefghijklmnopqrstuv {GOOD_SCRAM}",
        f"v1 {GOOD_ARGON} scram-sha-256=4096:c2FsdA==:AAAA",
        f"v1 {GOOD_ARGON} scram-sha-256=0:c2FsdA==:" + "A" * 43 + "=:" + "B" * 43 + "=",
        f"v1 {GOOD_ARGON} scram-sha-256=-1:c2FsdA==:" + "A" * 43 + "=:" + "B" * 43 + "=",
        f"v1 {GOOD_ARGON} scram-sha-256=٤٠٩٦:c2FsdA==:" + "A" * 43 + "=:" + "B" * 43 + "=",
        f"v1 {GOOD_ARGON} scram-sha-256=4096::" + "A" * 43 + "=:" + "B" * 43 + "=",
        f"v1 {GOOD_ARGON} scram-sha-256=4096:c2Fsd!==:" + "A" * 43 + "=:" + "B" * 43 + "=",
        f"v1 {GOOD_ARGON} scram-sha-256=4096:c2FsdA==:AAAA:BBBB",  # keys too short
        f"v1 {GOOD_ARGON} scram-sha-256=4096:c2FsdA==:" + "A" * 43 + "=:é",
        f"v1 =x {GOOD_ARGON} {GOOD_SCRAM}",
        f"v1 novalue {GOOD_ARGON} {GOOD_SCRAM}",
    ],
)
def test_from_secret_rejects(secret: str) -> None:
    with pytest.raises(InvalidSecretError):
        Credentials.from_secret(secret)


_b64_bytes = st.binary(min_size=1, max_size=64)


@settings(max_examples=300)
@given(
    phc=st.text(
        st.characters(codec="ascii", exclude_characters=" \x00", min_codepoint=33), max_size=80
    ),
    iterations=st.integers(1, 10**9),
    salt=_b64_bytes,
    stored=st.binary(min_size=32, max_size=32),
    server=st.binary(min_size=32, max_size=32),
)
def test_secret_round_trip_property(
    phc: str, iterations: int, salt: bytes, stored: bytes, server: bytes
) -> None:
    keys = ScramKeys(iterations=iterations, salt=salt, stored_key=stored, server_key=server)
    creds = Credentials(argon2_hash="$argon2id$" + phc, scram_sha256=keys)
    assert Credentials.from_secret(creds.to_secret()) == creds


@settings(max_examples=500)
@given(
    st.one_of(
        st.text(max_size=200),
        st.builds(
            lambda a, b: f"v1 {a} {b}",
            st.sampled_from([GOOD_ARGON, "argon2id=", "x=y"]),
            st.text(max_size=150),
        ),
        st.builds(lambda a: f"v1 {GOOD_ARGON} scram-sha-256={a}", st.text(max_size=150)),
    )
)
def test_from_secret_only_raises_invalid_secret(secret: str) -> None:
    try:
        creds = Credentials.from_secret(secret)
    except InvalidSecretError:
        return
    assert creds.argon2_hash.startswith("$argon2id$")
    assert len(creds.scram_sha256.stored_key) == 32


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=30))
def test_verify_password_never_raises(password: str) -> None:
    try:
        expected = saslprep(password) == "correct horse"
    except InvalidPasswordError:
        expected = False
    assert verify_password(_FIXED, password) is expected


_FIXED = cheap("correct horse")
