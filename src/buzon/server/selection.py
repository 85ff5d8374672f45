"""The selected mailbox of a session: its view, its change subscription, and syncing.

Theory of operation
-------------------
SELECT and EXAMINE open a storage `Mailbox`, build a `SelectedMailbox` view from its
snapshot and subscribe to the account's change bus. A notice about the selected mailbox
only marks the selection dirty; the changes themselves are pulled with `changes_since`
when the session may report them: after every command, before its tagged response
(RFC 9051 §7: untagged updates are sent when a command completes), with EXPUNGE held back
while a command that uses sequence numbers runs (RFC 3501 §7.4.1). Own changes take the same
path, so a client sees one truth however a change was made.

A session parked in IDLE is the exception: its task is not woken; `server/fanout.py` pulls,
drains (`drain_responses`, the same code as `sync`) and writes for all such sessions at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from buzon.imap.responses import (
    ExistsData,
    ExpungeData,
    FetchData,
    FetchFlags,
    FetchModSeq,
    FetchUid,
    FlagsData,
    PermanentFlags,
    RecentData,
    Response,
    UntaggedStatus,
    VanishedData,
)
from buzon.imap.words import Flag, FlagWord, Status
from buzon.server import rev2
from buzon.server.selected import (
    Exists,
    Expunged,
    FlagsChanged,
    KeywordsChanged,
    Recent,
    SelectedMailbox,
    Update,
    Vanished,
)
from buzon.storage.api import (
    ChangeNotice,
    Changes,
    Mailbox,
    MailboxChanged,
    ModSeq,
    Subscription,
    Uid,
)

if TYPE_CHECKING:
    from buzon.server.connection import Connection

CONDSTORE = "CONDSTORE"
QRESYNC = "QRESYNC"
UIDONLY = "UIDONLY"  # RFC 9586; the rest of it is in server/uidonly.py

# RFC 9051 §2.3.2: the system flags a client may set (\Recent is the server's).
SYSTEM_FLAGS: tuple[Flag, ...] = (
    Flag.ANSWERED,
    Flag.FLAGGED,
    Flag.DELETED,
    Flag.SEEN,
    Flag.DRAFT,
)


class ChangeFeed:
    """Shares `changes_since` queries among the sessions one commit wakes.

    Ten thousand sessions idling on one mailbox all wake for the same commit and would
    each run the same query. A query is shared when the mailbox, the starting modseq and
    the latest modseq announced on the bus are the same: a query created after the notice
    of modseq m was seen returns everything up to m at least, which is all a session woken
    by that notice needs. \\Recent claims are skipped for messages a session of this
    process already claims (claims are final, so a skipped claim would find nothing).
    """

    __slots__ = ("_announced", "_claimed", "_inflight")

    def __init__(self) -> None:
        self._announced: dict[str, int] = {}
        self._claimed: dict[str, int] = {}
        self._inflight: dict[tuple[str, int, int], asyncio.Future[Changes]] = {}

    def announced(self, mailbox_id: str, modseq: int) -> None:
        """The bus reported a commit at `modseq` (called from `Selection.on_notice`)."""
        if modseq > self._announced.get(mailbox_id, 0):
            self._announced[mailbox_id] = modseq

    async def changes(self, mailbox: Mailbox, since: ModSeq) -> Changes:
        mailbox_id = mailbox.info.mailbox_id
        key = (mailbox_id, int(since), self._announced.get(mailbox_id, 0))
        future = self._inflight.get(key)
        if future is None:
            future = asyncio.ensure_future(mailbox.changes_since(since))
            self._inflight[key] = future
            future.add_done_callback(lambda _done: self._inflight.pop(key, None))
        # shield: one session going away must not cancel the query the others wait for.
        return await asyncio.shield(future)

    async def claim_recent(self, mailbox: Mailbox, uids: list[Uid]) -> tuple[Uid, ...]:
        """Claim \\Recent for those of `uids` no session of this process has claimed.

        The UIDs are marked taken before the claim's transaction runs: the other sessions
        woken by the same commit return at once with nothing, neither running a write
        that would find nothing nor waiting for this one's commit (RFC 3501 §2.3.2: one
        session only). Claims of one mailbox are made in increasing UID order, and the
        writer runs them in that order. A claim that fails leaves its messages \\Recent to
        no session of this process, never to two.
        """
        wanted = self.reserve(mailbox.info.mailbox_id, uids)
        if not wanted:
            return ()
        return await mailbox.claim_recent(wanted)

    def reserve(self, mailbox_id: str, uids: list[Uid]) -> list[Uid]:
        """Those of `uids` (ascending) no session of this process claims yet, now marked
        as claimed by the caller, which must claim them (`Mailbox.claim_recent`)."""
        taken = self._claimed.get(mailbox_id, 0)
        wanted = [u for u in uids if u > taken]
        if wanted:
            self._claimed[mailbox_id] = wanted[-1]
        return wanted

    def announced_modseq(self, mailbox_id: str) -> int:
        """The highest modseq the bus announced for the mailbox (0: none yet)."""
        return self._announced.get(mailbox_id, 0)


@dataclass(slots=True, eq=False)
class Selection:
    """What SELECT/EXAMINE opened for a session."""

    mailbox: Mailbox
    view: SelectedMailbox
    subscription: Subscription | None = None
    dirty: bool = False
    # Called when a change arrives: wakes a session in IDLE (RFC 2177).
    wake: Callable[[], None] | None = None
    feed: ChangeFeed | None = None
    # A \\Recent claim the IDLE fan-out started for this session (server/fanout.py); its
    # new messages wait in the view for its result.
    claim: asyncio.Future[tuple[Uid, ...]] | None = None

    def on_notice(self, notice: ChangeNotice) -> None:
        """Change-bus callback: only note that there is something to pull."""
        if isinstance(notice, MailboxChanged) and (
            notice.mailbox_id == self.mailbox.info.mailbox_id
        ):
            self.dirty = True
            if self.feed is not None:
                self.feed.announced(notice.mailbox_id, notice.modseq)
            if self.wake is not None:
                self.wake()


def flags_responses(keywords: frozenset[str], *, read_only: bool) -> list[Response]:
    """FLAGS and the PERMANENTFLAGS code (RFC 9051 §7.3.5, §7.1)."""
    flags: list[FlagWord] = [*SYSTEM_FLAGS, *sorted(keywords)]
    permanent = (
        PermanentFlags((), new_keywords=False)
        if read_only
        else PermanentFlags(tuple(flags), new_keywords=True)
    )
    text = "No permanent flags permitted" if read_only else "Flags permitted"
    return [FlagsData(tuple(flags)), UntaggedStatus(Status.OK, text, permanent)]


def condstore_on(conn: Connection) -> bool:
    enabled = conn.session.enabled
    return CONDSTORE in enabled or QRESYNC in enabled


def qresync_on(conn: Connection) -> bool:
    return QRESYNC in conn.session.enabled


def render_update(update: Update, *, read_only: bool) -> list[Response]:
    """The wire form of one view update."""
    match update:
        case Expunged(msn=msn):
            return [ExpungeData(msn)]
        case Vanished(uids=uids):
            return [VanishedData(uids, earlier=False)]
        case Exists(count=count):
            return [ExistsData(count)]
        case Recent(count=count):
            return [RecentData(count)]
        case KeywordsChanged(keywords=keywords):
            return flags_responses(keywords, read_only=read_only)
        case FlagsChanged(msn=msn, uid=uid, flags=flags, modseq=modseq):
            items: list[FetchUid | FetchFlags | FetchModSeq] = [
                FetchUid(uid),
                FetchFlags(tuple(sorted(flags))),
            ]
            if modseq is not None:
                items.append(FetchModSeq(modseq))
            return [FetchData(msn, tuple(items))]
    raise AssertionError(f"unknown update {update!r}")


def claims_recent(conn: Connection, view: SelectedMailbox) -> bool:
    """Whether the session claims \\Recent for the new messages it learns of.

    RFC 3501 §2.3.2: the first session to learn of a message sees it as \\Recent; a
    read-only one claims nothing. RFC 9051 Appendix E item 12: rev2 has no \\Recent.
    """
    return not view.read_only and not rev2.on(conn.session)


async def sync(conn: Connection, *, allow_expunge: bool) -> None:
    """Pull and announce what changed in the selected mailbox (RFC 9051 §7.4, §7.5)."""
    selection = conn.selection
    if selection is None:
        return
    view = selection.view
    claimed = False
    if selection.claim is not None:
        # The IDLE fan-out applied changes for this session and claims their \\Recent.
        claim, selection.claim = selection.claim, None
        view.note_recent(await asyncio.shield(claim))
        claimed = True
    if selection.dirty:
        selection.dirty = False
        feed = conn.ctx.feed
        changes = await feed.changes(selection.mailbox, view.highest_modseq)
        view.apply(changes)
        new = view.pending_new()
        if new and claims_recent(conn, view):
            view.note_recent(await feed.claim_recent(selection.mailbox, new))
    elif not claimed and not (allow_expunge and view.has_pending_expunges):
        return
    await conn.send_all(drain_responses(conn, view, allow_expunge=allow_expunge))


def drain_responses(
    conn: Connection, view: SelectedMailbox, *, allow_expunge: bool
) -> list[Response]:
    """The view's queued updates, in the wire form this session needs."""
    updates = view.drain(
        allow_expunge=allow_expunge,
        condstore=condstore_on(conn),
        qresync=qresync_on(conn),
        vanished=UIDONLY in conn.session.enabled,  # RFC 9586 §3.4: VANISHED, not EXPUNGE
    )
    if rev2.on(conn.session):
        updates = [u for u in updates if not isinstance(u, Recent)]  # RFC 9051 App. E, 12
    return [
        response
        for update in updates
        for response in render_update(update, read_only=view.read_only)
    ]


def close(conn: Connection) -> None:
    """Forget the selected mailbox (CLOSE, UNSELECT, another SELECT, LOGOUT)."""
    selection = conn.selection
    if selection is None:
        return
    if selection.subscription is not None:
        selection.subscription.cancel()
    conn.selection = None
