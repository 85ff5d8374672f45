"""The FTS indexer goes on after a full batch only (index.Indexer)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable

from buzon.storage.sqlite import index


def test_indexer_stops_after_a_partial_batch_and_drains_a_backlog() -> None:
    async def run() -> list[int]:
        pending = [index.Indexer.BATCH, index.Indexer.BATCH, 3, 2]  # what each write indexes
        calls: list[int] = []

        async def write(fn: Callable[[sqlite3.Connection], int]) -> int:
            calls.append(pending[len(calls)] if len(calls) < len(pending) else 0)
            return calls[-1]

        indexer = index.Indexer(write)
        indexer.DELAY = 0.0
        indexer.kick()
        for _ in range(20):
            await asyncio.sleep(0)
        await indexer.stop()
        return calls

    # Two full batches (a backlog), then the partial one that took the rest: no more
    # transactions until the next kick, instead of chasing the few texts delivered since.
    assert asyncio.run(run()) == [index.Indexer.BATCH, index.Indexer.BATCH, 3]
