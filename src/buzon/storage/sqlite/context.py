"""What the store, its accounts and its mailboxes share: executor, blobs, bus, limits."""

from __future__ import annotations

from dataclasses import dataclass, field

from buzon.storage.bus import LocalBus
from buzon.storage.sqlite import txn
from buzon.storage.sqlite.analyse import Analyser
from buzon.storage.sqlite.blobs import BlobStore
from buzon.storage.sqlite.executor import DbExecutor
from buzon.storage.sqlite.flagindex import FlagIndex
from buzon.storage.sqlite.ftsdb import Indexer


@dataclass(frozen=True, slots=True)
class Backend:
    executor: DbExecutor
    blobs: BlobStore
    bus: LocalBus
    inline_limit: int
    indexer: Indexer
    flag_index: FlagIndex = field(default_factory=FlagIndex)
    analyser: Analyser = field(default_factory=Analyser)  # parsing of new messages

    async def sweep(self) -> None:
        """Remove files whose last reference was dropped (a write transaction: the lock)."""
        blobs = self.blobs
        await self.executor.write(lambda conn: txn.sweep_trash(conn, blobs), exclusive=True)
