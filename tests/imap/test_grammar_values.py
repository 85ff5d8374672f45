"""Values of the grammar: sequence sets, flags."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from buzon.imap.commands_values import STAR, SeqNumber, SequenceSet, canonical_flag
from buzon.imap.errors import ParseError
from buzon.imap.grammar_base import Parser


@pytest.mark.parametrize(
    ("ranges", "largest", "expected"),
    [
        (((1, STAR),), 5, [(1, 5)]),
        (((STAR, 1),), 5, [(1, 5)]),
        (((5, 3), (1, 1), (2, 2)), 10, [(1, 5)]),
        (((1, 3), (5, 7)), 10, [(1, 3), (5, 7)]),
        (((STAR, STAR),), 0, []),
        (((1, STAR),), 0, [(1, 1)]),
        (((8, STAR),), 5, [(5, 8)]),
        (((4, 4), (4, 6), (7, 9)), 2, [(4, 9)]),
    ],
)
def test_iter_ranges(
    ranges: tuple[tuple[int, int], ...], largest: int, expected: list[tuple[int, int]]
) -> None:
    s = SequenceSet(ranges)
    assert list(s.iter_ranges(largest)) == expected
    assert s.resolve(largest) == [n for lo, hi in expected for n in range(lo, hi + 1)]


def test_huge_range_is_not_materialised() -> None:
    s = SequenceSet(((1, STAR),))
    assert list(s.iter_ranges(4_000_000_000)) == [(1, 4_000_000_000)]
    assert s.contains(3_999_999_999, 4_000_000_000)
    assert not s.contains(4_000_000_001, 4_000_000_000)
    assert s.uses_star


def test_saved_set() -> None:
    s = SequenceSet(saved=True)
    assert str(s) == "$"
    with pytest.raises(ValueError, match=r"\$"):
        list(s.iter_ranges(3))


def test_str() -> None:
    assert str(SequenceSet(((1, STAR), (3, 3), (9, 4)))) == "1:*,3,9:4"
    assert str(SequenceSet.of(1, (2, 5))) == "1,2:5"


@settings(max_examples=200)
@given(
    st.lists(st.tuples(st.integers(1, 60), st.integers(1, 60) | st.just(STAR)), min_size=1),
    st.integers(0, 70),
)
def test_resolve_matches_naive(ranges: list[tuple[SeqNumber, SeqNumber]], largest: int) -> None:
    naive: set[int] = set()
    for a, b in ranges:
        x = largest if a is STAR else a
        y = largest if b is STAR else b
        naive.update(n for n in range(min(x, y), max(x, y) + 1) if n >= 1)
    s = SequenceSet(tuple(ranges))
    assert s.resolve(largest) == sorted(naive)
    spans = list(s.iter_ranges(largest))
    assert all(spans[i][1] + 1 < spans[i + 1][0] for i in range(len(spans) - 1))


@pytest.mark.parametrize(
    ("flag", "canon"),
    [("\\SEEN", "\\Seen"), ("\\answered", "\\Answered"), ("\\recent", "\\Recent"),
     ("\\Custom", "\\Custom"), ("$Junk", "$Junk"), ("seen", "seen")],
)  # fmt: skip
def test_canonical_flag(flag: str, canon: str) -> None:
    assert canonical_flag(flag) == canon


def _read_set(line: bytes, *, stepwise: bool) -> tuple[SequenceSet, int] | str:
    """What the parser makes of a sequence set at the start of `line`: the set and where
    it stopped, or the error text."""
    parser = Parser(line, {}, utf8=False, max_depth=10)
    try:
        found = parser._sequence_set_stepwise() if stepwise else parser.sequence_set()
    except ParseError as exc:
        return str(exc)
    return found, parser.pos


_SET_BYTES = st.lists(
    st.sampled_from(
        [
            b"0",
            b"1",
            b"9",
            b"42",
            b"4294967295",
            b"4294967296",
            b"00",
            b"*",
            b":",
            b",",
            b" ",
            b")",
            b"x",
            b"12345678901",
        ]
    ),
    max_size=12,
).map(b"".join)


@settings(max_examples=1000)
@given(_SET_BYTES)
def test_sequence_set_at_once_matches_stepwise(line: bytes) -> None:
    # The whole-set reading is a shortcut: same set, same stop, same error as a number
    # at a time.
    assert _read_set(line, stepwise=False) == _read_set(line, stepwise=True)


@pytest.mark.parametrize(
    ("line", "ranges", "stop"),
    [
        (b"1,3:5,* FLAGS", ((1, 1), (3, 5), (STAR, STAR)), 7),
        (b"007:4294967295)", ((7, 4294967295),), 14),
        (b"2:*", ((2, STAR),), 3),
    ],
)
def test_sequence_set_read_at_once(
    line: bytes, ranges: tuple[tuple[SeqNumber, SeqNumber], ...], stop: int
) -> None:
    assert _read_set(line, stepwise=False) == (SequenceSet(ranges), stop)
