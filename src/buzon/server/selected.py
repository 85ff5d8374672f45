"""One session's view of its selected mailbox: sequence numbers and queued updates.

Theory of operation
-------------------
The view holds the ascending list of UIDs the client knows; message sequence number n is
index n - 1 (RFC 9051 §2.3.1.2). Mapping either way is a bisection, never a scan.

Changes made by anyone (other sessions, LMTP, this session's own commands) reach the view
as storage `Changes` through `apply()`, and wait in three queues until `drain()` turns them
into untagged responses:

- `_expunged`: UIDs still in the list (their numbers unchanged) but gone from storage.
  They leave the list only when the command in progress may send EXPUNGE (RFC 3501 §7.4.1,
  RFC 9051 §7.5.1, RFC 2180 §4.1); until then the client keeps addressing them by their
  old numbers.
- `_new`: UIDs that appeared in storage and are not yet in the list. `drain()` appends them
  all at once and announces EXISTS (and RECENT). A message added and expunged before that
  is simply dropped from the queue and never shown.
- `_flags`: the latest `MessageFlags` of known messages whose flags changed, announced as
  FETCH (FLAGS ...) in sequence order.

`apply()` is idempotent and tolerates stale or out-of-order batches: every entry whose modseq
is <= `highest_modseq` is already reflected in the view (storage reports the current state
of each message, so a later batch supersedes an earlier one), and expunges are matched by
membership. This session's own STORE results are recorded by `note_flags()` so that the
same modseq coming back through `apply()` is not reported twice; a record is dropped once
`highest_modseq` passes it, which keeps memory bounded.

How a session drives it (the storage calls are the handler's, not this module's):

    view = SelectedMailbox(await mailbox.snapshot(claim_recent=not ro), read_only=ro)
    ...after each command, and when IDLE wakes up:
    view.apply(await mailbox.changes_since(view.highest_modseq))
    if not view.read_only:
        view.note_recent(await mailbox.claim_recent(view.pending_new()))
    for update in view.drain(allow_expunge=..., condstore=..., qresync=...):
        send(update)

Costs: `apply` and `note_*` are O(k log n) for k changes; `drain` rebuilds the list once
(O(n)) when it removes expunged messages or appends new ones, so thousands of expunges from
the middle of a 200,000-message view cost one pass, not one pass each.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from itertools import pairwise
from typing import NewType

from buzon.imap.commands_values import SequenceSet
from buzon.storage.api import Changes, MessageFlags, ModSeq, Snapshot, Uid

__all__ = [
    "BadSequence",
    "Exists",
    "Expunged",
    "FlagsChanged",
    "KeywordsChanged",
    "Msn",
    "Recent",
    "SelectedMailbox",
    "Update",
    "Vanished",
]

Msn = NewType("Msn", int)

RECENT_FLAG = "\\Recent"
_RECENT_ONLY = frozenset({RECENT_FLAG})


class BadSequence(Exception):
    """A message sequence number beyond the messages the client knows (tagged BAD).

    RFC 9051 §9 (seq-number): "The server should respond with a tagged BAD response to a
    command that uses a message sequence number greater than the number of messages in the
    selected mailbox. This includes "*" if the selected mailbox is empty."
    """


# --- updates ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Expunged:
    """`* n EXPUNGE` (RFC 9051 §7.5.1); numbers are valid when applied in list order."""

    msn: Msn


@dataclass(frozen=True, slots=True)
class Vanished:
    """`* VANISHED uids` without EARLIER, instead of EXPUNGE under QRESYNC (RFC 7162 §3.2.10)."""

    uids: tuple[Uid, ...]


@dataclass(frozen=True, slots=True)
class KeywordsChanged:
    """New keywords came into use: send FLAGS and PERMANENTFLAGS again (RFC 9051 §7.3.5).

    `keywords` is every keyword the view has seen in use, not only the new ones.
    """

    keywords: frozenset[str]


@dataclass(frozen=True, slots=True)
class Exists:
    """`* n EXISTS` (RFC 9051 §7.4.1); only ever larger than the client's count."""

    count: int


@dataclass(frozen=True, slots=True)
class Recent:
    """`* n RECENT` (RFC 3501 §7.3.2), sent with every EXISTS; IMAP4rev2 sessions drop it."""

    count: int


