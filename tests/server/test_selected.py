"""The selected-mailbox view: numbering tables, update scenarios and a model-based test."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from buzon.imap.commands_values import STAR, SeqNumber, SequenceSet
from buzon.server.selected import (
    BadSequence,
    Exists,
    Expunged,
    FlagsChanged,
    KeywordsChanged,
    Msn,
    Recent,
    SelectedMailbox,
    Update,
    Vanished,
)
from buzon.storage.api import Changes, MessageFlags, ModSeq, Snapshot, Uid

SEEN = "\\Seen"
DELETED = "\\Deleted"
RECENT = "\\Recent"


# --- builders ------------------------------------------------------------------------------


def snap(
    uids: Iterable[int],
    *,
    modseq: int = 10,
    recent: Iterable[int] = (),
    keywords: Iterable[str] = (),
) -> Snapshot:
    us = tuple(Uid(u) for u in uids)
    return Snapshot(
        uids=us,
        uidnext=Uid((us[-1] if us else 0) + 1),
        uidvalidity=7,
        highest_modseq=ModSeq(modseq),
        keywords=frozenset(keywords),
        first_unseen=None,
        recent=tuple(Uid(u) for u in recent),
    )


def view_of(
    uids: Iterable[int],
    *,
    modseq: int = 10,
    recent: Iterable[int] = (),
    keywords: Iterable[str] = (),
) -> SelectedMailbox:
    return SelectedMailbox(
        snap(uids, modseq=modseq, recent=recent, keywords=keywords), read_only=False
    )


def mf(uid: int, modseq: int, *flags: str) -> MessageFlags:
    return MessageFlags(Uid(uid), frozenset(flags), ModSeq(modseq))


def changes(
    highest: int, updated: Sequence[MessageFlags] = (), expunged: Iterable[int] = ()
) -> Changes:
    return Changes(
        highest_modseq=ModSeq(highest),
        updated=tuple(updated),
        expunged=tuple(Uid(u) for u in expunged),
        uidnext=Uid(1000),
    )


def seq(*parts: int | str) -> SequenceSet:
    """A sequence set from "3", "2:5", "*", "4:*" style parts."""

    def num(text: str) -> SeqNumber:
        return STAR if text == "*" else int(text)

    ranges: list[tuple[SeqNumber, SeqNumber]] = []
    for part in parts:
        a, _, b = str(part).partition(":")
        ranges.append((num(a), num(b or a)))
    return SequenceSet(tuple(ranges))


def fc(msn: int, uid: int, *flags: str, modseq: int | None = None) -> FlagsChanged:
    return FlagsChanged(
        Msn(msn), Uid(uid), frozenset(flags), None if modseq is None else ModSeq(modseq)
    )


def drain(view: SelectedMailbox, *, allow_expunge: bool = True, **kw: bool) -> list[Update]:
    return view.drain(
        allow_expunge=allow_expunge,
        condstore=kw.get("condstore", False),
        qresync=kw.get("qresync", False),
    )


# --- numbering -----------------------------------------------------------------------------


def test_msn_uid_mapping() -> None:
    view = view_of([101, 102, 104, 110])
    assert view.exists == 4
    assert list(view.uids()) == [101, 102, 104, 110]
    assert [view.uid_at(Msn(n)) for n in range(1, 5)] == [101, 102, 104, 110]
    msns = {u: view.msn_of(Uid(u)) for u in (1, 101, 102, 103, 104, 110, 111)}
    assert msns == {1: None, 101: 1, 102: 2, 103: None, 104: 3, 110: 4, 111: None}
    assert view.msns_of([Uid(110), Uid(103), Uid(101)]) == [4, 1]
    assert view.uidvalidity == 7
    assert view.highest_modseq == 10
    for bad in (0, 5, -1):
        with pytest.raises(IndexError):
            view.uid_at(Msn(bad))


def test_snapshot_must_be_ascending() -> None:
    with pytest.raises(ValueError, match="ascending"):
        view_of([3, 2])


VIEW4 = [101, 102, 103, 104]


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (("1",), [101]),
        (("2:3",), [102, 103]),
        (("3:2",), [102, 103]),
        (("*",), [104]),
        (("*:2",), [102, 103, 104]),
        (("1:*",), VIEW4),
        (("4:*",), [104]),
        (("1", "3", "1"), [101, 103]),
        (("3:4", "1:2"), VIEW4),
        (("2", "2:3", "*"), [102, 103, 104]),
    ],
)
def test_resolve_msns(parts: tuple[str, ...], expected: list[int]) -> None:
    assert view_of(VIEW4).resolve_msns(seq(*parts)) == expected


@pytest.mark.parametrize(
    ("uids", "parts"),
    [
        (VIEW4, ("5",)),
        (VIEW4, ("2:5",)),
        (VIEW4, ("5:*",)),
        (VIEW4, ("1", "9")),
        (VIEW4, ("0",)),
        ([], ("*",)),
        ([], ("1",)),
        ([], ("1:*",)),
    ],
)
def test_resolve_msns_out_of_range_is_bad(uids: list[int], parts: tuple[str, ...]) -> None:
    with pytest.raises(BadSequence):
        view_of(uids).resolve_msns(seq(*parts))


@pytest.mark.parametrize(
    ("uids", "parts", "expected"),
    [
        ([5, 10, 20, 30], ("1:*",), [5, 10, 20, 30]),
        ([5, 10, 20, 30], ("*",), [30]),
        ([5, 10, 20, 30], ("25:*",), [30]),
        # RFC 9051 §9: "3291:*" includes the last UID even when it is smaller.
        ([5, 10, 20, 30], ("40:*",), [30]),
        ([5, 10, 20, 30], ("4294967295:*",), [30]),
        ([5, 10, 20, 30], ("31:35",), []),
        ([5, 10, 20, 30], ("10:20",), [10, 20]),
        ([5, 10, 20, 30], ("20:10",), [10, 20]),
        ([5, 10, 20, 30], ("11",), []),
        ([5, 10, 20, 30], ("30", "5", "7:10"), [5, 10, 30]),
        ([5, 10, 20, 30], ("1:4294967295",), [5, 10, 20, 30]),
        ([], ("*",), []),
        ([], ("1:*",), []),
        ([], ("5",), []),
    ],
)
def test_resolve_uids(uids: list[int], parts: tuple[str, ...], expected: list[int]) -> None:
    assert view_of(uids).resolve_uids(seq(*parts)) == expected


def test_unresolved_saved_set_is_refused() -> None:
    view = view_of(VIEW4)
    with pytest.raises(ValueError, match=r"\$"):
        view.resolve_msns(SequenceSet(saved=True))
    with pytest.raises(ValueError, match=r"\$"):
        view.resolve_uids(SequenceSet(saved=True))


# --- scenarios -------------------------------------------------------------------------------


def test_two_sessions_expunge_waits_for_noop() -> None:
    """STYLE.md transcript: b fetches 2 after a expunged it, learns on NOOP."""
    b = view_of([101, 102, 103, 104], modseq=10)
    # a: STORE 2 +FLAGS.SILENT (\Deleted), EXPUNGE
    b.apply(changes(12, expunged=[102]))
    # b: FETCH 2 (UID): no EXPUNGE allowed, the number still means 102
    assert b.drain(allow_expunge=False, condstore=False, qresync=False) == []
    assert b.resolve_msns(seq("2")) == [102]
    assert b.is_expunged(Uid(102))
    assert b.exists == 4
    # b: NOOP
    assert b.drain(allow_expunge=True, condstore=False, qresync=False) == [Expunged(Msn(2))]
    assert list(b.uids()) == [101, 103, 104]
    assert not b.is_expunged(Uid(102))
    assert b.highest_modseq == 12


def test_two_sessions_flag_change_before_expunge() -> None:
    b = view_of(VIEW4, modseq=10)
    b.apply(changes(11, [mf(102, 11, DELETED)]))
    assert drain(b, allow_expunge=False) == [fc(2, 102, DELETED)]
    b.apply(changes(12, expunged=[102]))
    assert drain(b, allow_expunge=False) == []
    assert drain(b) == [Expunged(Msn(2))]


@pytest.mark.parametrize(
    ("feeds", "kw", "expected"),
    [
        # a new message: EXISTS and RECENT, no FETCH
        ([changes(11, [mf(105, 11)])], {}, [Exists(5), Recent(0)]),
        # flags changed: one FETCH per message, in sequence order
        (
            [changes(12, [mf(103, 11, SEEN), mf(101, 12, DELETED)])],
            {},
            [fc(1, 101, DELETED), fc(3, 103, SEEN)],
        ),
        # two changes to one message: only the latest
        (
            [changes(11, [mf(102, 11, SEEN)]), changes(12, [mf(102, 12)])],
            {},
            [fc(2, 102)],
        ),
        # CONDSTORE adds MODSEQ
        ([changes(11, [mf(102, 11, SEEN)])], {"condstore": True}, [fc(2, 102, SEEN, modseq=11)]),
        # several expunges: ascending, each number valid after the previous ones (RFC 3501
        # §7.4.1 example: 3, 4, 7, 11 are sent as 3, 3, 5, 8)
        (
            [changes(12, expunged=[102, 104])],
            {},
            [Expunged(Msn(2)), Expunged(Msn(3))],
        ),
        # under QRESYNC: one VANISHED, and MODSEQ
        (
            [changes(13, [mf(101, 13, SEEN)], expunged=[102, 104])],
            {"qresync": True},
            [Vanished((Uid(102), Uid(104))), fc(1, 101, SEEN, modseq=13)],
        ),
        # expunges first, then EXISTS, then flags with the new numbers
        (
            [changes(14, [mf(103, 12, SEEN), mf(105, 13)], expunged=[101])],
            {},
            [Expunged(Msn(1)), Exists(4), Recent(0), fc(2, 103, SEEN)],
        ),
        # added and expunged between two drains: never announced
        ([changes(11, [mf(105, 11)]), changes(12, expunged=[105])], {}, []),
        ([changes(12, expunged=[105])], {}, []),
        # flag change then expunge of the same message: only the expunge
        (
            [changes(11, [mf(103, 11, DELETED)]), changes(12, expunged=[103])],
            {},
            [Expunged(Msn(3))],
        ),
        # a new message whose flags change again before the drain: EXISTS only
        (
            [changes(11, [mf(105, 11)]), changes(12, [mf(105, 12, SEEN)])],
            {},
            [Exists(5), Recent(0)],
        ),
        # a repeated batch and a stale one change nothing
        (
            [
                changes(12, [mf(102, 12, SEEN), mf(105, 11)]),
                changes(12, [mf(102, 12, SEEN), mf(105, 11)]),
                changes(11, [mf(102, 11), mf(105, 11)]),
            ],
            {},
            [Exists(5), Recent(0), fc(2, 102, SEEN)],
        ),
        # \Recent from storage is not passed through; it is this session's
        ([changes(11, [mf(102, 11, RECENT, SEEN)])], {}, [fc(2, 102, SEEN)]),
        # a new keyword: FLAGS again before the FETCH that uses it
        (
            [changes(11, [mf(102, 11, "$Junk")])],
            {},
            [KeywordsChanged(frozenset({"work", "$Junk"})), fc(2, 102, "$Junk")],
        ),
        # a known keyword: no FLAGS
        ([changes(11, [mf(102, 11, "work")])], {}, [fc(2, 102, "work")]),
    ],
)
def test_drain_after_changes(
    feeds: list[Changes], kw: dict[str, bool], expected: list[Update]
) -> None:
    view = view_of(VIEW4, modseq=10, keywords=["work"])
    for c in feeds:
        view.apply(c)
    assert drain(view, **kw) == expected
    assert drain(view, **kw) == []


def test_stale_batch_after_drain_changes_nothing() -> None:
    view = view_of(VIEW4, modseq=10)
    old = changes(11, [mf(102, 11, SEEN), mf(105, 11)])
    view.apply(old)
    view.apply(changes(13, [mf(102, 12)], expunged=[105]))
    assert drain(view) == [fc(2, 102)]
    view.apply(old)  # overtaken: 102 has newer flags, 105 is gone
    assert drain(view) == []
    assert view.exists == 4


def test_pending_expunge_keeps_numbers_while_new_mail_arrives() -> None:
    view = view_of(VIEW4, modseq=10)
    view.apply(changes(12, [mf(105, 12)], expunged=[102]))
    # EXISTS counts the not-yet-removed message too (RFC 3501 §7.4.1)
    assert drain(view, allow_expunge=False) == [Exists(5), Recent(0)]
    assert list(view.uids()) == [101, 102, 103, 104, 105]
    view.apply(changes(13, [mf(102, 13, SEEN), mf(103, 13, SEEN)]))  # 102: stale, gone
    assert drain(view, allow_expunge=False) == [fc(3, 103, SEEN)]
    assert view.resolve_msns(seq("*")) == [105]
    assert drain(view) == [Expunged(Msn(2))]
    assert view.resolve_msns(seq("*")) == [105]
    assert view.msn_of(Uid(105)) == 4


def test_recent_claimed_for_new_messages() -> None:
    view = view_of(VIEW4, modseq=10, recent=[104])
    assert view.recent_count == 1
    view.apply(changes(12, [mf(105, 11), mf(106, 12)]))
    assert view.pending_new() == [105, 106]
    view.note_recent([Uid(105), Uid(106), Uid(99)])  # 99 is unknown: ignored
    assert view.recent_count == 1  # not yet in the view
    assert drain(view) == [Exists(6), Recent(3)]
    assert view.pending_new() == []
    assert view.recent_count == 3
    assert set(view.recent) == {104, 105, 106}
    view.apply(changes(13, [mf(105, 13, SEEN), mf(101, 13, SEEN)]))
    assert drain(view) == [fc(1, 101, SEEN), fc(5, 105, SEEN, RECENT)]
    view.apply(changes(14, expunged=[104]))
    assert drain(view) == [Expunged(Msn(4))]
    assert view.recent_count == 2
    assert not view.is_recent(Uid(104))


def test_recent_for_message_expunged_before_announcement() -> None:
    view = view_of(VIEW4, modseq=10)
    view.apply(changes(11, [mf(105, 11)]))
    view.note_recent([Uid(105)])
    view.apply(changes(12, expunged=[105]))
    assert drain(view) == []
    assert view.recent_count == 0


@pytest.mark.parametrize("apply_first", [False, True])
def test_own_store_is_not_echoed(apply_first: bool) -> None:
    view = view_of(VIEW4, modseq=10)
    own = mf(102, 11, SEEN)
    if apply_first:  # the change notice arrived before the handler noted its result
        view.apply(changes(11, [own]))
        view.note_flags([own])
    else:
        view.note_flags([own])
        view.apply(changes(11, [own]))
    assert drain(view, condstore=True) == []
    # someone else changes it afterwards: reported
    view.apply(changes(12, [mf(102, 12)]))
    assert drain(view, condstore=True) == [fc(2, 102, modseq=12)]


def test_own_store_keeps_a_later_change_by_someone_else() -> None:
    view = view_of(VIEW4, modseq=10)
    view.apply(changes(12, [mf(102, 12, SEEN, DELETED)]))
    view.note_flags([mf(102, 11, SEEN)])  # our result predates the queued change
    assert drain(view) == [fc(2, 102, SEEN, DELETED)]


def test_own_store_records_are_dropped_once_passed() -> None:
    view = view_of(list(range(1, 101)), modseq=10)
    view.note_flags([mf(u, 10 + u, SEEN) for u in range(1, 101)])
    assert len(view._own) == 100
    view.apply(changes(60, [mf(u, 10 + u, SEEN) for u in range(1, 51)]))
    assert len(view._own) == 50
    view.apply(changes(110, [mf(u, 10 + u, SEEN) for u in range(51, 101)]))
    assert view._own == {}
    assert drain(view) == []


def test_own_expunge_is_announced_once() -> None:
    view = view_of(VIEW4, modseq=10)
    view.note_expunged([Uid(103), Uid(101), Uid(999)])
    assert drain(view, allow_expunge=False) == []
    assert drain(view) == [Expunged(Msn(1)), Expunged(Msn(2))]
    view.apply(changes(12, expunged=[101, 103]))
    assert drain(view) == []
    assert list(view.uids()) == [102, 104]


def test_reportable_modseq_stays_below_pending_expunges() -> None:
    view = view_of(VIEW4, modseq=10)
    view.apply(changes(12, [mf(101, 11, SEEN)]))
    assert view.reportable_modseq == 12
    view.apply(changes(15, [mf(101, 14)], expunged=[103]))
    view.apply(changes(16, expunged=[104]))
    assert view.highest_modseq == 16
    assert view.has_pending_expunges
    assert view.reportable_modseq == 12
    drain(view, allow_expunge=False)
    assert view.reportable_modseq == 12
    drain(view)
    assert view.reportable_modseq == 16
    assert not view.has_pending_expunges


def test_uids_handed_out_are_not_changed_later() -> None:
    view = view_of(VIEW4, modseq=10)
    before = view.uids()
    view.apply(changes(12, [mf(105, 12)], expunged=[101]))
    drain(view)
    assert list(before) == VIEW4
    assert list(view.uids()) == [102, 103, 104, 105]


def test_new_message_below_known_uids_is_not_inserted() -> None:
    view = view_of(VIEW4, modseq=10)
    view.apply(changes(11, [mf(100, 11), mf(103, 11, SEEN)]))  # 100: impossible, ignored
    assert drain(view) == [fc(3, 103, SEEN)]
    assert list(view.uids()) == VIEW4


# --- scale ---------------------------------------------------------------------------------

BIG = 200_000


def test_large_view_is_not_quadratic() -> None:
    """Quadratic code takes minutes here; the limits leave room for slow shared machines."""
    start = time.perf_counter()
    view = view_of(range(1, 2 * BIG, 2), modseq=10)
    assert view.resolve_msns(seq("1:*")) == list(range(1, 2 * BIG, 2))
    assert len(view.resolve_uids(seq("1:*"))) == BIG
    uids = list(view.uids())
    assert view.msns_of(uids[::-1])[:2] == [BIG, BIG - 1]
    gone = uids[1000:-1000:3]  # ~66,000 expunges from the middle
    view.apply(changes(20, [mf(u, 15, SEEN) for u in uids[::7]], expunged=gone))
    view.apply(changes(21, [mf(2 * BIG + i, 21) for i in range(1, 5001, 2)]))
    updates = drain(view, condstore=True)
    expunges = [u for u in updates if isinstance(u, Expunged)]
    assert len(expunges) == len(gone)
    assert expunges[0] == Expunged(Msn(1001))
    assert Exists(BIG - len(gone) + 2500) in updates
    assert view.exists == BIG - len(gone) + 2500
    assert time.perf_counter() - start < 10


# --- model-based test ------------------------------------------------------------------------


class ModelMailbox:
    """The mailbox as storage sees it, with the change log `changes_since` needs."""

    def __init__(self) -> None:
        self.modseq = 1
        self.next_uid = 1
        self.msgs: dict[int, tuple[frozenset[str], int]] = {}
        self.expunge_log: list[tuple[int, int]] = []  # (modseq, uid)
        self.history: dict[tuple[int, int], frozenset[str]] = {}

    def append(self, flags: frozenset[str]) -> int:
        self.modseq += 1
        uid = self.next_uid
        self.next_uid += 1
        self.msgs[uid] = (flags, self.modseq)
        self.history[uid, self.modseq] = flags
        return uid

    def store(self, uid: int, flags: frozenset[str]) -> MessageFlags | None:
        if uid not in self.msgs:
            return None
        self.modseq += 1
        self.msgs[uid] = (flags, self.modseq)
        self.history[uid, self.modseq] = flags
        return mf(uid, self.modseq, *flags)

    def expunge(self, uids: Iterable[int]) -> list[Uid]:
        done = []
        for uid in sorted(set(uids)):
            if uid in self.msgs:
                self.modseq += 1
                del self.msgs[uid]
                self.expunge_log.append((self.modseq, uid))
                done.append(Uid(uid))
        return done

    def nth(self, i: int) -> int | None:
        if not self.msgs:
            return None
        return list(self.msgs)[i % len(self.msgs)]

    def snapshot(self, recent: Iterable[int]) -> Snapshot:
        keywords = {f for flags, _ in self.msgs.values() for f in flags if f[0] != "\\"}
        return snap(self.msgs, modseq=self.modseq, recent=recent, keywords=keywords)

    def changes_since(self, modseq: int) -> Changes:
        return changes(
            self.modseq,
            [mf(u, m, *f) for u, (f, m) in sorted(self.msgs.items()) if m > modseq],
            sorted(u for m, u in self.expunge_log if m > modseq),
        )


flag_sets = st.frozensets(st.sampled_from([SEEN, DELETED, "\\Flagged", "$Junk", "work"]))


class ViewMachine(RuleBasedStateMachine):
    """Another session changes the mailbox; the view's updates rebuild the client's list."""

    def __init__(self) -> None:
        super().__init__()
        self.model = ModelMailbox()
        self.view = SelectedMailbox(self.model.snapshot(()), read_only=False)
        self.client: list[int] = []
        self.client_flags: dict[int, frozenset[str]] = {}
        self.client_keywords: set[str] = set()
        self.claimed: set[int] = set()
        self.batches: list[Changes] = []

    @initialize(initial=st.lists(flag_sets, max_size=6), recent=st.sets(st.integers(1, 6)))
    def select(self, initial: list[frozenset[str]], recent: set[int]) -> None:
        for flags in initial:
            self.model.append(flags)
        snapshot = self.model.snapshot(sorted(recent & set(self.model.msgs)))
        self.view = SelectedMailbox(snapshot, read_only=False)
        self.client = list(snapshot.uids)
        self.client_flags = {u: self.model.msgs[u][0] for u in self.client}
        self.client_keywords = set(snapshot.keywords)
        self.claimed = set(snapshot.recent)

    # other sessions
    @rule(flags=flag_sets)
    def other_append(self, flags: frozenset[str]) -> None:
        self.model.append(flags)

    @rule(i=st.integers(0, 50), flags=flag_sets)
    def other_store(self, i: int, flags: frozenset[str]) -> None:
        uid = self.model.nth(i)
        if uid is not None:
            self.model.store(uid, flags)

    @rule(picks=st.lists(st.integers(0, 50), min_size=1, max_size=4))
    def other_expunge(self, picks: list[int]) -> None:
        self.model.expunge(u for i in picks if (u := self.model.nth(i)) is not None)

    # this session
    @rule(i=st.integers(0, 50), flags=flag_sets)
    def own_store(self, i: int, flags: frozenset[str]) -> None:
        if not self.client:
            return
        msn = Msn(i % len(self.client) + 1)
        (uid,) = self.view.resolve_msns(SequenceSet.of(msn))
        assert uid == self.client[msn - 1]
        result = self.model.store(uid, flags)
        if result is not None:
            self.view.note_flags([result])
            self.client_flags[uid] = result.flags  # the handler's own FETCH response

    @rule(i=st.integers(0, 50), qresync=st.booleans())
    def own_expunge(self, i: int, qresync: bool) -> None:
        if not self.client:
            return
        uid = self.client[i % len(self.client)]
        self.view.note_expunged(self.model.expunge([uid]))
        self.drain(True, False, qresync)

    @rule(apply=st.booleans())
    def fetch_changes(self, apply: bool) -> None:
        self.batches.append(self.model.changes_since(self.view.highest_modseq))
        if apply:  # the usual case: apply at once; older fetched batches arrive late
            self.view.apply(self.batches[-1])

    @rule(i=st.integers(0, 2))
    def apply_batch(self, i: int) -> None:
        # any fetched batch: the newest, a repeat, or a late one overtaken by others
        if self.batches:
            self.view.apply(self.batches[-1 - i % len(self.batches)])

    @rule(data=st.data())
    def claim_recent(self, data: st.DataObject) -> None:
        pending = self.view.pending_new()
        if pending:
            claim = data.draw(st.sets(st.sampled_from(pending)))
            self.view.note_recent(claim)
            self.claimed |= claim

    @rule(allow=st.booleans(), condstore=st.booleans(), qresync=st.booleans())
    def drain(self, allow: bool, condstore: bool, qresync: bool) -> None:
        updates = self.view.drain(allow_expunge=allow, condstore=condstore, qresync=qresync)
        previous: Update | None = None
        for update in updates:
            self.client_applies(update, previous, allow, condstore or qresync, qresync)
            previous = update

    def client_applies(
        self, update: Update, previous: Update | None, allow: bool, modseqs: bool, qresync: bool
    ) -> None:
        client = self.client
        match update:
            case Expunged(msn):
                assert allow
                assert not qresync
                assert 1 <= msn <= len(client)
                # a message expunged before the client could fetch it has no flags here
                self.client_flags.pop(client.pop(msn - 1), None)
            case Vanished(uids):
                assert allow
                assert qresync
                assert list(uids) == sorted(set(uids))
                assert uids
                assert set(uids) <= set(client)
                for uid in uids:
                    client.remove(uid)
                    self.client_flags.pop(uid, None)
            case KeywordsChanged(keywords):
                assert keywords >= self.client_keywords
                self.client_keywords = set(keywords)
            case Exists(count):
                assert count > len(client)  # EXISTS never shrinks the mailbox
                # the client then runs UID FETCH n:* (FLAGS)
                new = list(self.view.uids()[len(client) : count])
                assert not client or new[0] > client[-1]
                client.extend(new)
                for uid in new:
                    if uid in self.model.msgs:
                        self.client_flags[uid] = self.model.msgs[uid][0]
            case Recent(count):
                assert isinstance(previous, Exists)
                assert count == len(self.claimed & set(client))
            case FlagsChanged(msn, uid, flags, modseq):
                assert client[msn - 1] == uid  # the number means what the client thinks
                assert (RECENT in flags) == (uid in self.claimed)
                flags -= {RECENT}
                assert {f for f in flags if f[0] != "\\"} <= self.client_keywords
                if modseqs:
                    assert modseq is not None
                    assert self.model.history[uid, modseq] == flags
                else:
                    assert modseq is None
                self.client_flags[uid] = flags

    @invariant()
    def client_and_view_agree(self) -> None:
        assert self.client == list(self.view.uids())
        assert self.view.exists == len(self.client)
        for msn in (1, len(self.client)) if self.client else ():
            assert self.view.uid_at(Msn(msn)) == self.client[msn - 1]

    def teardown(self) -> None:
        self.view.apply(self.model.changes_since(self.view.highest_modseq))
        self.drain(True, True, False)
        assert self.client == sorted(self.model.msgs)
        assert self.client_flags == {u: f for u, (f, _) in self.model.msgs.items()}
        assert not self.view.has_pending_expunges
        assert self.view.reportable_modseq == self.model.modseq


TestViewMachine = ViewMachine.TestCase
TestViewMachine.settings = settings(max_examples=300, stateful_step_count=40, deadline=None)
