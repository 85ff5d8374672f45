"""IDLE (RFC 2177, RFC 9051 §6.3.13): changes reach the client as they are committed."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from buzon.imap import commands as c
from buzon.imap.responses import Continuation, UntaggedStatus
from buzon.imap.words import Status
from buzon.server import notify, selection
from buzon.server.outcome import Bad, Bye, Ok
from buzon.server.session import Wakeup

if TYPE_CHECKING:
    from buzon.server.connection import Connection


async def handle_idle(conn: Connection, cmd: c.Idle) -> Ok:
    """Report changes until the client sends DONE; keep-alives while nothing happens."""
    limits = conn.ctx.settings.limits
    await conn.send(Continuation("idling"))
    conn.clear_wakeup()
    # Changes committed just before IDLE began are reported now, not at the next event.
    await selection.sync(conn, allow_expunge=True)
    await notify.deliver(conn)  # RFC 5465 §4: IDLE sends the events NOTIFY asked for
    started = last_sent = time.monotonic()
    while True:
        now = time.monotonic()
        # RFC 9051 §5.4: the autologout timer runs during IDLE too (at least 30 minutes).
        remaining = started + limits.idle_timeout - now
        if remaining <= 0:
            raise Bye("Autologout; idle for too long")
        wait = min(remaining, max(0.0, last_sent + limits.idle_keepalive - now))
        got = await conn.idle_wait(wait)
        if got is Wakeup.CHANGE:
            await selection.sync(conn, allow_expunge=True)
            await notify.deliver(conn)
            last_sent = time.monotonic()
        elif got is Wakeup.TIMER:
            if time.monotonic() - last_sent >= limits.idle_keepalive:
                await conn.send(UntaggedStatus(Status.OK, "Still here"))
                last_sent = time.monotonic()
        elif got.strip().upper() == b"DONE":
            return Ok("IDLE terminated")
        else:
            raise Bad("Expected DONE to end IDLE")
