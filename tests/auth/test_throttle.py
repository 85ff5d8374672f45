"""Failed-login throttle: growth, cap, window, forgiveness, eviction, address keys."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from buzon.auth.throttle import MAX_FAILURES_PER_CONNECTION, FailureThrottle, address_key


@dataclass
class Clock:
    now: float = 5000.0

    def __call__(self) -> float:
        return self.now


def make(clock: Clock | None = None, **kwargs: float) -> FailureThrottle:
    return FailureThrottle(clock=clock or Clock(), **kwargs)  # type: ignore[arg-type]


def test_max_failures_per_connection() -> None:
    assert MAX_FAILURES_PER_CONNECTION == 3


def test_no_delay_before_first_failure() -> None:
    t = make()
    assert t.delay_for("192.0.2.1", 0) == 0.0
    assert t.address_failures("192.0.2.1") == 0


def test_delay_doubles_then_caps() -> None:
    t = make(base_delay=0.5, max_delay=15.0)
    delays = []
    for _ in range(8):
        t.record_failure("192.0.2.1")
        delays.append(t.delay_for("192.0.2.1", 0))
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 15.0, 15.0]


def test_connection_failures_count_without_address_history() -> None:
    t = make(base_delay=1.0, max_delay=100.0)
    assert t.delay_for("192.0.2.1", 1) == 1.0
    assert t.delay_for("192.0.2.1", 3) == 4.0


def test_larger_count_wins_no_double_counting() -> None:
    t = make(base_delay=1.0, max_delay=100.0)
    for _ in range(4):
        t.record_failure("192.0.2.1")
    assert t.delay_for("192.0.2.1", 2) == 8.0  # the address's 4, not 4 + 2
    assert t.delay_for("192.0.2.1", 6) == 32.0  # the connection's 6
    assert t.delay_for("192.0.2.2", 0) == 0.0  # other addresses are untouched


def test_huge_counts_do_not_overflow() -> None:
    t = make(base_delay=0.5, max_delay=15.0)
    assert t.delay_for("192.0.2.1", 10**6) == 15.0


def test_window_forgets_quiet_addresses() -> None:
    clock = Clock()
    t = make(clock, per_address_window=600.0)
    t.record_failure("192.0.2.1")
    t.record_failure("192.0.2.1")
    clock.now += 599.0
    assert t.address_failures("192.0.2.1") == 2
    t.record_failure("192.0.2.1")  # a failure restarts the window
    clock.now += 599.0
    assert t.address_failures("192.0.2.1") == 3
    clock.now += 1.0
    assert t.address_failures("192.0.2.1") == 0
    assert t.delay_for("192.0.2.1", 0) == 0.0
    assert len(t) == 0


def test_old_records_are_pruned_on_write() -> None:
    clock = Clock()
    t = make(clock, per_address_window=10.0)
    t.record_failure("192.0.2.1")
    t.record_failure("192.0.2.2")
    clock.now += 11.0
    t.record_failure("192.0.2.3")
    assert len(t) == 1


def test_success_halves_the_count() -> None:
    t = make()
    for _ in range(9):
        t.record_failure("192.0.2.1")
    t.record_success("192.0.2.1")
    assert t.address_failures("192.0.2.1") == 4
    t.record_success("192.0.2.1")
    assert t.address_failures("192.0.2.1") == 2
    t.record_success("192.0.2.1")
    t.record_success("192.0.2.1")
    assert t.address_failures("192.0.2.1") == 0
    assert len(t) == 0
    t.record_success("192.0.2.9")  # unknown address: nothing to forgive
    assert len(t) == 0


def test_eviction_of_the_oldest() -> None:
    clock = Clock()
    t = make(clock, max_tracked=3)
    for i in range(1, 5):
        clock.now += 1.0
        t.record_failure(f"192.0.2.{i}")
    assert len(t) == 3
    assert t.address_failures("192.0.2.1") == 0
    assert t.address_failures("192.0.2.4") == 1
    # A new failure moves an address to the back of the queue.
    t.record_failure("192.0.2.2")
    t.record_failure("192.0.2.5")
    assert t.address_failures("192.0.2.2") == 2
    assert t.address_failures("192.0.2.3") == 0


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("192.0.2.1", "192.0.2.1"),
        ("2001:db8::1", "2001:db8::/64"),
        ("2001:db8::ffff:1", "2001:db8::/64"),
        ("2001:db8:0:1::1", "2001:db8:0:1::/64"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("fe80::1%eth0", "fe80::/64"),
        ("/run/buzon.sock", "/run/buzon.sock"),
        ("", ""),
    ],
)
def test_address_key(address: str, key: str) -> None:
    assert address_key(address) == key


def test_ipv6_hosts_in_one_64_share_a_count() -> None:
    t = make()
    t.record_failure("2001:db8::1")
    t.record_failure("2001:db8::2")
    assert t.address_failures("2001:db8::dead:beef") == 2
    assert t.address_failures("2001:db8:1::1") == 0


def test_bad_settings() -> None:
    with pytest.raises(ValueError, match="negative"):
        make(base_delay=-1.0)


@settings(max_examples=300)
@given(
    ops=st.lists(
        st.tuples(
            st.sampled_from(["fail", "ok", "tick"]),
            st.sampled_from(["192.0.2.1", "192.0.2.2", "2001:db8::1", "2001:db8::2", "x"]),
        ),
        max_size=40,
    ),
    connection=st.integers(0, 50),
)
def test_delay_bounds_and_monotonicity(ops: list[tuple[str, str]], connection: int) -> None:
    clock = Clock()
    t = make(clock, base_delay=0.5, max_delay=15.0, per_address_window=100.0, max_tracked=3)
    for op, address in ops:
        if op == "fail":
            t.record_failure(address)
        elif op == "ok":
            t.record_success(address)
        else:
            clock.now += 30.0
        assert len(t) <= 3
    for address in ["192.0.2.1", "2001:db8::1", "x"]:
        d = t.delay_for(address, connection)
        assert 0.0 <= d <= 15.0
        assert t.delay_for(address, connection + 1) >= d
        assert (d == 0.0) == (connection == 0 and t.address_failures(address) == 0)
