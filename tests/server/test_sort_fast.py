"""The fast SORT and THREAD paths give exactly what the reference implementations give.

SORT: `Mailbox.sort` (SQL ORDER BY, `storage/sqlite/ordering.py`) against
`server.sorting.sort_uids` over `Mailbox.sort_fields`. THREAD: `server.threading_` over
`Mailbox.thread_rows` against the original algorithm over `SortFields`
(tests/server/threading_reference.py). On random mailboxes: dates in many zones, with and
without microseconds, before and after 1970, unreadable Date: headers, subjects and
addresses that differ in case and accents, duplicate and missing Message-IDs, references
that form chains, loops and missing parents.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from buzon.imap.commands_ext import SortCriterion, SortKey
from buzon.server import sorting, threading_
from buzon.storage import query as q
from buzon.storage.api import AppendRequest, Mailbox, Uid
from buzon.storage.sqlite.ordering import python_micros
from buzon.storage.sqlite.store import SqliteStore
from tests.server import threading_reference as reference

_WORDS = ["alpha", "Alpha", "beta", "Éclair", "éclair", "zeta", "", "a"]
_ZONES = [
    dt.timedelta(hours=h, minutes=m) for h, m in ((0, 0), (5, 30), (-8, 0), (14, 0), (-3, -30))
]

dates = st.builds(
    lambda base, zone, micro: (base.replace(microsecond=micro)).replace(tzinfo=dt.timezone(zone)),
    st.datetimes(min_value=dt.datetime(1950, 1, 1), max_value=dt.datetime(2040, 1, 1)),
    st.sampled_from(_ZONES),
    st.sampled_from([0, 0, 1, 999_999, 500_000]),
)

message = st.fixed_dictionaries(
    {
        "subject": st.tuples(
            st.sampled_from(["", "Re: ", "Fwd: ", "[list] "]), st.sampled_from(_WORDS)
        ),
        "sender": st.sampled_from(["ann", "Bob", "bob", "Zoë", "émile", ""]),
        "to": st.sampled_from(["x", "Y", ""]),
        "date": st.one_of(st.none(), dates, st.just("not a date")),
        "internal": dates,
        "id": st.sampled_from([None, "1", "2", "3", "4", "5", "6"]),
        "refs": st.lists(st.sampled_from(["1", "2", "3", "4", "5", "6", "gone"]), max_size=3),
        "pad": st.integers(0, 40),
    }
)


def _raw(m: dict[str, object]) -> bytes:
    subject = m["subject"]
    assert isinstance(subject, tuple)
    lines = ["Subject: " + "".join(subject)]
    if m["sender"]:
        lines.append(f"From: {m['sender']} <{m['sender']}@example.org>")
    if m["to"]:
        lines.append(f"To: {m['to']}@example.org")
    date = m["date"]
    if isinstance(date, dt.datetime):
        lines.append("Date: " + date.strftime("%a, %d %b %Y %H:%M:%S %z"))
    elif date is not None:
        lines.append(f"Date: {date}")
    if m["id"] is not None:
        lines.append(f"Message-ID: <{m['id']}@x>")
    refs = m["refs"]
    assert isinstance(refs, list)
    if refs:
        lines.append("References: " + " ".join(f"<{r}@x>" for r in refs))
    pad = m["pad"]
    assert isinstance(pad, int)
    body = "x" * pad
    return ("\r\n".join(lines) + "\r\n\r\n" + body + "\r\n").encode()


criteria = st.lists(
    st.builds(SortCriterion, st.sampled_from(list(SortKey)), st.booleans()), min_size=1, max_size=3
)


def _shape(trees: list[threading_.Tree] | list[reference.Tree]) -> list[object]:
    def one(t: threading_.Tree | reference.Tree) -> object:
        return (t.uid(), [one(c) for c in t.children])

    return [one(t) for t in trees]


async def _check(inbox: Mailbox, sorts: list[list[SortCriterion]], subset: q.Query) -> None:
    uids = list((await inbox.search(q.MatchAll())).uids)
    fields = await inbox.sort_fields(uids)
    chosen = set((await inbox.search(subset)).uids)
    for crit in sorts:
        expected = sorting.sort_uids(fields, crit)
        got = await inbox.sort(q.MatchAll(), sorting.orders(crit))
        assert list(got.uids) == expected, crit
        some = await inbox.sort(subset, sorting.orders(crit))
        assert list(some.uids) == [u for u in expected if u in chosen], crit
    rows = await inbox.thread_rows(q.MatchAll())
    assert rows == [threading_.row_of(f) for f in fields]
    assert _shape(threading_.references(rows)) == _shape(reference.references(fields))
    assert _shape(threading_.ordered_subject(rows)) == _shape(reference.ordered_subject(fields))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(message, min_size=1, max_size=14), st.lists(criteria, min_size=1, max_size=4))
def test_fast_paths_equal_the_reference(
    msgs: list[dict[str, object]], sorts: list[list[SortCriterion]]
) -> None:
    async def body(data_dir: Path) -> None:
        store = await SqliteStore.open(data_dir, synchronous_full=False)
        try:
            await store.create_user("alice", "x")
            inbox = await (await store.open_account("alice")).open_mailbox("INBOX")
            requests = [
                AppendRequest(_raw(m), internal_date=m["internal"])  # type: ignore[arg-type]
                for m in msgs
            ]
            await inbox.append(requests)
            odd = q.UidRanges.of([Uid(u) for u in range(1, len(msgs) + 1, 2)])
            await _check(inbox, sorts, odd)
        finally:
            await store.close()

    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(body(Path(tmp)))


def test_python_micros_is_exact() -> None:
    when = dt.datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=dt.timezone(-_ZONES[2]))
    assert python_micros(when.isoformat()) == -500_000 - 8 * 3600 * 1_000_000
