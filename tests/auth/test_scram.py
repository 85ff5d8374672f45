"""SCRAM-SHA-256(-PLUS) server exchanges against a client written from RFC 5802 §3."""

from __future__ import annotations

import base64
import hashlib
import hmac

from hypothesis import given, settings
from hypothesis import strategies as st

from buzon.auth import (
    Authenticated,
    Challenge,
    Failure,
    NeedCredentials,
    ScramSha256Mechanism,
    new_mechanism,
    scram_sha256_keys,
)
from buzon.auth.passwords import ScramKeys

SALT = base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ==")
KEYS = scram_sha256_keys("pencil", SALT, 4096)
END_POINT = hashlib.sha256(b"certificate").digest()


def _hmac(key: bytes, msg: bytes) -> bytes:
    return hmac.digest(key, msg, "sha256")


def client_final(
    password: str, client_first_bare: str, server_first: str, gs2: str, cb_data: bytes = b""
) -> tuple[bytes, bytes]:
    """The client-final message and the server signature the client expects."""
    attrs = dict(part.split("=", 1) for part in server_first.split(","))
    salted = hashlib.pbkdf2_hmac(
        "sha256", password.encode(), base64.b64decode(attrs["s"]), int(attrs["i"])
    )
    client_key = _hmac(salted, b"Client Key")
    stored_key = hashlib.sha256(client_key).digest()
    channel = base64.b64encode(gs2.encode() + cb_data).decode()
    without_proof = f"c={channel},r={attrs['r']}"
    auth_message = f"{client_first_bare},{server_first},{without_proof}".encode()
    proof = bytes(a ^ b for a, b in zip(client_key, _hmac(stored_key, auth_message), strict=True))
    server_key = _hmac(salted, b"Server Key")
    final = f"{without_proof},p={base64.b64encode(proof).decode()}".encode()
    return final, _hmac(server_key, auth_message)


def run(
    mech: ScramSha256Mechanism,
    keys: ScramKeys | None,
    password: str,
    *,
    gs2: str = "n,,",
    user: str = "user",
    cb_data: bytes = b"",
) -> Authenticated | Failure:
    bare = f"n={user},r=rOprNGfwEbeRWgbNEkqO"
    step = mech.start((gs2 + bare).encode())
    if isinstance(step, Failure):
        return step
    assert step == NeedCredentials(user.replace("=2C", ",").replace("=3D", "="))
    challenge = mech.provide(keys)
    assert isinstance(challenge, Challenge)
    server_first = challenge.data.decode()
    assert server_first.startswith("r=rOprNGfwEbeRWgbNEkqO")
    final, expected_signature = client_final(password, bare, server_first, gs2, cb_data)
    step = mech.step(final)
    if isinstance(step, Failure):
        return step
    assert step == Challenge(b"v=" + base64.b64encode(expected_signature))
    done = mech.step(b"")
    assert isinstance(done, Authenticated | Failure)
    return done


def test_right_password() -> None:
    mech = ScramSha256Mechanism(plus=False, channel_bindings={})
    assert run(mech, KEYS, "pencil") == Authenticated("user", None)


def test_wrong_password_and_unknown_user_fail_the_same_way() -> None:
    wrong = run(ScramSha256Mechanism(plus=False, channel_bindings={}), KEYS, "pen")
    unknown = run(ScramSha256Mechanism(plus=False, channel_bindings={}), None, "pencil")
    assert isinstance(wrong, Failure)
    assert isinstance(unknown, Failure)
    assert wrong.reason == unknown.reason


def test_escaped_user_name() -> None:
    mech = ScramSha256Mechanism(plus=False, channel_bindings={})
    assert run(mech, KEYS, "pencil", user="a=2Cb=3Dc") == Authenticated("a,b=c", None)


def test_plus_binds_to_the_tls_end_point() -> None:
    bindings = {"tls-server-end-point": END_POINT}
    mech = ScramSha256Mechanism(plus=True, channel_bindings=bindings)
    gs2 = "p=tls-server-end-point,,"
    assert run(mech, KEYS, "pencil", gs2=gs2, cb_data=END_POINT) == Authenticated("user", None)
    other = ScramSha256Mechanism(plus=True, channel_bindings=bindings)
    assert isinstance(run(other, KEYS, "pencil", gs2=gs2, cb_data=b"elsewhere"), Failure)


def test_downgrade_is_refused() -> None:
    """RFC 5802 §6: "y" says the client could bind; the server offers binding: refuse."""
    mech = ScramSha256Mechanism(plus=False, channel_bindings={"tls-server-end-point": END_POINT})
    assert isinstance(run(mech, KEYS, "pencil", gs2="y,,"), Failure)
    plain = ScramSha256Mechanism(plus=False, channel_bindings={})
    assert run(plain, KEYS, "pencil", gs2="y,,") == Authenticated("user", None)


def test_factory() -> None:
    assert new_mechanism("scram-sha-256", channel_bindings={}) is not None
    assert new_mechanism("SCRAM-SHA-256-PLUS", channel_bindings={}) is None
    assert new_mechanism("SCRAM-SHA-256-PLUS", channel_bindings={"x": b"y"}) is not None
    assert new_mechanism("PLAIN", channel_bindings={}) is not None
    assert new_mechanism("CRAM-MD5", channel_bindings={}) is None


@settings(max_examples=300)
@given(st.lists(st.binary(max_size=200), min_size=1, max_size=4))
def test_arbitrary_input_never_raises(messages: list[bytes]) -> None:
    mech = ScramSha256Mechanism(plus=False, channel_bindings={})
    step = mech.start(messages[0])
    for data in messages[1:]:
        if isinstance(step, NeedCredentials):
            step = mech.provide(KEYS)
        step = mech.step(data)
    assert isinstance(step, Challenge | NeedCredentials | Failure | Authenticated)
