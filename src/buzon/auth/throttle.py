"""Failed-login policy: how long to wait before answering a failed authentication.

Theory of operation
-------------------
The session keeps its own count of failures on a connection; this object keeps a count of
recent failures per client address, shared by all connections. After a failed attempt the
session calls `record_failure(address)`, then sleeps `delay_for(address, its_count)` before
it sends NO; after `MAX_FAILURES_PER_CONNECTION` failures it says BYE and closes. A
successful login is answered at once: only failures are ever delayed.

The delay doubles with each failure, starting at `base_delay` and capped at `max_delay`.
It is driven by the larger of the two counts: the address count normally includes the
connection's own failures (each was recorded), so adding them would count twice, while
the connection count still matters when the address history was forgotten (quiet window,
eviction, forgiveness).

An address's count is forgotten once it has seen no failure for `per_address_window`
seconds. At most `max_tracked` addresses are remembered; the least recently failing one is
evicted first. IPv6 clients are tracked per /64 network, since one host can usually pick
any address within its /64 (and would otherwise both evade the count and flood the map).

`record_success(address)` halves the address's count (rounding down) instead of clearing
it. The address may be shared (NAT, an office, a mobile carrier): a success proves that one
client there knows one password, not that the other failures were innocent. Halving lets a
user who mistyped once or twice get back to no delay, while an address that has failed
dozens of times stays at the cap.
"""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["MAX_FAILURES_PER_CONNECTION", "FailureThrottle", "address_key"]

#: After this many failed authentications on one connection the server closes it.
MAX_FAILURES_PER_CONNECTION = 3


@dataclass(slots=True)
class _Record:
    failures: int
    last: float


def address_key(address: str) -> str:
    """The key an address is tracked under: IPv4 as is, IPv6 by /64, anything else verbatim."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class FailureThrottle:
    """Tracks failed logins per address and says how long to delay the next answer."""

    def __init__(
        self,
        *,
        base_delay: float = 0.5,
        max_delay: float = 15.0,
        per_address_window: float = 600.0,
        max_tracked: int = 100000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if base_delay < 0 or max_delay < 0 or per_address_window < 0 or max_tracked < 0:
            raise ValueError("throttle settings must not be negative")
        self._base = base_delay
        self._max = max_delay
        self._window = per_address_window
        self._max_tracked = max_tracked
        self._clock = clock
        self._records: OrderedDict[str, _Record] = OrderedDict()  # oldest failure first

    def delay_for(self, address: str, connection_failures: int) -> float:
        """Seconds to wait before answering a failure; 0.0 if there has been none."""
        failures = max(connection_failures, self.address_failures(address))
        if failures <= 0:
            return 0.0
        # 2**n overflows a float past n ~ 1000; the cap is reached long before.
        exponent = min(failures - 1, 64)
        return min(self._max, self._base * 2.0**exponent)

    def address_failures(self, address: str) -> int:
        """Recent failures counted against this address (0 if none or forgotten)."""
        record = self._live(address_key(address))
        return 0 if record is None else record.failures

    def record_failure(self, address: str) -> None:
        """Count one failed authentication from this address."""
        key = address_key(address)
        now = self._clock()
        record = self._live(key)
        if record is None:
            record = _Record(failures=0, last=now)
            self._records[key] = record
        record.failures += 1
        record.last = now
        self._records.move_to_end(key)
        # Drop the oldest records: any past the window, and as many as the bound requires.
        while self._records:
            oldest = next(iter(self._records.values()))
            if len(self._records) <= self._max_tracked and now - oldest.last < self._window:
                break
            self._records.popitem(last=False)

    def record_success(self, address: str) -> None:
        """Forgive half of the address's recent failures (see the module docstring)."""
        key = address_key(address)
        record = self._live(key)
        if record is None:
            return
        record.failures //= 2
        if record.failures == 0:
            del self._records[key]

    def __len__(self) -> int:
        return len(self._records)

    def _live(self, key: str) -> _Record | None:
        record = self._records.get(key)
        if record is not None and self._clock() - record.last >= self._window:
            del self._records[key]
            return None
        return record
