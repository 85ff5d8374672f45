"""Contract: `changes_since` and the counters against an in-memory model (hypothesis, stateful).

The model records, for every step, the mailbox's highest modseq after it (a checkpoint).
A message's modseq is the checkpoint of the step that last changed it, so
`changes_since(checkpoint k)` must return exactly the messages changed after step k and
the UIDs expunged after step k, with their current flags — after any sequence of
appends, flag changes, expunges, copies, moves and restarts.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from buzon.storage import INBOX, AppendRequest, FlagOp, Mailbox, ModSeq, Store, Uid

StoreOpener = Callable[[], AbstractAsyncContextManager[Store]]

FLAGS = ["\\Seen", "\\Deleted", "\\Flagged", "$A", "$b"]
flag_sets = st.frozensets(st.sampled_from(FLAGS), max_size=3)


class ChangesModel(RuleBasedStateMachine):
    factory: Callable[[Path], StoreOpener]

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="buzon-model-"))
        self.opener = self.factory(self.dir)
        self.runner = asyncio.Runner()
        self.ctx: AbstractAsyncContextManager[Store] | None = None
        self.live: dict[int, frozenset[str]] = {}
        self.changed_at: dict[int, int] = {}
        self.expunged_at: dict[int, int] = {}
        self.checkpoints: list[int] = []  # highest modseq after step i
        self.uidnext = 1
        self.trash_count = 0

    # --- plumbing ------------------------------------------------------------------------

    async def _open(self) -> tuple[Mailbox, Mailbox]:
        self.ctx = self.opener()
        self.store = await self.ctx.__aenter__()
        if not await self.store.list_users():
            await self.store.create_user("u", "s")
        account = await self.store.open_account("u")
        return await account.open_mailbox(INBOX), await account.open_mailbox("Trash")

    async def _close(self) -> None:
        assert self.ctx is not None
        await self.ctx.__aexit__(None, None, None)
        self.ctx = None

    def teardown(self) -> None:
        if self.ctx is not None:
            self.runner.run(self._close())
        self.runner.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _step(self) -> int:
        """Record the checkpoint after a step; return the step's index."""
        status = self.runner.run(self.inbox.status())
        if self.checkpoints:
            assert status.highest_modseq >= self.checkpoints[-1]
        self.checkpoints.append(status.highest_modseq)
        return len(self.checkpoints) - 1

    def _modseq_of(self, uid: int) -> int:
        return self.checkpoints[self.changed_at[uid]]

    # --- rules ---------------------------------------------------------------------------

    @initialize()
    def start(self) -> None:
        self.inbox, self.trash = self.runner.run(self._open())
        self._step()

    @rule(flags=st.lists(flag_sets, min_size=1, max_size=3))
    def append(self, flags: list[frozenset[str]]) -> None:
        reqs = [AppendRequest(b"Subject: %d\r\n\r\nx\r\n" % i, f) for i, f in enumerate(flags)]
        result = self.runner.run(self.inbox.append(reqs))
        assert list(result.dest_uids) == list(range(self.uidnext, self.uidnext + len(flags)))
        before = self.checkpoints[-1]
        step = self._step()
        assert self.checkpoints[step] > before
        for uid, f in zip(result.dest_uids, flags, strict=True):
            self.live[uid] = f
            self.changed_at[uid] = step
        self.uidnext += len(flags)

    @rule(
        data=st.data(),
        op=st.sampled_from(FlagOp),
        flags=flag_sets,
        conditional=st.booleans(),
    )
    def set_flags(
        self, data: st.DataObject, op: FlagOp, flags: frozenset[str], conditional: bool
    ) -> None:
        pool = [*sorted(self.live), self.uidnext + 5]
        uids = data.draw(st.lists(st.sampled_from(pool), max_size=6))
        since = data.draw(st.sampled_from(self.checkpoints)) if conditional else None
        result = self.runner.run(
            self.inbox.store_flags(
                [Uid(u) for u in uids],
                op,
                flags,
                unchanged_since=None if since is None else ModSeq(since),
            )
        )
        before = self.checkpoints[-1]
        step = self._step()
        targets = sorted({u for u in uids if u in self.live})
        modified = [u for u in targets if since is not None and self._modseq_of(u) > since]
        assert list(result.modified) == modified
        changed = False
        expected_updated = []
        for uid in targets:
            if uid in modified:
                continue
            old = self.live[uid]
            new = (
                flags if op is FlagOp.REPLACE else old | flags if op is FlagOp.ADD else old - flags
            )
            if new != old:
                changed = True
                self.live[uid] = new
                self.changed_at[uid] = step
            expected_updated.append((uid, new, self._modseq_of(uid)))
        assert [(m.uid, m.flags, m.modseq) for m in result.updated] == expected_updated
        assert (self.checkpoints[step] > before) == changed

    @rule(data=st.data(), restrict=st.booleans())
    def expunge(self, data: st.DataObject, restrict: bool) -> None:
        uids = data.draw(st.lists(st.sampled_from(sorted(self.live) or [1]))) if restrict else None
        result = self.runner.run(
            self.inbox.expunge(None if uids is None else [Uid(u) for u in uids])
        )
        scope = self.live if uids is None else {u for u in uids if u in self.live}
        expected = sorted(u for u in scope if "\\Deleted" in self.live[u])
        assert list(result) == expected
        step = self._step()
        for uid in expected:
            del self.live[uid]
            del self.changed_at[uid]
            self.expunged_at[uid] = step

    @precondition(lambda self: bool(self.live))
    @rule(data=st.data(), move=st.booleans())
    def transfer(self, data: st.DataObject, move: bool) -> None:
        uids = data.draw(st.lists(st.sampled_from(sorted(self.live)), min_size=1, max_size=4))
        coro = self.inbox.move if move else self.inbox.copy
        result = self.runner.run(coro([Uid(u) for u in uids], "Trash"))
        assert list(result.source_uids) == sorted(set(uids))
        self.trash_count += len(result.dest_uids)
        step = self._step()
        if move:
            for uid in result.source_uids:
                del self.live[uid]
                del self.changed_at[uid]
                self.expunged_at[uid] = step
        trash = self.runner.run(self.trash.status())
        assert trash.messages == self.trash_count

    @rule()
    def reopen(self) -> None:
        self.runner.run(self._close())
        self.inbox, self.trash = self.runner.run(self._open())

    @rule(data=st.data())
    def check_changes(self, data: st.DataObject) -> None:
        k = data.draw(st.integers(0, len(self.checkpoints) - 1))
        since = self.checkpoints[k]
        # The first step with that modseq: later steps with the same value changed nothing.
        k = self.checkpoints.index(since)
        changes = self.runner.run(self.inbox.changes_since(ModSeq(since)))
        expected = [
            (uid, self.live[uid], self._modseq_of(uid))
            for uid in sorted(self.live)
            if self.changed_at[uid] > k
        ]
        assert [(m.uid, m.flags, m.modseq) for m in changes.updated] == expected
        assert list(changes.expunged) == sorted(u for u, s in self.expunged_at.items() if s > k)
        assert changes.highest_modseq == self.checkpoints[-1]
        assert changes.uidnext == self.uidnext

    @precondition(lambda self: bool(self.live))
    @rule(data=st.data(), flags=flag_sets)
    def set_flags_elsewhere(self, data: st.DataObject, flags: frozenset[str]) -> None:
        """Another process (a second store on the same files) replaces some flags."""
        uids = data.draw(st.lists(st.sampled_from(sorted(self.live)), min_size=1, max_size=3))

        async def elsewhere() -> None:
            async with self.opener() as other:
                inbox = await (await other.open_account("u")).open_mailbox(INBOX)
                await inbox.store_flags([Uid(u) for u in uids], FlagOp.REPLACE, flags)

        self.runner.run(elsewhere())
        step = self._step()
        for uid in set(uids):
            if self.live[uid] != flags:
                self.live[uid] = flags
                self.changed_at[uid] = step

    @rule(data=st.data(), size=st.booleans())
    def check_flag_rows(self, data: st.DataObject, size: bool) -> None:
        """`flag_rows` (from memory, or with sizes from SQL) is the model's truth."""
        pool = sorted({*self.live, *self.expunged_at, self.uidnext})
        asked = sorted(set(data.draw(st.lists(st.sampled_from(pool), max_size=8))))
        rows = self.runner.run(self.inbox.flag_rows([Uid(u) for u in asked], size=size))
        expected = [(u, self.live[u], self._modseq_of(u)) for u in asked if u in self.live]
        assert [(u, f, m) for u, f, m, _, _ in rows] == expected
        assert all((s is not None) == size for _, _, _, s, _ in rows)

    @invariant()
    def counters_match(self) -> None:
        if self.ctx is None:
            return
        status = self.runner.run(self.inbox.status())
        assert status.messages == len(self.live)
        assert status.unseen == sum(1 for f in self.live.values() if "\\Seen" not in f)
        assert status.deleted == sum(1 for f in self.live.values() if "\\Deleted" in f)
        assert status.uidnext == self.uidnext
        snap = self.runner.run(self.inbox.snapshot(claim_recent=False))
        assert list(snap.uids) == sorted(self.live)
        # After every step: the flags kept in memory (`flagindex`) are the model's.
        everything = sorted({*self.live, *self.expunged_at})
        rows = self.runner.run(self.inbox.flag_rows([Uid(u) for u in everything]))
        expected = [(u, self.live[u], self._modseq_of(u)) for u in sorted(self.live)]
        assert [(u, f, m) for u, f, m, _, _ in rows] == expected


def test_changes_since_matches_model(opener_factory: Callable[[Path], StoreOpener]) -> None:
    machine = type("BoundChangesModel", (ChangesModel,), {"factory": staticmethod(opener_factory)})
    run_state_machine_as_test(
        machine,
        settings=settings(max_examples=40, stateful_step_count=25, deadline=None),
    )
