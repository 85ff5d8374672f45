"""Telling the sessions parked in IDLE of a change without waking each one's task.

Theory of operation
-------------------
A session in IDLE (RFC 2177) spends its life in `Connection.idle_wait`, its task blocked
until the client sends DONE or a change notice wakes it. Waking 10,000 tasks for one APPEND
costs, per task, an event, two or three task steps, a timer, a shared query's future, and a
write; most of the time to tell every idler was that, not the query they share.

So a notice for a session *parked* in `idle_wait` (`Connection.parked`) does not wake its
task: `Connection.wake` queues the connection here, and one task, `IdleFanOut._run`, does
for all queued sessions what `selection.sync` would do in each:

1. group them by (mailbox, the modseq their view is at) and run one `ChangeFeed.changes`
   per group (the same single-flight the woken sessions use);
2. for each session, still parked on the same selection: apply the changes to its view,
   drain the view into responses exactly as `selection.sync` does (`drain_responses`:
   sequence numbers are the session's own; CONDSTORE/QRESYNC, UIDONLY and IMAP4rev2 are
   honoured; `Connection.push` renders UIDONLY forms), and write them to the transport at
   once. Responses are encoded once per batch and shared: 10,000 sessions at the same
   state send the same `* 21 EXISTS`.

Untagged responses may be sent at any time during IDLE, and the session's task is not
running while it is parked, so nothing interleaves with its own output. Everything else
goes the ordinary way (`Connection.rouse`: the task wakes and runs `selection.sync`):
sessions that left `idle_wait` meanwhile, NOTIFY sessions (RFC 5465 events are delivered by
their own task), connections whose output is paused by back-pressure, and a failed query.

\\Recent (RFC 3501 §2.3.2): the first read-write, non-rev2 session of the batch that finds
new messages reserves them in the feed (no other session will claim them) and its claim
transaction starts; its responses wait for the claim's result (a done-callback writes them;
the batch goes on without waiting). If the session leaves IDLE before that,
`selection.sync` takes the claim over (`Selection.claim`), so its EXISTS is never sent
without its RECENT.

A notice that arrives while a batch's query runs queues the session again; its `dirty`
flag is cleared only when the changes applied cover the latest modseq announced, so a
session that leaves IDLE meanwhile still pulls what it has not seen.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import TYPE_CHECKING

from buzon.imap.responses import Response
from buzon.server import selection as sel_mod
from buzon.storage.api import Mailbox, ModSeq, Uid

if TYPE_CHECKING:
    from buzon.server.connection import Connection
    from buzon.server.selection import Selection

log = logging.getLogger(__name__)

# Encoded responses shared within one batch, keyed by (response, UTF-8 mode).
RenderCache = dict[tuple[Response, bool], bytes]


class IdleFanOut:
    """Delivers change notices to parked IDLE sessions from one task (see module doc)."""

    __slots__ = ("_pending", "_task")

    def __init__(self) -> None:
        self._pending: dict[Connection, None] = {}  # an insertion-ordered set
        self._task: asyncio.Task[None] | None = None

    def add(self, conn: Connection) -> None:
        """Queue a parked session that a notice concerns (from `Connection.wake`)."""
        self._pending[conn] = None
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        try:
            while self._pending:
                batch = list(self._pending)
                self._pending.clear()
                try:
                    await self._deliver(batch)
                except Exception:  # never leave a session untold: wake them all
                    log.exception("IDLE fan-out failed; waking the sessions")
                    for conn in batch:
                        conn.rouse()
        finally:
            self._task = None

    async def _deliver(self, batch: list[Connection]) -> None:
        groups: dict[tuple[str, int], list[tuple[Connection, Selection]]] = {}
        for conn in batch:
            selection = conn.selection
            if selection is None:
                continue  # unselected since: nothing to tell
            if not _parked(conn, selection):
                conn.rouse()
                continue
            key = (selection.mailbox.info.mailbox_id, int(selection.view.highest_modseq))
            groups.setdefault(key, []).append((conn, selection))
        cache: RenderCache = {}
        for (mailbox_id, since), members in groups.items():
            feed = members[0][0].ctx.feed
            try:
                changes = await feed.changes(members[0][1].mailbox, ModSeq(since))
            except Exception:
                log.exception("change query for IDLE sessions failed; waking them")
                for conn, _selection in members:
                    conn.rouse()
                continue
            for conn, selection in members:
                if not _parked(conn, selection):
                    conn.rouse()  # its own sync pulls the changes (dirty is still set)
                    continue
                view = selection.view
                view.apply(changes)
                if feed.announced_modseq(mailbox_id) <= changes.highest_modseq:
                    selection.dirty = False
                new = view.pending_new()
                if new and sel_mod.claims_recent(conn, view):
                    wanted = feed.reserve(mailbox_id, new)
                    if wanted:
                        claim: asyncio.Future[tuple[Uid, ...]] = asyncio.ensure_future(
                            _claim(selection.mailbox, wanted)
                        )
                        selection.claim = claim
                        # Its own task, so that the next batch need not wait for the commit.
                        claim.add_done_callback(functools.partial(_claimed, conn, selection))
                        continue
                conn.push(sel_mod.drain_responses(conn, view, allow_expunge=True), cache)


def _claimed(
    conn: Connection, selection: Selection, claim: asyncio.Future[tuple[Uid, ...]]
) -> None:
    """The claim the fan-out started for `conn` finished: tell the session now."""
    if selection.claim is not claim:
        return  # left IDLE: `selection.sync` took the claim over
    if not _parked(conn, selection, claiming=True):
        conn.rouse()  # its `selection.sync` takes the claim over
        return
    selection.claim = None
    selection.view.note_recent(() if claim.cancelled() else claim.result())
    conn.push(sel_mod.drain_responses(conn, selection.view, allow_expunge=True), {})


def _parked(conn: Connection, selection: Selection, *, claiming: bool = False) -> bool:
    """The session waits in IDLE on this selection and its output may be written now."""
    return (
        conn.parked
        and conn.selection is selection
        and (claiming or selection.claim is None)
        and conn.notifier is None
        and conn.writable
    )


async def _claim(mailbox: Mailbox, wanted: list[Uid]) -> tuple[Uid, ...]:
    """Claim \\Recent; a failure leaves the messages recent to no session, never two."""
    try:
        return await mailbox.claim_recent(wanted)
    except Exception:
        log.exception("claiming \\Recent for an IDLE session failed")
        return ()
