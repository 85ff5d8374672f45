"""When the FTS indexer works (ftsdb.Indexer): batches, pauses for bursts, backlog bound."""

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
        self.waiting = 0  # what `_backlog` says

    async def step(self) -> int:
        self.calls.append(self.sizes[len(self.calls)] if len(self.calls) < len(self.sizes) else 0)
        return self.calls[-1]

    async def _backlog(self) -> int:
        return self.waiting


def test_indexer_stops_after_a_partial_batch_and_drains_a_backlog(tmp_path: Path) -> None:
    async def run() -> list[int]:
        executor = DbExecutor(tmp_path / "unused.db", synchronous_full=False)
        full = ftsdb.Indexer.BATCH
        indexer = _Scripted([full, full, 3, 2], executor, tmp_path)
        indexer.DELAY = 0.0
        indexer.QUIET = 0.0
        indexer.kick()
        for _ in range(20):
            await asyncio.sleep(0)
        await indexer.stop()
        executor.close()
        return indexer.calls

    # Two full batches (a backlog), then the partial one that took the rest: no more
    # transactions until the next kick, instead of chasing the few texts delivered since.
    assert asyncio.run(run()) == [ftsdb.Indexer.BATCH, ftsdb.Indexer.BATCH, 3]


def test_indexer_waits_for_a_burst_to_pause_unless_the_backlog_is_large(tmp_path: Path) -> None:
    async def run() -> tuple[int, int, int]:
        executor = DbExecutor(tmp_path / "unused.db", synchronous_full=False)
        indexer = _Scripted([], executor, tmp_path)  # every batch partial (0)
        indexer.DELAY = 0.0
        indexer.QUIET = 0.2
        indexer.BACKLOG = 50
        indexer.waiting = 10
        for _ in range(10):  # deliveries every 50 ms: a burst
            indexer.kick()
            await asyncio.sleep(0.05)
        during = len(indexer.calls)
        await asyncio.sleep(0.4)  # the burst paused: the indexer catches up
        after_pause = len(indexer.calls)
        indexer.waiting = 50  # a long burst: the backlog reaches the bound
        for _ in range(4):
            indexer.kick()
            await asyncio.sleep(0.05)
        in_long_burst = len(indexer.calls)
        await indexer.stop()
        executor.close()
        return during, after_pause, in_long_burst

    during, after_pause, in_long_burst = asyncio.run(run())
    assert during == 0
    assert after_pause >= 1
    assert in_long_burst > after_pause  # indexed while deliveries still came
