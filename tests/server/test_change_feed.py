"""Sessions woken by one commit share one change query (server/selection.py ChangeFeed)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from buzon.server.selection import ChangeFeed
from buzon.storage.api import Changes, MailboxInfo, ModSeq, Uid


class CountingMailbox:
    """Just what ChangeFeed uses of a storage Mailbox, counting the calls."""

    def __init__(self) -> None:
        self.info = MailboxInfo("INBOX", "7", True)
        self.queries = 0
        self.claims: list[list[Uid]] = []
        self.modseq = 5

    async def changes_since(self, modseq: ModSeq) -> Changes:
        self.queries += 1
        await asyncio.sleep(0.01)
        return Changes(ModSeq(self.modseq), (), (), Uid(10))

    async def claim_recent(self, uids: Sequence[Uid]) -> tuple[Uid, ...]:
        self.claims.append(list(uids))
        return tuple(uids) if len(self.claims) == 1 else ()


def test_one_query_for_many_sessions_woken_by_one_commit() -> None:
    async def body() -> None:
        feed = ChangeFeed()
        mailbox = CountingMailbox()
        feed.announced("7", 5)
        results = await asyncio.gather(
            *(feed.changes(mailbox, ModSeq(4)) for _ in range(1000))  # type: ignore[arg-type]
        )
        assert mailbox.queries == 1
        assert all(r.highest_modseq == 5 for r in results)
        # A later commit needs a new query: the shared one may have started before it.
        mailbox.modseq = 6
        feed.announced("7", 6)
        again = await feed.changes(mailbox, ModSeq(4))  # type: ignore[arg-type]
        assert mailbox.queries == 2
        assert again.highest_modseq == 6
        # Sessions at a different starting point do not share.
        await feed.changes(mailbox, ModSeq(5))  # type: ignore[arg-type]
        assert mailbox.queries == 3

    asyncio.run(body())


def test_recent_is_claimed_once_per_process() -> None:
    async def body() -> None:
        feed = ChangeFeed()
        mailbox = CountingMailbox()
        first = await feed.claim_recent(mailbox, [Uid(8), Uid(9)])  # type: ignore[arg-type]
        second = await feed.claim_recent(mailbox, [Uid(8), Uid(9)])  # type: ignore[arg-type]
        third = await feed.claim_recent(mailbox, [Uid(9), Uid(10)])  # type: ignore[arg-type]
        assert first == (Uid(8), Uid(9))
        assert second == ()
        assert third == ()
        assert mailbox.claims == [[8, 9], [10]]

    asyncio.run(body())


class SlowClaimMailbox(CountingMailbox):
    """A claim that takes a while, so that sessions woken together overlap it."""

    async def claim_recent(self, uids: Sequence[Uid]) -> tuple[Uid, ...]:
        self.claims.append(list(uids))
        await asyncio.sleep(0.01)
        return tuple(uids) if len(self.claims) == 1 else ()


def test_sessions_woken_together_run_one_claim_and_one_gets_recent() -> None:
    async def body() -> None:
        feed = ChangeFeed()
        mailbox = SlowClaimMailbox()
        results = await asyncio.gather(
            *(feed.claim_recent(mailbox, [Uid(8), Uid(9)]) for _ in range(1000))  # type: ignore[arg-type]
        )
        assert mailbox.claims == [[8, 9]]
        assert results.count((Uid(8), Uid(9))) == 1
        assert results.count(()) == 999
        # A session that learned of a later message too claims only that one.
        first, later = await asyncio.gather(
            feed.claim_recent(mailbox, [Uid(10)]),  # type: ignore[arg-type]
            feed.claim_recent(mailbox, [Uid(10), Uid(11)]),  # type: ignore[arg-type]
        )
        assert mailbox.claims == [[8, 9], [10], [11]]
        assert (first, later) == ((), ())  # the fake grants only its first claim

    asyncio.run(body())


def test_a_failed_claim_makes_its_messages_recent_to_no_session() -> None:
    class Failing(SlowClaimMailbox):
        async def claim_recent(self, uids: Sequence[Uid]) -> tuple[Uid, ...]:
            self.claims.append(list(uids))
            await asyncio.sleep(0.01)
            raise OSError("disk went away")

    async def body() -> None:
        feed = ChangeFeed()
        mailbox = Failing()
        results = await asyncio.gather(
            *(feed.claim_recent(mailbox, [Uid(8)]) for _ in range(3)),  # type: ignore[arg-type]
            return_exceptions=True,
        )
        assert isinstance(results[0], OSError)
        assert results[1:] == [(), ()]  # never two sessions: the others did not wait
        assert mailbox.claims == [[8]]

    asyncio.run(body())
