"""Password verification with a short-lived cache of successes.

Theory of operation
-------------------
`Authenticator.verify` looks up the user's stored secret on every call (through the
`lookup` callable given by the server, usually `Store.get_user_secret`), then:

1. computes a cache key HMAC-SHA256(k, user, password, secret) with a random key k made when
   the process starts. The cache holds only these keys, the user names (for `forget`) and
   expiry times: no password, and no password hash usable without k. Because the stored
   secret is part of the key, a password change makes old entries unreachable at once;
2. on a live entry, answers True without running argon2;
3. otherwise runs argon2 verification in a worker thread (never on the event loop), with at
   most `max_parallel` verifications at a time so a login flood cannot make the process
   allocate argon2's memory once per pending login;
4. remembers successes for `cache_ttl` seconds in a bounded LRU map. Failures are never
   cached: a wrong password always costs a full verification.

An unknown user (lookup returns None) or an unreadable secret is verified against a dummy
hash made with the same parameters as real ones, so the answer takes about as long as for
a known user with a wrong password.

Caveat: someone who can read this process's memory gets k as well, and can then test
guesses against a cached key much faster than against argon2. Such an attacker could also
read passwords as they arrive, so we accept it; `cache_ttl=0` disables the cache.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from argon2 import Parameters

from buzon.auth import passwords
from buzon.auth.passwords import DEFAULT_ARGON2_PARAMS, Credentials, InvalidSecretError

__all__ = ["Authenticator", "SecretLookup"]

log = logging.getLogger(__name__)

#: Returns the stored secret string of a user (see `Credentials.to_secret`), or None.
SecretLookup = Callable[[str], Awaitable[str | None]]


@dataclass(slots=True)
class _Entry:
    user: str
    expires: float


class Authenticator:
    """Verifies user/password pairs against stored credentials, caching successes."""

    def __init__(
        self,
        lookup: SecretLookup,
        *,
        cache_ttl: float = 300.0,
        max_entries: int = 10000,
        hash_params: Parameters = DEFAULT_ARGON2_PARAMS,
        max_parallel: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 0 or cache_ttl < 0:
            raise ValueError("cache_ttl and max_entries must not be negative")
        self._lookup = lookup
        self._ttl = cache_ttl
        self._max_entries = max_entries
        self._hash_params = hash_params
        self._clock = clock
        self._key = secrets.token_bytes(32)
        self._cache: OrderedDict[bytes, _Entry] = OrderedDict()
        self._slots = asyncio.Semaphore(max_parallel or os.cpu_count() or 2)
        self._dummy: Credentials | None = None

    # --- public ---------------------------------------------------------------------------

    async def verify(self, user: str, password: str) -> bool:
        """True if `password` is the user's password. Takes argon2 time unless cached.

        Errors from `lookup` (a storage outage, say) propagate: they are not a wrong password.
        """
        secret = await self._lookup(user)
        if secret is None:
            await self._verify_dummy(password)
            return False
        key = self._cache_key(user, password, secret)
        if self._cached(key):
            return True
        creds = _parse(user, secret)
        if creds is None:
            await self._verify_dummy(password)
            return False
        async with self._slots:
            ok = await asyncio.to_thread(passwords.verify_password, creds, password)
        if ok:
            self._remember(key, user)
        return ok

    async def credentials(self, user: str) -> Credentials | None:
        """The user's stored credentials (for mechanisms such as SCRAM), or None."""
        secret = await self._lookup(user)
        return None if secret is None else _parse(user, secret)

    def forget(self, user: str) -> None:
        """Drop every cached success of this user (e.g. when the account is disabled)."""
        # A scan: keys are HMACs, so they cannot be found from the user name; the map is
        # bounded by max_entries and forget() is rare.
        for key in [k for k, e in self._cache.items() if e.user == user]:
            del self._cache[key]

    def clear(self) -> None:
        """Drop every cached success."""
        self._cache.clear()

    def __len__(self) -> int:
        return len(self._cache)

    # --- cache ----------------------------------------------------------------------------

    def _cache_key(self, user: str, password: str, secret: str) -> bytes:
        mac = hmac.new(self._key, digestmod=hashlib.sha256)
        for part in (user, password, secret):
            data = part.encode("utf-8", "surrogatepass")
            mac.update(len(data).to_bytes(8, "big"))  # length prefix: no ambiguous joins
            mac.update(data)
        return mac.digest()

    def _cached(self, key: bytes) -> bool:
        entry = self._cache.get(key)
        if entry is None:
            return False
        if entry.expires <= self._clock():
            del self._cache[key]
            return False
        self._cache.move_to_end(key)
        return True

    def _remember(self, key: bytes, user: str) -> None:
        if self._ttl <= 0 or self._max_entries == 0:
            return
        self._cache[key] = _Entry(user=user, expires=self._clock() + self._ttl)
        self._cache.move_to_end(key)
        while len(self._cache) > self._max_entries:
            self._cache.popitem(last=False)

    # --- the unknown-user path ------------------------------------------------------------

    async def _verify_dummy(self, password: str) -> None:
        """Spend the time a real verification would, so unknown users are not revealed."""
        async with self._slots:
            if self._dummy is None:
                # Made once, lazily, with the real parameters; the password is thrown away.
                self._dummy = await asyncio.to_thread(
                    passwords.make_credentials,
                    secrets.token_urlsafe(24),
                    argon2_params=self._hash_params,
                    scram_iterations=passwords.MIN_SCRAM_ITERATIONS,
                )
            await asyncio.to_thread(passwords.verify_password, self._dummy, password)


def _parse(user: str, secret: str) -> Credentials | None:
    try:
        return Credentials.from_secret(secret)
    except InvalidSecretError as e:
        log.error("stored credentials of user %r are unreadable: %s", user, e)
        return None
