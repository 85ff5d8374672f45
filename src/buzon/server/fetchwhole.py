"""FETCH of a whole message, or of its header, with flags and numbers.

`UID FETCH 1:* (UID RFC822.SIZE BODY.PEEK[])` is how a client takes a mailbox offline,
and `UID FETCH 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (From Subject ...)])`
how it lists one. The general path (`cmd_fetch`) builds response objects for each
message, runs them through the encoder and copies the message twice more on its way out
(joining a response, joining a write): for 1,000 messages of 33 MB, about 60 µs a message
on the event loop's thread, more than the kernel's own work. Here a response is a format
string before the literal and one after it (the `imap.fetchlines` approach), and the
message bytes go to the transport as they were read (`ResponseWriter.send_parts`: one
`writev` under uvloop, no copy). A header section (`header_item`) comes from the header
stored at delivery (`Mailbox.read_headers`): no message file, no MIME structure.

Only a FETCH that leaves \\Seen alone takes this path: BODY.PEEK[...] (partial or not),
RFC822.HEADER, or BODY[...] and RFC822 in a read-only mailbox (RFC 9051 §6.4.5). The
answers are exactly those of the general path (tests/server/test_fetch_whole.py and
test_fetch_headers.py run both).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from buzon.imap.commands_values import BodySection, FetchAtt, FetchBinary, FetchBody
from buzon.imap.commands_values import FetchItem as Wanted
from buzon.imap.encoder import literal_data
from buzon.imap.fetchlines import LINE_ITEMS, Row, piece
from buzon.imap.sections import (
    apply_partial,
    header_section,
    is_header_section,
    response_name,
    rfc822_section,
)
from buzon.server import fetchbodies, rev2
from buzon.server.fetchflags import Shown
from buzon.storage.api import Uid

if TYPE_CHECKING:
    from buzon.server.connection import Connection

__all__ = ["WholeLines", "fetch_whole", "header_item", "sets_seen", "whole", "whole_items"]

# UIDs per storage query: the messages themselves are read in bounded batches
# (`fetchbodies.Contents`).
_CHUNK = 1000
# Message bytes whose responses are written together.
_HOLD_BYTES = 512 * 1024


def whole(item: Wanted) -> bool:
    """BODY[] or BODY.PEEK[], partial or not: the stored bytes, nothing to locate."""
    return isinstance(item, FetchBody) and not item.section.part and item.section.text is None


def sets_seen(item: Wanted) -> bool:
    """RFC 9051 §6.4.5: BODY[...] (not .PEEK), BINARY[...] and RFC822(.TEXT) set \\Seen."""
    if isinstance(item, FetchBody | FetchBinary):
        return not item.peek
    return item in {FetchAtt.RFC822, FetchAtt.RFC822_TEXT}


def header_item(item: Wanted) -> bool:
    """RFC822.HEADER, or BODY[HEADER...] of the message itself: its stored header will do
    (`Mailbox.read_headers`)."""
    if isinstance(item, FetchBody):
        return is_header_section(item.section)
    return item is FetchAtt.RFC822_HEADER


def _rendered(item: Wanted) -> bool:
    """The whole message (BODY[], RFC822) or its header (`header_item`)."""
    return whole(item) or item is FetchAtt.RFC822 or header_item(item)


def whole_items(conn: Connection, items: Sequence[Wanted]) -> WholeLines | None:
    """The rendering of a FETCH of one whole message, or of its header, with flags and
    numbers, that leaves \\Seen alone; None for any other FETCH."""
    # UIDONLY sessions get UIDFETCH responses: the general path knows how.
    sel = conn.selection
    if sel is None or "UIDONLY" in conn.session.enabled:
        return None
    others = [
        i for i, item in enumerate(items) if not (isinstance(item, FetchAtt) and item in LINE_ITEMS)
    ]
    if len(others) != 1:
        return None
    body = items[others[0]]
    if not _rendered(body):
        return None
    if sets_seen(body) and not sel.view.read_only:
        return None
    line = [item for item in items if isinstance(item, FetchAtt) and item in LINE_ITEMS]
    return WholeLines(line[: others[0]], body, line[others[0] :], utf8=rev2.utf8(conn.session))


class WholeLines:
    """The responses of one FETCH whose items are `before`, a whole message or its header,
    `after`."""

    __slots__ = ("_after", "_head", "_partial", "_tail", "section", "wants_date")

    def __init__(
        self,
        before: Sequence[FetchAtt],
        body: Wanted,
        after: Sequence[FetchAtt],
        *,
        utf8: bool,
    ) -> None:
        if not _rendered(body):
            raise ValueError(f"not a whole message or its header: {body!r}")
        # section: None for the whole message, else the header section to answer.
        self.section: BodySection | None
        if isinstance(body, FetchBody):
            name = response_name(body, utf8=utf8).encode("utf-8")
            self._partial = body.partial
            self.section = None if whole(body) else body.section
        else:  # RFC822 or RFC822.HEADER
            assert isinstance(body, FetchAtt)
            name, self._partial = body.value.encode("ascii"), None
            self.section = None if body is FetchAtt.RFC822 else rfc822_section(body)
        heads = [piece(item) for item in before]
        tails = [piece(item) for item in after]
        # "* 12 FETCH (UID 7 BODY[] {123}\r\n" ... ")\r\n": the values of a Row by index.
        self._head = (
            b"* %d FETCH (" + b"".join(fmt + b" " for fmt, _ in heads) + name + b" {%d}\r\n",
            (0, *(i for _, i in heads)),
        )
        self._tail = b"".join(b" " + fmt for fmt, _ in tails) + b")\r\n"
        self._after = tuple(i for _, i in tails)
        self.wants_date = FetchAtt.INTERNALDATE in before or FetchAtt.INTERNALDATE in after

    def render(self, row: Row, raw: bytes, body_empty: bool = False) -> tuple[bytes, bytes, bytes]:
        """The response for `row` and its message `raw` (or its header, and whether its
        body is empty): before, the literal's data, after."""
        if self.section is None:
            data = literal_data(apply_partial(raw, self._partial))
        else:
            data = literal_data(
                header_section(raw, body_empty, self.section, partial=self._partial)
            )
        fmt, picks = self._head
        head = fmt % (*[row[i] for i in picks], len(data))
        if not self._after:
            return head, data, self._tail
        return head, data, self._tail % tuple(row[i] for i in self._after)


