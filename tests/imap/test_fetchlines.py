"""`imap.fetchlines` renders exactly what the general encoder renders for the same items."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.imap.fetchitems import Row, general_item

from buzon.imap.commands_values import FetchAtt
from buzon.imap.encoder import encode
from buzon.imap.fetchlines import LINE_ITEMS, LineFormat, date_bytes, flag_list_bytes
from buzon.imap.responses import (
    FetchData,
)

FLAG_WORDS = ["\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft", "\\Recent", "$Label1"]
numbers = st.integers(1, 2**32 - 1)
dates = st.datetimes(
    min_value=dt.datetime(1970, 1, 2), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC)
)


@given(
    items=st.lists(st.sampled_from(sorted(LINE_ITEMS, key=str)), min_size=1, max_size=6),
    rows=st.lists(
        st.tuples(
            numbers, numbers, st.frozensets(st.sampled_from(FLAG_WORDS)), numbers, numbers, dates
        ),
        max_size=5,
    ),
)
def test_lines_equal_the_general_encoder(
    items: list[FetchAtt],
    rows: list[Row],
) -> None:
    expected = b"".join(
        encode(FetchData(row[0], tuple(general_item(i, row) for i in items))) for row in rows
    )
    rendered = LineFormat(items).render(
        (msn, uid, flag_list_bytes(fl), ms, size, date_bytes(d))
        for msn, uid, fl, ms, size, d in rows
    )
    assert rendered == expected


def test_only_line_items_are_accepted() -> None:
    with pytest.raises(ValueError, match="not renderable"):
        LineFormat([FetchAtt.UID, FetchAtt.ENVELOPE])
    with pytest.raises(ValueError, match="not renderable"):
        LineFormat([])


def test_bad_flag_is_refused_as_by_the_encoder() -> None:
    with pytest.raises(ValueError, match="not a valid flag"):
        flag_list_bytes(frozenset({"bad flag"}))
