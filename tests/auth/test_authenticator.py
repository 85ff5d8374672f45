"""Authenticator: verification off the loop, the success cache, the unknown-user path."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import TypeVar

import pytest
from argon2.profiles import CHEAPEST

from buzon.auth import passwords
from buzon.auth.cache import Authenticator
from buzon.auth.passwords import MIN_SCRAM_ITERATIONS, Credentials, make_credentials

T = TypeVar("T")


def run(coro: Coroutine[None, None, T]) -> T:
    return asyncio.run(coro)


def secret_for(password: str) -> str:
    creds = make_credentials(
        password, argon2_params=CHEAPEST, scram_iterations=MIN_SCRAM_ITERATIONS
    )
    return creds.to_secret()


@dataclass
class FakeStore:
    secrets: dict[str, str] = field(default_factory=dict)
    lookups: int = 0

    async def lookup(self, user: str) -> str | None:
        self.lookups += 1
        return self.secrets.get(user)


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class VerifyCounter:
    """Wraps passwords.verify_password to count real (argon2) verifications."""

    real: Callable[[Credentials, str], bool]
    calls: int = 0
    threads: set[int] = field(default_factory=set)
    active: int = 0
    max_active: int = 0
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, creds: Credentials, password: str) -> bool:
        with self.lock:
            self.calls += 1
            self.threads.add(threading.get_ident())
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            if self.delay:
                time.sleep(self.delay)
            return self.real(creds, password)
        finally:
            with self.lock:
                self.active -= 1


@pytest.fixture
def counter(monkeypatch: pytest.MonkeyPatch) -> VerifyCounter:
    c = VerifyCounter(real=passwords.verify_password)
    monkeypatch.setattr(passwords, "verify_password", c)
    return c


@pytest.fixture
def store() -> FakeStore:
    return FakeStore({"alice": secret_for("wonderland"), "bob": secret_for("builder")})


def make_auth(store: FakeStore, **kwargs: object) -> Authenticator:
    return Authenticator(store.lookup, hash_params=CHEAPEST, **kwargs)  # type: ignore[arg-type]


def test_right_and_wrong_password(store: FakeStore, counter: VerifyCounter) -> None:
    async def go() -> None:
        auth = make_auth(store)
        assert await auth.verify("alice", "wonderland")
        assert not await auth.verify("alice", "Wonderland")
        assert not await auth.verify("bob", "wonderland")
        assert await auth.verify("bob", "builder")

    run(go())
    assert counter.calls == 4


def test_second_success_is_cached(store: FakeStore, counter: VerifyCounter) -> None:
    async def go() -> None:
        auth = make_auth(store)
        assert await auth.verify("alice", "wonderland")
        assert await auth.verify("alice", "wonderland")
        assert await auth.verify("alice", "wonderland")
        assert len(auth) == 1

    run(go())
    assert counter.calls == 1
    assert store.lookups == 3  # the secret is looked up every time: that is what invalidates


def test_verification_runs_off_the_event_loop(store: FakeStore, counter: VerifyCounter) -> None:
    async def go() -> int:
        auth = make_auth(store)
        assert await auth.verify("alice", "wonderland")
        assert not await auth.verify("nobody", "x")
        return threading.get_ident()

    loop_thread = run(go())
    assert counter.threads
    assert loop_thread not in counter.threads


def test_failures_are_not_cached(store: FakeStore, counter: VerifyCounter) -> None:
    async def go() -> None:
        auth = make_auth(store)
        for _ in range(3):
            assert not await auth.verify("alice", "wrong")
        assert len(auth) == 0

    run(go())
    assert counter.calls == 3


def test_password_change_invalidates(store: FakeStore, counter: VerifyCounter) -> None:
    async def go() -> None:
        auth = make_auth(store)
        assert await auth.verify("alice", "wonderland")
        store.secrets["alice"] = secret_for("looking-glass")
        assert not await auth.verify("alice", "wonderland")
        assert await auth.verify("alice", "looking-glass")
        assert await auth.verify("alice", "looking-glass")

    run(go())
    assert counter.calls == 3


def test_ttl_expiry(store: FakeStore, counter: VerifyCounter) -> None:
    clock = Clock()

    async def go() -> None:
        auth = make_auth(store, cache_ttl=60.0, clock=clock)
        assert await auth.verify("alice", "wonderland")
        clock.now = 1059.5
        assert await auth.verify("alice", "wonderland")
        assert counter.calls == 1
        clock.now = 1060.0  # 60 s after the success: expired
        assert await auth.verify("alice", "wonderland")
        assert counter.calls == 2

    run(go())


def test_cache_can_be_disabled(store: FakeStore, counter: VerifyCounter) -> None:
    async def go() -> None:
        auth = make_auth(store, cache_ttl=0.0)
        assert await auth.verify("alice", "wonderland")
        assert await auth.verify("alice", "wonderland")
        assert len(auth) == 0

    run(go())
    assert counter.calls == 2


def test_forget(store: FakeStore, counter: VerifyCounter) -> None:
    async def go() -> None:
        auth = make_auth(store)
        assert await auth.verify("alice", "wonderland")
        assert await auth.verify("bob", "builder")
        auth.forget("alice")
        assert len(auth) == 1
        assert await auth.verify("alice", "wonderland")  # verified again
        assert await auth.verify("bob", "builder")  # still cached

    run(go())
    assert counter.calls == 3


def test_lru_bound(counter: VerifyCounter) -> None:
    store = FakeStore({u: secret_for("pw-" + u) for u in "abc"})

    async def go() -> None:
        auth = make_auth(store, max_entries=2)
        assert await auth.verify("a", "pw-a")
        assert await auth.verify("b", "pw-b")
        assert await auth.verify("a", "pw-a")  # a is now the most recently used
        assert await auth.verify("c", "pw-c")  # evicts b
        assert len(auth) == 2
        calls = counter.calls
        assert await auth.verify("a", "pw-a")
        assert await auth.verify("c", "pw-c")
        assert counter.calls == calls
        assert await auth.verify("b", "pw-b")
        assert counter.calls == calls + 1

    run(go())


def test_unknown_user_costs_a_verification(
    store: FakeStore, counter: VerifyCounter, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[str] = []
    real_make = passwords.make_credentials

    def counting_make(password: str, **kwargs: object) -> Credentials:
        made.append(password)
        return real_make(password, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(passwords, "make_credentials", counting_make)

    async def go() -> None:
        auth = make_auth(store)
        assert not await auth.verify("mallory", "wonderland")
        assert not await auth.verify("mallory", "wonderland")
        assert not await auth.verify("trent", "")
        assert len(auth) == 0

    run(go())
    assert counter.calls == 3  # one dummy verification per unknown-user attempt
    assert len(made) == 1  # the dummy hash is made once
    assert made[0] not in ("wonderland", "")


def test_unreadable_secret_fails_like_unknown_user(
    store: FakeStore, counter: VerifyCounter, caplog: pytest.LogCaptureFixture
) -> None:
    store.secrets["carol"] = "plaintext-password-oops"

    async def go() -> tuple[bool, Credentials | None]:
        auth = make_auth(store)
        return await auth.verify("carol", "plaintext-password-oops"), await auth.credentials(
            "carol"
        )

    with caplog.at_level(logging.ERROR, logger="buzon.auth.cache"):
        ok, creds = run(go())
    assert ok is False
    assert creds is None
    assert counter.calls == 1
    assert "carol" in caplog.text
    assert "plaintext-password-oops" not in caplog.text


def test_credentials(store: FakeStore) -> None:
    async def go() -> tuple[Credentials | None, Credentials | None]:
        auth = make_auth(store)
        return await auth.credentials("alice"), await auth.credentials("nobody")

    alice, nobody = run(go())
    assert alice == Credentials.from_secret(store.secrets["alice"])
    assert nobody is None


def test_parallel_verifications_are_bounded(store: FakeStore, counter: VerifyCounter) -> None:
    counter.delay = 0.02

    async def go() -> list[bool]:
        auth = make_auth(store, max_parallel=1)
        return await _gather(
            auth.verify("alice", "wonderland"),
            auth.verify("bob", "builder"),
            auth.verify("alice", "nope"),
            auth.verify("nobody", "nope"),
        )

    assert run(go()) == [True, True, False, False]
    assert counter.max_active == 1


async def _gather(*coros: Coroutine[None, None, bool]) -> list[bool]:
    return list(await asyncio.gather(*coros))


def test_cache_keys_hold_no_password(store: FakeStore) -> None:
    async def go() -> Authenticator:
        auth = make_auth(store)
        assert await auth.verify("alice", "wonderland")
        return auth

    auth = run(go())
    keys = list(auth._cache)
    assert len(keys) == 1
    assert len(keys[0]) == 32
    assert b"wonderland" not in keys[0]
    # Keyed per process: another Authenticator derives another key for the same login.
    other = run(go())
    assert list(other._cache) != keys


def test_bad_settings() -> None:
    store = FakeStore()
    with pytest.raises(ValueError, match="negative"):
        make_auth(store, cache_ttl=-1.0)
    with pytest.raises(ValueError, match="negative"):
        make_auth(store, max_entries=-1)
