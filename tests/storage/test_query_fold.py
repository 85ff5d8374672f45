"""`query.fold` collapses white space exactly as the regular expression it replaced."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from buzon.storage.query import fold

_RUNS = re.compile(r"\s+")
# Every white space class (ASCII, C1, Zs, Zl), unprintable non-space ("\x00", U+200B),
# and letters whose case fold changes length or context (ß, İ, final sigma).
_CHARS = list(" \t\r\n\x0b\x0c\x1c\x1d\x1f\x85\xa0\u1680\u2028\u3000\x00\u200babcÉßİΣς")


_MOSTLY_WORDS = [*list("abcÉßİΣς ") * 8, *_CHARS]  # often nothing to collapse


@settings(max_examples=1000)
@given(
    st.one_of(
        st.text(alphabet=st.sampled_from(_CHARS), max_size=40),
        st.text(alphabet=st.sampled_from(_MOSTLY_WORDS), max_size=40),
    )
)
def test_fold_equals_the_regular_expression(text: str) -> None:
    assert fold(text) == _RUNS.sub(" ", text).casefold()


def test_examples() -> None:
    assert fold("  Hello\r\n\tWORLD ") == " hello world "
    assert fold("") == ""
    assert fold("\n\n") == " "
    assert fold("Straße") == "strasse"
    assert fold("Plain Subject") == "plain subject"  # nothing to collapse
    assert fold("a  b\u200b") == "a b\u200b"