async def fetch_whole(
    conn: Connection, lines: WholeLines, uids: Sequence[Uid], changedsince: int | None
) -> bool:
    """Send the FETCH responses for `uids`; True if some were expunged meanwhile (the
    caller ends the command NO [EXPUNGEISSUED], RFC 2180 §4.1.2, as `cmd_fetch` does)."""
    sel = conn.selection
    assert sel is not None
    shown = Shown(sel.view)
    missing = False
    parts: list[bytes]
    for start in range(0, len(uids), _CHUNK):
        chunk = uids[start : start + _CHUNK]
        flag_rows = await sel.mailbox.flag_rows(chunk, size=True, internal_date=lines.wants_date)
        if len(flag_rows) < len(chunk):
            missing = True  # expunged by another session, not yet announced
        rows = shown.rows(flag_rows, changedsince)
        if lines.section is not None:
            heads = await sel.mailbox.read_headers([Uid(r[1]) for r in rows])
            parts = []
            for row in rows:
                head = heads.get(Uid(row[1]))
                if head is None:
                    missing = True  # expunged between the two queries
                    continue
                parts.extend(lines.render(row, *head))
            await conn.send_parts(parts)
            continue
        contents = fetchbodies.Contents(sel.mailbox, [(Uid(r[1]), r[4] or 0) for r in rows])
        try:
            parts = []
            held = 0
            for row in rows:
                raw = await contents.get(Uid(row[1]))
                if raw is None:
                    missing = True  # expunged between the two queries
                    continue
                parts.extend(lines.render(row, raw))
                held += len(raw)
                if held >= _HOLD_BYTES:
                    await conn.send_parts(parts)
                    parts, held = [], 0
            await conn.send_parts(parts)
        finally:
            contents.close()
    return missing
