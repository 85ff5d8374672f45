"""ESORT return options over a sorted result (RFC 5267 §3.1, RFC 9394 §3.2, RFC 5182 §2.4)."""

from __future__ import annotations

import pytest

from buzon.imap.commands import SearchReturn as R
from buzon.imap.responses import ESearchAll, ESearchCount, ESearchMax, ESearchMin, ESearchPartial
from buzon.server import esort
from buzon.storage.api import ModSeq, Uid

# Sort order: UIDs 30, 10, 40, 20 (e.g. REVERSE DATE); their sequence numbers 3, 1, 4, 2.
UIDS = [Uid(30), Uid(10), Uid(40), Uid(20)]
MSNS = [3, 1, 4, 2]


def test_min_max_all_follow_the_sort_order() -> None:
    got = esort.answer(frozenset({R.MIN, R.MAX, R.COUNT, R.ALL}), None, UIDS, MSNS, None)
    assert got.items == (ESearchMin(3), ESearchMax(2), ESearchCount(4), ESearchAll(MSNS, True))
    assert got.saved is None  # no SAVE: "$" untouched


@pytest.mark.parametrize(
    ("returns", "partial", "saved"),
    [
        ({R.SAVE}, None, [10, 20, 30, 40]),
        ({R.SAVE, R.MIN}, None, [30]),
        ({R.SAVE, R.MIN, R.MAX}, None, [20, 30]),
        ({R.SAVE, R.MIN, R.COUNT}, None, [10, 20, 30, 40]),
        # RFC 9394 §3.2 Table 1
        ({R.SAVE, R.PARTIAL}, (2, 3), [10, 40]),
        ({R.SAVE, R.PARTIAL, R.MAX}, (1, 1), [20, 30]),
        ({R.SAVE, R.PARTIAL, R.MIN, R.MAX}, (-2, -1), [20, 30, 40]),
        ({R.SAVE, R.PARTIAL, R.COUNT}, (1, 1), [10, 20, 30, 40]),
    ],
)
def test_save(returns: set[R], partial: tuple[int, int] | None, saved: list[int]) -> None:
    got = esort.answer(frozenset(returns), partial, UIDS, MSNS, None)
    assert got.saved == tuple(saved)
    assert (got.items is None) == (returns == {R.SAVE})  # SAVE alone: no ESEARCH


def test_partial_slices_the_sort_order_and_modseq_covers_what_is_returned() -> None:
    mods = [ModSeq(5), ModSeq(9), ModSeq(7), ModSeq(1)]
    got = esort.answer(frozenset({R.PARTIAL}), (-2, -1), UIDS, UIDS, mods)
    assert got.items is not None
    assert got.items[0] == ESearchPartial(-1, -2, [40, 20], True)
    assert got.items[1].value == 7  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("bounds", "expected"),
    [((1, 2), [0, 1]), ((3, 9), [2, 3]), ((5, 9), []), ((-1, -1), [3]), ((-9, -3), [0, 1])],
)
def test_window(bounds: tuple[int, int], expected: list[int]) -> None:
    assert list(esort.window(4, bounds)) == expected
