"""The FTS indexer goes on after a full batch only (ftsdb.Indexer)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from buzon.storage.sqlite import ftsdb
from buzon.storage.sqlite.executor import DbExecutor


class _Scripted(ftsdb.Indexer):
    """An indexer whose batches have the sizes of a script (no database work)."""

    def __init__(self, sizes: list[int], executor: DbExecutor, data_dir: Path) -> None:
        super().__init__(executor, data_dir)
        self.sizes = sizes
        self.calls: list[int] = []

    async def step(self) -> int:
        self.calls.append(self.sizes[len(self.calls)] if len(self.calls) < len(self.sizes) else 0)
        return self.calls[-1]


def test_indexer_stops_after_a_partial_batch_and_drains_a_backlog(tmp_path: Path) -> None:
    async def run() -> list[int]:
        executor = DbExecutor(tmp_path / "unused.db", synchronous_full=False)
        full = ftsdb.Indexer.BATCH
        indexer = _Scripted([full, full, 3, 2], executor, tmp_path)
        indexer.DELAY = 0.0
        indexer.kick()
        for _ in range(20):
            await asyncio.sleep(0)
        await indexer.stop()
        executor.close()
        return indexer.calls

    # Two full batches (a backlog), then the partial one that took the rest: no more
    # transactions until the next kick, instead of chasing the few texts delivered since.
    assert asyncio.run(run()) == [ftsdb.Indexer.BATCH, ftsdb.Indexer.BATCH, 3]
