"""`query.fold` collapses white space exactly as the regular expression it replaced."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from buzon.storage.query import fold

_RUNS = re.compile(r"\s+")
_CHARS = list(" \t\r\n\x0b\x0c\x1c\x1d\x85\xa0\u2028\u3000abcÉßİ")


@settings(max_examples=500)
@given(st.text(alphabet=st.sampled_from(_CHARS), max_size=40))
def test_fold_equals_the_regular_expression(text: str) -> None:
    assert fold(text) == _RUNS.sub(" ", text).casefold()


def test_examples() -> None:
    assert fold("  Hello\r\n\tWORLD ") == " hello world "
    assert fold("") == ""
    assert fold("\n\n") == " "
    assert fold("Straße") == "strasse"
