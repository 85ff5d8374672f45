"""INPROGRESS (RFC 9585): progress responses from commands that run longer than a second.

Theory of operation
-------------------
`track` wraps the handler of every command the connection loop runs. It arms one timer
(`loop.call_later`, no task: a command that finishes in time costs a timer handle and its
cancellation). When the timer fires, the handler is still running; the callback writes

    * OK [INPROGRESS ("tag" done total)] Still working

and re-arms itself, so a long command sends one line about every `EVERY` seconds. The
timer is cancelled in `track`'s `finally`, before the connection sends untagged updates
and the tagged answer, so no progress line ever follows the command's completion.

The line is written synchronously from the callback, which runs only while the handler is
suspended. Every response is written to the transport whole, except a response with a
large literal that `Connection.send` streams in chunks across awaits; while such a
response is in flight (`Connection.streaming`) the tick is skipped and re-armed, so a
progress line never lands inside another response's bytes.

Counts: a handler that knows how far it is calls `conn.progress.update(done, total)`
(`conn.progress` is set while a command is tracked). Unknown counts are NIL (RFC 9585
§3), and counts are sent only while they are consistent (total > 0, done <= total).

RFC 9585 defines no capability: the response code is an ordinary resp-text-code that a
client not knowing it ignores (RFC 9051 §7.1), so nothing is advertised.

Commands that wait for the client (IDLE, AUTHENTICATE's exchange) and everything before
authentication (LOGIN's failure delay) are not tracked: their time is not the server's work.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from buzon.imap.responses import InProgress, UntaggedStatus
from buzon.imap.words import Status
from buzon.server.outcome import Ok
from buzon.server.session import State

if TYPE_CHECKING:
    from buzon.server.connection import Connection

# RFC 9585 §1: progress for commands that take "a long time"; one line a second at most.
FIRST_AFTER = 1.0
EVERY = 1.0
# While a streamed response is in flight the tick waits this long and tries again.
_RETRY = 0.05
# Commands whose running time is the client's (they wait for client lines).
_UNTRACKED = frozenset({"IDLE", "AUTHENTICATE"})
TEXT = "Still working"


@dataclass(slots=True)
class Progress:
    """How far the running command is; handlers may update it, the timer reads it."""

    tag: str
    done: int | None = None
    total: int | None = None

    def update(self, done: int | None, total: int | None = None) -> None:
        self.done = done
        self.total = total

    def response(self) -> UntaggedStatus:
        """``* OK [INPROGRESS ("tag" done total)] ...`` with NIL for what is unknown."""
        done, total = self.done, self.total
        if total is not None and total <= 0:
            total = None  # RFC 9585 §3: progress-total is a non-zero number or NIL
        if done is not None and (done < 0 or (total is not None and done > total)):
            done = None
        return UntaggedStatus(Status.OK, TEXT, InProgress(self.tag, done, total))


def tracked(conn: Connection, name: str) -> bool:
    """Whether a command of this name gets progress responses in the current state."""
    return conn.session.state is not State.NOT_AUTHENTICATED and name not in _UNTRACKED


async def track(conn: Connection, tag: str, name: str, work: Awaitable[Ok]) -> Ok:
    """Await a handler, sending progress lines while it runs longer than FIRST_AFTER."""
    if not tracked(conn, name):
        return await work
    progress = Progress(tag)
    loop = asyncio.get_running_loop()
    handle: asyncio.TimerHandle | None = None

    def tick() -> None:
        nonlocal handle
        if conn.streaming:
            handle = loop.call_later(_RETRY, tick)
            return
        # False: the connection is gone; the handler will notice.
        sent = conn.write_now(progress.response())
        handle = loop.call_later(EVERY, tick) if sent else None

    handle = loop.call_later(FIRST_AFTER, tick)
    conn.progress = progress
    try:
        return await work
    finally:
        if handle is not None:
            handle.cancel()
        conn.progress = None
