"""FETCH of ENVELOPE with flags and numbers: the message list a client shows.

`FETCH 1:* (ENVELOPE)`, often with UID, FLAGS, RFC822.SIZE or INTERNALDATE, is how some
clients list a mailbox. The general path (`cmd_fetch`) rebuilds each envelope from the
stored MIME structure, renders it and encodes a response object per message: about 100 µs
a message. Here the storage hands back the rendering it kept for the content
(`Mailbox.envelopes`, `storage/sqlite/envelopes.py`) and each response is one format
string (the `imap.fetchlines` approach), chunks of messages going out in one write.

The first FETCH of a message's envelope renders it (`fetchrender.render_envelope`) and
gives the rendering back to the storage to keep (`Mailbox.keep_envelopes`): one write
per chunk, one at a time, which the answer does not wait for (a chunk rendered while the
previous write runs is kept by a later FETCH). A content never changes, so what is kept
is never stale. What is kept is the rendering for a session without UTF-8 (RFC 6855 §3,
RFC 9051 §4.3); it is also the rendering for a UTF-8 session unless it holds a literal:
a string is sent as a literal without UTF-8 only when it is not a quoted string for a
UTF-8 session either, or is non-ASCII, and only a literal contains CRLF. For those rare
envelopes a UTF-8 session renders from the structure. The answers are exactly those of
the general path (tests/server/test_fetch_envelope.py runs both).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from operator import itemgetter
from typing import TYPE_CHECKING

from buzon.imap.commands_values import FetchAtt
from buzon.imap.commands_values import FetchItem as Wanted
from buzon.imap.fetchlines import LINE_ITEMS, piece
from buzon.imap.fetchrender import render_envelope
from buzon.mime import Envelope
from buzon.server import rev2
from buzon.server.fetchflags import Shown
from buzon.storage.api import Mailbox, MetaItem, Uid

if TYPE_CHECKING:
    from buzon.server.connection import Connection

__all__ = ["EnvelopeLines", "envelope_items", "fetch_envelopes"]

# Messages per storage round trip and per write (about 1 MB of output at most).
_CHUNK = 2000
_ITEMS = LINE_ITEMS | {FetchAtt.ENVELOPE}
_CRLF = b"\r\n"
_META_ENVELOPE = frozenset({MetaItem.ENVELOPE})
# Writes of renderings to keep, still running (`_keep`).
_KEEPING: set[asyncio.Task[None]] = set()

# A Row and the rendered envelope.
EnvelopeRow = tuple[int, int, bytes, int, int | None, bytes | None, bytes]


def envelope_items(conn: Connection, items: Sequence[Wanted]) -> list[FetchAtt] | None:
    """The items of a FETCH of ENVELOPE with flags and numbers; None for any other."""
    # UIDONLY sessions get UIDFETCH responses: the general path knows how.
    if FetchAtt.ENVELOPE not in items or "UIDONLY" in conn.session.enabled:
        return None
    simple = [item for item in items if isinstance(item, FetchAtt) and item in _ITEMS]
    return simple if len(simple) == len(items) else None


class EnvelopeLines:
    """The response lines of one FETCH whose items are ENVELOPE and `LINE_ITEMS`."""

    __slots__ = ("_format", "_pick")

    def __init__(self, items: Sequence[FetchAtt]) -> None:
        if not items or not _ITEMS.issuperset(items):
            raise ValueError(f"not renderable as lines: {items!r}")
        pieces = [(b"ENVELOPE %s", 6) if i is FetchAtt.ENVELOPE else piece(i) for i in items]
        self._format = b"* %d FETCH (" + b" ".join(p for p, _ in pieces) + b")\r\n"
        self._pick = itemgetter(0, *(i for _, i in pieces))

    def render(self, rows: Sequence[EnvelopeRow]) -> bytes:
        fmt = self._format
        pick = self._pick
        return b"".join([fmt % pick(row) for row in rows])


async def fetch_envelopes(
    conn: Connection, items: Sequence[FetchAtt], uids: Sequence[Uid], changedsince: int | None
) -> bool:
    """Send the FETCH responses for `uids`; True if some were expunged meanwhile (the
    caller ends the command NO [EXPUNGEISSUED], RFC 2180 §4.1.2, as `cmd_fetch` does)."""
    sel = conn.selection
    assert sel is not None
    mailbox = sel.mailbox
    lines = EnvelopeLines(items)
    want_size = FetchAtt.RFC822_SIZE in items
    want_date = FetchAtt.INTERNALDATE in items
    utf8 = rev2.utf8(conn.session)
    shown = Shown(sel.view)
    missing = False
    keeping: asyncio.Task[None] | None = None
    for start in range(0, len(uids), _CHUNK):
        chunk = uids[start : start + _CHUNK]
        flag_rows = await mailbox.flag_rows(chunk, size=want_size, internal_date=want_date)
        if len(flag_rows) < len(chunk):
            missing = True  # expunged by another session, not yet announced
        kept = await mailbox.envelopes(chunk)
        fresh: dict[Uid, bytes] = {}
        again: list[Uid] = []
        rows: list[EnvelopeRow] = []
        for row in shown.rows(flag_rows, changedsince):
            uid = Uid(row[1])
            found = kept.get(uid)
            if found is None:
                missing = True  # expunged between the two queries
            elif isinstance(found, bytes):
                if utf8 and _CRLF in found:
                    again.append(uid)  # a literal: perhaps quoted with UTF-8
                rows.append((*row, found))
            else:
                data = fresh[uid] = render_envelope(found)
                if utf8 and _CRLF in data:
                    data = render_envelope(found, utf8=True)
                rows.append((*row, data))
        if again:
            rows = await _utf8_renderings(mailbox, rows, again)
        await conn.send_rendered(lines.render(rows))
        if fresh and (keeping is None or keeping.done()):
            # One write in flight per command, not waited for: the answer does not
            # queue behind other writers. A chunk rendered while the previous write
            # still runs is kept by a later FETCH.
            keeping = _keep(mailbox, fresh)
    return missing


def _keep(mailbox: Mailbox, rendered: dict[Uid, bytes]) -> asyncio.Task[None]:
    task = asyncio.get_running_loop().create_task(mailbox.keep_envelopes(rendered))
    _KEEPING.add(task)  # a reference until done (asyncio keeps only a weak one)
    task.add_done_callback(_KEEPING.discard)
    return task


async def _utf8_renderings(
    mailbox: Mailbox, rows: list[EnvelopeRow], uids: list[Uid]
) -> list[EnvelopeRow]:
    """Rows whose envelope holds a literal, rendered again for a UTF-8 session; rows of
    messages expunged meanwhile keep the other rendering (still a valid answer)."""
    metas = await mailbox.fetch_meta(uids, _META_ENVELOPE)
    envelopes: dict[int, Envelope] = {m.uid: m.envelope for m in metas if m.envelope is not None}
    out: list[EnvelopeRow] = []
    for row in rows:
        envelope = envelopes.get(row[1])
        out.append(row if envelope is None else (*row[:6], render_envelope(envelope, utf8=True)))
    return out
