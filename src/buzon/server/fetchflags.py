"""FETCH of flags and numbers only, the resynchronisation a client does on every SELECT.

`UID FETCH 1:* (FLAGS)`, with MODSEQ under CONDSTORE, RFC822.SIZE and INTERNALDATE for
clients that list a mailbox: no MIME structure, no message file, nothing but one lean
query per chunk (`Mailbox.flag_rows`) and one format string (`imap.fetchlines`). Chunks
of thousands of messages go out in one write each. The answers are exactly those of the
general path in `cmd_fetch` (tests/server/test_fetch_flags.py runs both).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from buzon.imap.commands_values import FetchAtt
from buzon.imap.commands_values import FetchItem as Wanted
from buzon.imap.fetchlines import LINE_ITEMS, LineFormat, Row, date_bytes, flag_list_bytes
from buzon.server.selected import SelectedMailbox
from buzon.storage.api import FlagRow, Uid

if TYPE_CHECKING:
    from buzon.server.connection import Connection

# Messages per storage round trip and per write: large enough that the per-chunk costs
# vanish, small enough to bound memory (about 300 KB of output).
_CHUNK = 5000


def line_items(conn: Connection, items: Sequence[Wanted]) -> list[FetchAtt] | None:
    """The items of a FETCH of flags and numbers only; None for any other FETCH."""
    # UIDONLY sessions get UIDFETCH responses: the general path knows how.
    if not items or "UIDONLY" in conn.session.enabled:
        return None
    simple = [item for item in items if isinstance(item, FetchAtt) and item in LINE_ITEMS]
    return simple if len(simple) == len(items) else None


async def fetch_flags(
    conn: Connection, items: Sequence[FetchAtt], uids: Sequence[Uid], changedsince: int | None
) -> bool:
    """Send the FETCH responses for `uids`; True if some were expunged meanwhile.

    RFC 2180 §4.1.2: a message another session expunged, not yet announced, is answered
    with its UID alone when only the UID was asked for, and otherwise left out, the
    command ending NO [EXPUNGEISSUED] (the caller's decision, as in `cmd_fetch`).
    """
    sel = conn.selection
    assert sel is not None
    view = sel.view
    line = LineFormat(items)
    want_size = FetchAtt.RFC822_SIZE in items
    want_date = FetchAtt.INTERNALDATE in items
    only_uid = all(item is FetchAtt.UID for item in items)
    shown = Shown(view)
    missing = False
    for start in range(0, len(uids), _CHUNK):
        chunk = uids[start : start + _CHUNK]
        rows = await sel.mailbox.flag_rows(chunk, size=want_size, internal_date=want_date)
        if len(rows) == len(chunk):
            await conn.send_rendered(line.render(shown.rows(rows, changedsince)))
            continue
        found = {row[0]: row for row in rows}
        lines: list[bytes] = []
        for uid in chunk:
            row = found.get(uid)
            if row is not None:
                lines.append(line.render(shown.rows([row], changedsince)))
                continue
            msn = view.msn_of(uid)
            if only_uid and msn is not None:
                lines.append(line.render([(msn, uid, b"", 0, None, None)]))
            else:
                missing = True
        await conn.send_rendered(b"".join(lines))
    return missing


class Shown:
    """Turns storage rows into line rows: sequence numbers, and flag lists as this
    session shows them (\\Recent only where recent here, `SelectedMailbox.shown_flags`),
    rendered once per distinct set."""

    __slots__ = ("_cache", "_view")

    def __init__(self, view: SelectedMailbox) -> None:
        self._view = view
        self._cache: dict[tuple[frozenset[str], bool], bytes] = {}

    def rows(self, rows: Sequence[FlagRow], changedsince: int | None) -> list[Row]:
        view = self._view
        recent = view.recent
        cache = self._cache
        first = view.msn_of(rows[0][0]) if rows else None
        if first is not None and view.msn_of(rows[-1][0]) == first + len(rows) - 1:
            # The usual case (1:*, n:m): the rows are consecutive in the view.
            msns: Iterable[int | None] = range(first, first + len(rows))
        else:
            msns = [view.msn_of(row[0]) for row in rows]
        out: list[Row] = []
        for msn, (uid, flags, modseq, size, date) in zip(msns, rows, strict=True):
            if msn is None or (changedsince is not None and modseq <= changedsince):
                continue
            key = (flags, uid in recent)
            listed = cache.get(key)
            if listed is None:
                # shown_flags depends on the UID only through recency.
                listed = cache[key] = flag_list_bytes(view.shown_flags(uid, flags))
            out.append((msn, uid, listed, modseq, size, None if date is None else date_bytes(date)))
        return out
