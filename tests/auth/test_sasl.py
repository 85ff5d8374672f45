"""SASL mechanisms: PLAIN (RFC 4616) and LOGIN step tables, and a fuzz invariant."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from buzon.auth.sasl import (
    MAX_FIELD_OCTETS,
    Authenticated,
    Challenge,
    Failure,
    FailureKind,
    LoginMechanism,
    MechanismName,
    PlainMechanism,
    SaslMechanism,
    SaslStep,
    Verify,
    mechanism,
)

MALFORMED = FailureKind.MALFORMED
PROTOCOL = FailureKind.PROTOCOL
AUTHZ = FailureKind.AUTHORIZATION

# A row: the initial response (None: no SASL-IR), the client's later responses, and the
# expected step for each. Failures are compared by kind, their reasons are free text.
Row = tuple[bytes | None, list[bytes], list[SaslStep | FailureKind]]

LONG = b"x" * MAX_FIELD_OCTETS
TOO_LONG = b"x" * (MAX_FIELD_OCTETS + 1)

PLAIN_TABLE: list[tuple[str, Row]] = [
    ("ir", (b"\0alice\0secret", [], [Verify("alice", None, "secret")])),
    ("no ir", (None, [b"\0alice\0secret"], [Challenge(b""), Verify("alice", None, "secret")])),
    # RFC 4959 "=": zero-length IR, leniently read as absent
    ("empty ir", (b"", [b"\0alice\0secret"], [Challenge(b""), Verify("alice", None, "secret")])),
    ("authzid = authcid", (b"alice\0alice\0pw", [], [Verify("alice", "alice", "pw")])),
    ("other authzid", (b"root\0alice\0pw", [], [AUTHZ])),
    ("authzid case differs", (b"Alice\0alice\0pw", [], [AUTHZ])),
    ("utf-8", ("\0josé\0pässwörd 🔑".encode(), [], [Verify("josé", None, "pässwörd 🔑")])),
    ("spaces kept", (b"\0 alice \0 pw ", [], [Verify(" alice ", None, " pw ")])),
    ("255 octets", (b"\0" + LONG + b"\0" + LONG, [], [Verify(LONG.decode(), None, LONG.decode())])),
    (
        "long authzid",
        (LONG + b"\0" + LONG + b"\0pw", [], [Verify(LONG.decode(), LONG.decode(), "pw")]),
    ),
    ("authcid too long", (b"\0" + TOO_LONG + b"\0pw", [], [MALFORMED])),
    ("password too long", (b"\0alice\0" + TOO_LONG, [], [MALFORMED])),
    ("authzid too long", (TOO_LONG + b"\0alice\0pw", [], [MALFORMED])),
    ("no NUL", (b"alice secret", [], [MALFORMED])),
    ("one NUL", (b"alice\0secret", [], [MALFORMED])),
    ("three NULs", (b"\0alice\0sec\0ret", [], [MALFORMED])),
    ("trailing NUL", (b"\0alice\0secret\0", [], [MALFORMED])),
    ("empty authcid", (b"\0\0secret", [], [MALFORMED])),
    ("empty password", (b"\0alice\0", [], [MALFORMED])),
    ("just NULs", (b"\0\0", [], [MALFORMED])),
    ("bad utf-8 authcid", (b"\0al\xffice\0pw", [], [MALFORMED])),
    ("overlong utf-8", (b"\0\xc0\xafx\0pw", [], [MALFORMED])),
    ("surrogate utf-8", (b"\0\xed\xa0\x80\0pw", [], [MALFORMED])),
    ("bad utf-8 password", (b"\0alice\0\x80", [], [MALFORMED])),
    ("bad utf-8 authzid", (b"\xfe\0alice\0pw", [], [MALFORMED])),
    ("empty after challenge", (None, [b""], [Challenge(b""), MALFORMED])),
    ("step after verify", (b"\0a\0b", [b"\0a\0b"], [Verify("a", None, "b"), PROTOCOL])),
    ("step after failure", (b"junk", [b"\0a\0b"], [MALFORMED, PROTOCOL])),
]

LOGIN_TABLE: list[tuple[str, Row]] = [
    (
        "no ir",
        (
            None,
            [b"alice", b"secret"],
            [Challenge(b"Username:"), Challenge(b"Password:"), Verify("alice", None, "secret")],
        ),
    ),
    (
        "ir is the username",
        (b"alice", [b"secret"], [Challenge(b"Password:"), Verify("alice", None, "secret")]),
    ),
    (
        "empty ir",
        (
            b"",
            [b"alice", b"secret"],
            [Challenge(b"Username:"), Challenge(b"Password:"), Verify("alice", None, "secret")],
        ),
    ),
    (
        "utf-8",
        (
            None,
            ["josé".encode(), "contraseña".encode()],
            [Challenge(b"Username:"), Challenge(b"Password:"), Verify("josé", None, "contraseña")],
        ),
    ),
    (
        "255 octets",
        (LONG, [LONG], [Challenge(b"Password:"), Verify(LONG.decode(), None, LONG.decode())]),
    ),
    ("empty username", (None, [b""], [Challenge(b"Username:"), MALFORMED])),
    ("username too long", (TOO_LONG, [], [MALFORMED])),
    ("NUL in username", (b"ali\0ce", [], [MALFORMED])),
    ("bad utf-8 username", (b"\xff", [], [MALFORMED])),
    ("empty password", (b"alice", [b""], [Challenge(b"Password:"), MALFORMED])),
    ("NUL in password", (b"alice", [b"se\0cret"], [Challenge(b"Password:"), MALFORMED])),
    ("password too long", (b"alice", [TOO_LONG], [Challenge(b"Password:"), MALFORMED])),
    ("bad utf-8 password", (b"alice", [b"\xc3"], [Challenge(b"Password:"), MALFORMED])),
    (
        "step after verify",
        (
            b"alice",
            [b"pw", b"more"],
            [Challenge(b"Password:"), Verify("alice", None, "pw"), PROTOCOL],
        ),
    ),
    ("step after failure", (b"\xff", [b"alice"], [MALFORMED, PROTOCOL])),
]


def run_row(mech: SaslMechanism, row: Row) -> list[SaslStep]:
    initial, responses, _ = row
    results = [mech.start(initial)]
    results.extend(mech.step(r) for r in responses)
    return results


def check(results: list[SaslStep], expected: list[SaslStep | FailureKind]) -> None:
    assert len(results) == len(expected)
    for got, want in zip(results, expected, strict=True):
        if isinstance(want, FailureKind):
            assert isinstance(got, Failure), got
            assert got.kind is want
            assert got.reason
        else:
            assert got == want


@pytest.mark.parametrize(("name", "row"), PLAIN_TABLE, ids=[n for n, _ in PLAIN_TABLE])
def test_plain(name: str, row: Row) -> None:
    check(run_row(PlainMechanism(), row), row[2])


@pytest.mark.parametrize(("name", "row"), LOGIN_TABLE, ids=[n for n, _ in LOGIN_TABLE])
def test_login(name: str, row: Row) -> None:
    check(run_row(LoginMechanism(), row), row[2])


@pytest.mark.parametrize("cls", [PlainMechanism, LoginMechanism])
def test_step_before_start_and_double_start(
    cls: type[PlainMechanism] | type[LoginMechanism],
) -> None:
    step = cls().step(b"\0a\0b")
    assert isinstance(step, Failure)
    assert step.kind is PROTOCOL
    mech = cls()
    assert isinstance(mech.start(None), Challenge)
    again = mech.start(None)
    assert isinstance(again, Failure)
    assert again.kind is PROTOCOL
    assert isinstance(mech.step(b"\0a\0b"), Failure)


def test_verify_repr_hides_password() -> None:
    text = repr(Verify("alice", None, "hunter2"))
    assert "alice" in text
    assert "hunter2" not in text


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("PLAIN", MechanismName.PLAIN),
        ("plain", MechanismName.PLAIN),
        ("Plain", MechanismName.PLAIN),
        ("LOGIN", MechanismName.LOGIN),
        ("login", MechanismName.LOGIN),
        ("CRAM-MD5", None),
        ("SCRAM-SHA-256", None),
        ("", None),
        ("PLAIN ", None),
        ("ＰＬＡＩＮ", None),  # fullwidth letters
        ("plaın", None),  # dotless i: upper() would give "PLAIN"
    ],
)
def test_mechanism_lookup(name: str, expected: MechanismName | None) -> None:
    mech = mechanism(name)
    if expected is None:
        assert mech is None
    else:
        assert mech is not None
        assert mech.name == expected
        assert mech.name == expected.value  # a str for CAPABILITY


def test_mechanism_returns_fresh_instances() -> None:
    a, b = mechanism("PLAIN"), mechanism("PLAIN")
    assert a is not None
    assert b is not None
    assert a is not b
    assert isinstance(a.start(b"\0u\0p"), Verify)
    assert isinstance(b.start(None), Challenge)  # b's state is its own


def test_authenticated_step_exists_for_scram() -> None:
    step: SaslStep = Authenticated("alice", None)
    assert isinstance(step, Authenticated)
    assert step.authcid == "alice"
    assert step.authzid is None


FINAL = (Verify, Authenticated, Failure)


@settings(max_examples=400)
@given(
    name=st.sampled_from(["PLAIN", "LOGIN"]),
    initial=st.one_of(st.none(), st.binary(max_size=300)),
    responses=st.lists(st.binary(max_size=300), max_size=5),
)
def test_mechanisms_never_raise(name: str, initial: bytes | None, responses: list[bytes]) -> None:
    """Fuzz invariant: any bytes give a step; after a final step everything is a Failure."""
    mech = mechanism(name)
    assert mech is not None
    results = [mech.start(initial)]
    results.extend(mech.step(r) for r in responses)
    finished = False
    for step in results:
        assert isinstance(step, Challenge | Verify | Authenticated | Failure)
        if finished:
            assert isinstance(step, Failure)
            assert step.kind is PROTOCOL
        if isinstance(step, FINAL):
            finished = True
        if isinstance(step, Verify):
            assert step.authcid
            assert step.password
            assert step.authzid in (None, step.authcid)
            assert len(step.password.encode()) <= MAX_FIELD_OCTETS


_field_text = st.text(
    st.characters(
        exclude_characters="\x00", categories=("L", "M", "N", "P", "S", "Z", "Cc", "Cf", "Co", "Cn")
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=300)
@given(authcid=_field_text, password=_field_text, with_authzid=st.booleans())
def test_plain_accepts_every_well_formed_message(
    authcid: str, password: str, with_authzid: bool
) -> None:
    authzid = authcid if with_authzid else None
    message = f"{authzid or ''}\0{authcid}\0{password}".encode()
    mech = PlainMechanism()
    assert mech.start(message) == Verify(authcid, authzid, password)


@settings(max_examples=300)
@given(username=_field_text, password=_field_text)
def test_login_accepts_every_well_formed_exchange(username: str, password: str) -> None:
    mech = LoginMechanism()
    assert mech.start(None) == Challenge(b"Username:")
    assert mech.step(username.encode()) == Challenge(b"Password:")
    assert mech.step(password.encode()) == Verify(username, None, password)
