"""UIDONLY (RFC 9586): a session that names messages by UID only, never by number.

Theory of operation
-------------------
After `ENABLE UIDONLY` (RFC 9586 §3) the session neither accepts nor sends message
sequence numbers. Three decisions implement that, each made in one place:

- Refusing: `uses_msn` says whether a command names messages by number (FETCH, STORE,
  COPY, MOVE, REPLACE, SEARCH, SORT and THREAD without UID, a sequence-number search key in
  any search program, SELECT's QRESYNC sequence match data). The connection's dispatch
  (`connection._execute`) asks it before running the handler and answers
  `BAD [UIDREQUIRED]` (RFC 9586 §3.2).
- Rendering: `render` turns every `* n FETCH` a handler or the selected-mailbox sync
  produces into `* uid UIDFETCH` (RFC 9586 §3.3), in the connection's writer, so no handler
  decides it. Every FETCH a UIDONLY session can cause carries the UID item (UID FETCH and
  UID STORE answers, unsolicited flag updates, QRESYNC resync), which becomes the number;
  the item itself is dropped as redundant.
- Expunges: the selected-mailbox sync reports them as `* VANISHED` (RFC 9586 §3.4), as
  under QRESYNC, without turning on MODSEQ in flag updates (`selection.sync`).

What stays: EXISTS (the client still learns the mailbox grew), RECENT, FLAGS, VANISHED
(EARLIER) from SELECT (QRESYNC) and UID FETCH (VANISHED). SELECT leaves out the UNSEEN
response code, which is a sequence number. UID SEARCH answers with UIDs as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from buzon.imap import commands as c
from buzon.imap import commands_ext as cx
from buzon.imap import searchkeys as k
from buzon.imap.responses import Code, FetchData, FetchUid, Response, UidFetchData
from buzon.imap.words import ResponseCode
from buzon.server.outcome import Bad
from buzon.server.selection import UIDONLY

if TYPE_CHECKING:
    from buzon.server.connection import Connection

__all__ = ["UIDONLY", "check", "enabled", "has_msn", "render", "uses_msn"]

_BY_NUMBER = c.Fetch | c.Store | c.Copy | c.Move | c.Search | cx.Sort | cx.Thread | cx.Replace


def enabled(conn: Connection) -> bool:
    return UIDONLY in conn.session.enabled


def has_msn(key: k.SearchKey) -> bool:
    """Whether a search program names messages by sequence number ("$" is a UID set)."""
    return any(
        isinstance(leaf, k.SequenceKey) and not leaf.sequence_set.saved for leaf in k.leaves(key)
    )


def uses_msn(command: object) -> bool:
    """Whether `command` uses message sequence numbers (RFC 9586 §3.2)."""
    if isinstance(command, _BY_NUMBER) and not command.uid:
        return True
    if isinstance(command, c.Search | cx.Sort | cx.Thread | cx.Esearch):
        return has_msn(command.key)
    if isinstance(command, c.Select | c.Examine):
        # RFC 7162 §3.2.5: the optional match data pairs message numbers with UIDs.
        return command.qresync is not None and command.qresync.seq_match is not None
    return False


def check(conn: Connection, command: object) -> None:
    """RFC 9586 §3.2: BAD [UIDREQUIRED] for a command with sequence numbers."""
    if enabled(conn) and uses_msn(command):
        raise Bad(
            "Message numbers are not allowed once UIDONLY is enabled",
            Code(ResponseCode.UIDREQUIRED),
        )


def render(response: Response) -> Response:
    """RFC 9586 §3.3: `* n FETCH (UID u ...)` becomes `* u UIDFETCH (...)`."""
    if not isinstance(response, FetchData):
        return response
    uid: int | None = None
    rest = []
    for item in response.items:
        if isinstance(item, FetchUid):
            uid = item.uid
        else:
            rest.append(item)
    if uid is None:
        # Only a command with sequence numbers answers without UID, and those are refused.
        return response
    return UidFetchData(uid, tuple(rest))