@dataclass(frozen=True, slots=True)
class FlagsChanged:
    """`* msn FETCH (UID uid FLAGS (...) [MODSEQ (m)])` for a change made elsewhere.

    `flags` includes "\\Recent" when the message is recent to this session (IMAP4rev2
    sessions remove it). `modseq` is set only under CONDSTORE (RFC 7162 §3.1.4.2); UID is
    required under QRESYNC (RFC 7162 §3.2.4) and harmless otherwise.
    """

    msn: Msn
    uid: Uid
    flags: frozenset[str]
    modseq: ModSeq | None


Update = Expunged | Vanished | KeywordsChanged | Exists | Recent | FlagsChanged


def _keywords(flags: Iterable[str]) -> set[str]:
    return {f for f in flags if not f.startswith("\\")}


# --- the view ----------------------------------------------------------------------------


class SelectedMailbox:
    """The client's view of the selected mailbox (ARCHITECTURE.md, "Session and selected
    mailbox"). Pure and synchronous; the session feeds it and sends what `drain()` returns.
    """

    __slots__ = (
        "_expunge_floor",
        "_expunged",
        "_flags",
        "_keywords",
        "_keywords_dirty",
        "_new",
        "_own",
        "_recent",
        "_uid_floor",
        "_uids",
        "highest_modseq",
        "read_only",
        "saved",
        "uidvalidity",
    )

    def __init__(self, snapshot: Snapshot, *, read_only: bool) -> None:
        uids = list(snapshot.uids)
        if any(a >= b for a, b in pairwise(uids)):
            raise ValueError("snapshot UIDs must be strictly ascending")
        self.read_only = read_only
        self.uidvalidity = snapshot.uidvalidity
        self.highest_modseq: ModSeq = snapshot.highest_modseq
        # Replaced, never mutated in place, so that a Sequence handed out by `uids()` keeps
        # describing the numbering it was taken from.
        self._uids: list[Uid] = uids
        # Every UID ever in the list is <= this; a new message must lie above it, or
        # showing it would renumber messages the client knows.
        self._uid_floor: int = uids[-1] if uids else 0
        self._expunged: set[Uid] = set()
        # `highest_modseq` before the oldest still-pending expunge (see `reportable_modseq`).
        self._expunge_floor: ModSeq | None = None
        self._new: set[Uid] = set()
        self._flags: dict[Uid, MessageFlags] = {}
        self._own: dict[Uid, ModSeq] = {}
        self._recent: set[Uid] = {u for u in snapshot.recent if self._index(u) is not None}
        self._keywords: set[str] = set(snapshot.keywords)
        self._keywords_dirty = False
        # RFC 5182 §2.1: the result a SEARCH RETURN (SAVE) left for "$", ascending UIDs.
        self.saved: tuple[Uid, ...] = ()

    # --- numbering -------------------------------------------------------------------

    @property
    def exists(self) -> int:
        """The number of messages the client knows of (pending expunges included)."""
        return len(self._uids)

    def uids(self) -> Sequence[Uid]:
        """The known UIDs, ascending; msn n is element n - 1. Do not mutate."""
        return self._uids

    def uid_at(self, msn: Msn) -> Uid:
        """The UID at sequence number `msn`; IndexError outside 1..exists."""
        if not 1 <= msn <= len(self._uids):
            raise IndexError(f"message sequence number {msn} out of range")
        return self._uids[msn - 1]

    def msn_of(self, uid: Uid) -> Msn | None:
        """The sequence number of `uid`, or None if the client does not know it."""
        i = self._index(uid)
        return None if i is None else Msn(i + 1)

    def msns_of(self, uids: Iterable[Uid]) -> list[Msn]:
        """Sequence numbers of the known ones among `uids`, in the given order."""
        out: list[Msn] = []
        for uid in uids:
            i = self._index(uid)
            if i is not None:
                out.append(Msn(i + 1))
        return out

    def resolve_msns(self, seqset: SequenceSet) -> list[Uid]:
        """The UIDs a message sequence set names, ascending and without duplicates.

        RFC 9051 §9: "*" is the number of messages; a number above it, or "*" in an empty
        mailbox, raises `BadSequence`. `$` (RFC 5182) must be resolved by the caller.
        """
        if seqset.saved:
            raise ValueError("the $ sequence set must be resolved by the session")
        count = len(self._uids)
        for pair in seqset.ranges:
            for n in pair:
                if isinstance(n, int):
                    if not 1 <= n <= count:
                        raise BadSequence(f"No message with sequence number {n}")
                elif count == 0:
                    raise BadSequence("* names no message in an empty mailbox")
        out: list[Uid] = []
        for lo, hi in seqset.iter_ranges(count):
            out.extend(self._uids[lo - 1 : hi])
        return out

    def resolve_uids(self, seqset: SequenceSet) -> list[Uid]:
        """The known UIDs a UID set names, ascending; UIDs not in the view are ignored.

        RFC 9051 §6.4.9 and §9: "*" is the largest UID in the view, so "n:*" includes it
        even when n is larger; in an empty view "*" names nothing. Pending expunges are
        still in the view (RFC 2180 §4.1); check `is_expunged` where it matters.
        """
        if seqset.saved:
            raise ValueError("the $ sequence set must be resolved by the session")
        uids = self._uids
        largest = uids[-1] if uids else 0
        out: list[Uid] = []
        for lo, hi in seqset.iter_ranges(largest):
            out.extend(uids[bisect_left(uids, lo) : bisect_right(uids, hi)])
        return out

    # --- message state ------------------------------------------------------------------

    @property
    def recent(self) -> AbstractSet[Uid]:
        """UIDs that are \\Recent for this session (a live view; do not keep it)."""
        return self._recent

    @property
    def recent_count(self) -> int:
        """How many messages in the view are \\Recent for this session (RFC 3501 §7.3.2)."""
        return len(self._recent) - sum(1 for u in self._new if u in self._recent)

    def shown_flags(self, uid: Uid, flags: frozenset[str]) -> frozenset[str]:
        """A message's flags as this session shows them: \\Recent only if recent here."""
        if RECENT_FLAG in flags:
            flags = flags - _RECENT_ONLY
        return flags | _RECENT_ONLY if uid in self._recent else flags

    def is_recent(self, uid: Uid) -> bool:
        return uid in self._recent

    def is_expunged(self, uid: Uid) -> bool:
        """Expunged in storage but still in the view, not yet announced (RFC 2180 §4.1)."""
        return uid in self._expunged

    @property
    def has_pending_expunges(self) -> bool:
        return bool(self._expunged)

    def pending_new(self) -> list[Uid]:
        """UIDs `apply()` found that the next `drain()` will announce, ascending.

        These are the UIDs for which the session claims \\Recent before draining.
        """
        return sorted(self._new)

    @property
    def reportable_modseq(self) -> ModSeq:
        """The highest modseq the client may be told (HIGHESTMODSEQ response code).

        While expunges are pending, reporting `highest_modseq` would let a client that
        reconnects with QRESYNC (RFC 7162 §3.2.5) skip them; this stays below the oldest
        pending one instead. Valid after `drain()`, which announces all flag changes.
        """
        if self._expunge_floor is not None:
            return min(self._expunge_floor, self.highest_modseq)
        return self.highest_modseq

    # --- feeding changes ------------------------------------------------------------------

    def apply(self, changes: Changes) -> None:
        """Queue what storage reports since `highest_modseq`; stale entries are ignored."""
        before = self.highest_modseq
        for mf in changes.updated:
            # Already reflected: a repeated, overlapping or late batch.
            if mf.modseq <= before:
                continue
            uid = mf.uid
            own = self._own.get(uid)
            if own is not None and mf.modseq <= own:
                continue  # this session's own STORE, already reported by its handler
            if not self._keywords.issuperset(_keywords(mf.flags)):
                self._keywords |= _keywords(mf.flags)
                self._keywords_dirty = True
            if self._index(uid) is not None:
                if uid not in self._expunged:
                    prev = self._flags.get(uid)
                    if prev is None or prev.modseq < mf.modseq:
                        self._flags[uid] = mf
            elif uid > self._uid_floor:
                self._new.add(uid)
            # else: below a UID the client knows and not in the view; storage never
            # assigns such a UID to a new message, and showing it would renumber.
        self._queue_expunges(changes.expunged, before)
        self.highest_modseq = max(self.highest_modseq, changes.highest_modseq)
        if self._own:
            h = self.highest_modseq
            self._own = {u: m for u, m in self._own.items() if m > h}

    def note_recent(self, uids: Iterable[Uid]) -> None:
        """This session claimed \\Recent for `uids` (known or pending new ones only)."""
        for uid in uids:
            if uid in self._new or self._index(uid) is not None:
                self._recent.add(uid)

    def note_flags(self, updates: Iterable[MessageFlags]) -> None:
        """This session's own STORE results, already reported to the client."""
        for mf in updates:
            uid = mf.uid
            if self._index(uid) is None:
                continue
            prev = self._flags.get(uid)
            if prev is not None and prev.modseq <= mf.modseq:
                del self._flags[uid]
            if mf.modseq > self.highest_modseq and self._own.get(uid, 0) < mf.modseq:
                self._own[uid] = mf.modseq
            if not self._keywords.issuperset(_keywords(mf.flags)):
                self._keywords |= _keywords(mf.flags)
                self._keywords_dirty = True

    def note_expunged(self, uids: Iterable[Uid]) -> None:
        """This session's own EXPUNGE or MOVE: queued for announcement like any other."""
        self._queue_expunges(uids, self.highest_modseq)

    def _queue_expunges(self, uids: Iterable[Uid], before: ModSeq) -> None:
        for uid in uids:
            if self._index(uid) is not None:
                if uid not in self._expunged:
                    if not self._expunged:
                        self._expunge_floor = before
                    self._expunged.add(uid)
                    self._flags.pop(uid, None)
            else:
                # Added and expunged before the client heard of it: never announced.
                self._new.discard(uid)
                self._recent.discard(uid)

    # --- announcing -------------------------------------------------------------------

    def drain(
        self, *, allow_expunge: bool, condstore: bool, qresync: bool, vanished: bool = False
    ) -> list[Update]:
        """The untagged updates to send now, in order, with the view updated to match.

        Order: expunges (only if `allow_expunge`; RFC 3501 §7.4.1 forbids them during
        FETCH, STORE and SEARCH), new keywords, EXISTS and RECENT (if the count grew),
        then flag changes of messages still in the view. QRESYNC implies CONDSTORE.
        `vanished` reports expunges as VANISHED without QRESYNC (UIDONLY, RFC 9586 §3.4).
        """
        out: list[Update] = []
        if allow_expunge and self._expunged:
            out.extend(self._drain_expunges(qresync=qresync or vanished))
        if self._keywords_dirty:
            self._keywords_dirty = False
            out.append(KeywordsChanged(frozenset(self._keywords)))
        if self._new:
            # All above `_uid_floor` (see `apply`), so appending keeps the list sorted.
            fresh = sorted(self._new)
            self._new = set()
            self._uids = self._uids + fresh
            self._uid_floor = fresh[-1]
            out.append(Exists(len(self._uids)))
            # RFC 3501 §7.3.2: RECENT accompanies a change in size.
            out.append(Recent(len(self._recent)))
        if self._flags:
            with_modseq = condstore or qresync
            for uid in sorted(self._flags):
                mf = self._flags[uid]
                i = self._index(uid)
                if i is None or uid in self._expunged:
                    continue
                modseq = mf.modseq if with_modseq else None
                out.append(FlagsChanged(Msn(i + 1), uid, self.shown_flags(uid, mf.flags), modseq))
            self._flags = {}
        return out

    def _drain_expunges(self, *, qresync: bool) -> list[Update]:
        gone = self._expunged
        out: list[Update] = []
        if qresync:
            # RFC 7162 §3.2.10.2: one VANISHED, only UIDs the client knows.
            out.append(Vanished(tuple(sorted(gone))))
        else:
            # RFC 3501 §7.4.1: each EXPUNGE renumbers the ones after it, so ascending order
            # with the count already removed subtracted (its example: 3, 3, 5, 8).
            positions = sorted(bisect_left(self._uids, u) for u in gone)
            out.extend(Expunged(Msn(p + 1 - k)) for k, p in enumerate(positions))
        self._uids = [u for u in self._uids if u not in gone]
        self._recent -= gone
        for uid in gone:
            self._own.pop(uid, None)
        self._expunged = set()
        self._expunge_floor = None
        return out

    # --- internals ------------------------------------------------------------------------

    def _index(self, uid: int) -> int | None:
        uids = self._uids
        i = bisect_left(uids, uid)
        if i < len(uids) and uids[i] == uid:
            return i
        return None
