"""A header line's alternatives are folded in one call, exactly as one by one."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from buzon.storage.fields import ALT, _fold_alternatives
from buzon.storage.query import fold

_CHARS = list(" \t\r\n\x00\x0b\x1c\x85\xa0\u2028\u3000aBcÉßİΣς")


@settings(max_examples=500)
@given(st.lists(st.text(alphabet=st.sampled_from(_CHARS), max_size=12), min_size=1, max_size=5))
def test_fold_alternatives_equals_folding_each(alternatives: list[str]) -> None:
    assert _fold_alternatives(alternatives) == ALT.join(fold(a) for a in alternatives)


def test_examples() -> None:
    assert _fold_alternatives(["Bob  SMITH ", " bob@X"]) == "bob smith \t bob@x"
    assert _fold_alternatives(["a\x00b", "C"]) == "a\x00b\tc"  # NUL in a value: one by one
    assert _fold_alternatives([""]) == ""
