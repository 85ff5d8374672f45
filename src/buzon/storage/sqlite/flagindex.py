"""An in-memory copy of each busy mailbox's (uid, flags, modseq), kept exact by modseq.

Why: a client opening a mailbox asks for the flags of every message (`UID FETCH 1:*
(FLAGS)`); reading 100,000 rows out of SQLite costs about a microsecond per row and
column in Python objects alone, several times what the whole answer costs Dovecot, which
keeps the same data in its memory-mapped index. So do we.

How it stays exact (RFC 7162 §3.1): every change to a message takes a new modseq of its
mailbox (`mailboxes.highest_modseq`), a new message is stored with one, and an expunge
is recorded in `expunged` with the modseq of the operation; none of these rows is ever
removed while the mailbox exists (mailbox ids are never reused). A copy that reflects
the mailbox up to modseq M is therefore brought up to date by the message rows and
expunges with a modseq above M: one indexed query, which finds nothing when nothing
changed, and is skipped entirely when the reader's `highest_modseq` equals M. Changes
written by another process or node arrive the same way.

Concurrency: reader threads share one copy per mailbox under its lock. A reader whose
snapshot is older than the copy is served the newer state, which is what a read that
started a moment later would see; the copy never goes backwards.

Memory is bounded by the total number of messages held (`MAX_MESSAGES`): the mailbox used
least recently is dropped first.
"""

from __future__ import annotations

import sqlite3
import threading
from bisect import bisect_left, bisect_right, insort
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import islice, repeat

from buzon.storage.api import FlagRow, ModSeq, Uid
from buzon.storage.sqlite import flags as fl
from buzon.storage.sqlite.txn import MailboxRow

_NONE = repeat(None)

# About 80 bytes a message: 500,000 messages is some 40 MB.
MAX_MESSAGES = 500_000


@dataclass(slots=True)
class _Copy:
    """One mailbox: three parallel lists in UID order."""

    modseq: int = -1  # the mailbox state reflected; -1: not loaded
    uids: list[Uid] = field(default_factory=list)
    flags: list[frozenset[str]] = field(default_factory=list)
    modseqs: list[ModSeq] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class FlagIndex:
    """The copies of one store, shared by its reader threads."""

    def __init__(self, max_messages: int = MAX_MESSAGES) -> None:
        self._max = max_messages
        self._copies: OrderedDict[int, _Copy] = OrderedDict()
        self._lock = threading.Lock()

    def rows(
        self, conn: sqlite3.Connection, mailbox: MailboxRow, uids: Sequence[Uid]
    ) -> list[FlagRow]:
        """`(uid, flags, modseq, None, None)` of the existing messages among `uids`
        (ascending), current as of `conn`'s read transaction or later."""
        copy = self._copy(mailbox.id)
        with copy.lock:
            self._refresh(conn, mailbox, copy)
            out = _slice(copy, uids)
        self._trim()
        return out

    def _copy(self, mailbox_id: int) -> _Copy:
        with self._lock:
            copy = self._copies.get(mailbox_id)
            if copy is None:
                copy = self._copies[mailbox_id] = _Copy()
            else:
                self._copies.move_to_end(mailbox_id)
            return copy

    def _trim(self) -> None:
        with self._lock:
            total = sum(len(c.uids) for c in self._copies.values())
            while total > self._max and len(self._copies) > 1:
                _, dropped = self._copies.popitem(last=False)
                total -= len(dropped.uids)

    @staticmethod
    def _refresh(conn: sqlite3.Connection, mailbox: MailboxRow, copy: _Copy) -> None:
        if mailbox.highest_modseq <= copy.modseq:
            return
        flag_sets = fl.FlagCache()
        if copy.modseq < 0:
            rows = conn.execute(
                "SELECT uid, sysflags, keywords, modseq FROM messages"
                " WHERE mailbox_id = ? ORDER BY uid",
                (mailbox.id,),
            ).fetchall()
            copy.uids = [r[0] for r in rows]
            copy.flags = [flag_sets(r[1], r[2]) for r in rows]
            copy.modseqs = [r[3] for r in rows]  # ints: Uid and ModSeq are NewTypes
            copy.modseq = mailbox.highest_modseq
            return
        changed = sorted(
            conn.execute(
                "SELECT uid, sysflags, keywords, modseq FROM messages"
                " INDEXED BY messages_modseq WHERE mailbox_id = ? AND modseq > ?",
                (mailbox.id, copy.modseq),
            )
        )
        gone = [
            r[0]
            for r in conn.execute(
                "SELECT uid FROM expunged WHERE mailbox_id = ? AND modseq > ?",
                (mailbox.id, copy.modseq),
            )
        ]
        if gone:
            _remove(copy, set(gone))
        for uid, bits, keywords, modseq in changed:
            flags = flag_sets(bits, keywords)
            uids = copy.uids
            if not uids or uid > uids[-1]:
                # A new message: UIDs only grow (RFC 9051 §2.3.1.1), the common case.
                uids.append(uid)
                copy.flags.append(flags)
                copy.modseqs.append(modseq)
                continue
            i = bisect_left(uids, uid)
            if i < len(uids) and uids[i] == uid:
                copy.flags[i] = flags
                copy.modseqs[i] = modseq
            else:
                # Stored with a UID below the largest (an import that keeps UIDs).
                insort(uids, uid)
                copy.flags.insert(i, flags)
                copy.modseqs.insert(i, modseq)
        copy.modseq = mailbox.highest_modseq


def _remove(copy: _Copy, gone: set[int]) -> None:
    keep = [i for i, uid in enumerate(copy.uids) if uid not in gone]
    if len(keep) == len(copy.uids):
        return
    copy.uids = [copy.uids[i] for i in keep]
    copy.flags = [copy.flags[i] for i in keep]
    copy.modseqs = [copy.modseqs[i] for i in keep]


def _slice(copy: _Copy, wanted: Sequence[Uid]) -> list[FlagRow]:
    if not wanted:
        return []
    uids = copy.uids
    lo = bisect_left(uids, wanted[0])
    hi = bisect_right(uids, wanted[-1])
    if hi - lo == len(wanted) and uids[lo:hi] == list(wanted):
        # Every UID asked for exists, as they usually all do: slices, no Python loop.
        size = hi - lo  # the slices are this long; _NONE never ends
        rows = zip(uids[lo:hi], copy.flags[lo:hi], copy.modseqs[lo:hi], _NONE, _NONE, strict=False)
        return list(islice(rows, size))
    out: list[FlagRow] = []
    for uid in wanted:
        i = bisect_left(uids, uid, lo, hi)
        if i < hi and uids[i] == uid:
            out.append((uid, copy.flags[i], copy.modseqs[i], None, None))
    return out
