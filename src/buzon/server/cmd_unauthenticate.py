"""UNAUTHENTICATE (RFC 8437): back to the not-authenticated state on the same connection.

Everything the session gained by logging in is dropped, so that the next user inherits
nothing from the previous one (RFC 8437 §8): the selected mailbox (without expunging or
reporting expunges, §3), the NOTIFY registration (§4.1), the ENABLEd extensions (CONDSTORE,
QRESYNC, UTF8=ACCEPT, ...: §4.1), SEARCHRES's saved result (it lives on the selected view),
the account handle, the per-user connection slot and the larger literal limits of a
logged-in client. What stays: TLS and the ID the client sent (§3 leaves ID to the
implementation; it describes the client, not the user). A COMPRESS layer ends after the
tagged OK (§4.1; `Connection.end_compression`).

The command never answers NO (§3): a client may pipeline AUTHENTICATE right after it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from buzon.imap import commands_ext as cx
from buzon.server import notify, rev2, selection
from buzon.server.outcome import Ok
from buzon.server.session import State

if TYPE_CHECKING:
    from buzon.server.connection import Connection

log = logging.getLogger("buzon.imap")


async def handle_unauthenticate(conn: Connection, cmd: cx.Unauthenticate) -> Ok:
    """RFC 8437 §3: reset all connection state except TLS; OK, never NO."""
    session = conn.session
    # RFC 8437 §3: the mailbox ceases to be selected, but no expunge event is generated.
    selection.close(conn)
    # RFC 8437 §4.1: NOTIFY reverts to the base behaviour; ENABLEd extensions cease.
    notify.stop(conn)
    session.enabled.clear()
    rev2.after_enable(conn)  # the reader leaves UTF-8 mode (RFC 6855, RFC 9051)
    log.info(
        "session=%s user=%s peer=%s unauthenticated",
        session.session_id,
        session.user or "-",
        session.peer,
    )
    session.user = None
    session.account = None
    session.state = State.NOT_AUTHENTICATED
    conn.unauthenticated()
    if conn.compressed:
        return Ok(then=conn.end_compression)
    return Ok()
