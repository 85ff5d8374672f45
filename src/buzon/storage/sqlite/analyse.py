"""The parse of a new message, in this thread or spread over worker processes.

Theory of operation
-------------------
Everything a delivery computes from a message's bytes before its transaction (the MIME
structure, the search and sort fields, the preview) is pure CPU work on bytes:
`analyse` does it for one message. An `Analyser` runs it for a batch, normally in the
calling thread. A bulk import (`buzon import`, `buzon migrate`) calls `use_processes`
first: batches are then spread over worker processes, so that parsing uses every core
instead of one (Python threads share one interpreter lock). Workers are started with
"spawn", never forked from a process that runs database and event-loop threads. The
results are the same values either way; only where they are computed differs.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from buzon.mime import parse
from buzon.mime.preview import preview
from buzon.storage.fields import MessageFields, compute

__all__ = ["Analyser", "Analysis", "analyse"]


@dataclass(frozen=True, slots=True)
class Analysis:
    structure: bytes  # ParsedMessage.dumps()
    fields: MessageFields
    preview: str
    header: tuple[int, int]  # the message's header, blank line included (RFC 3501 HEADER)
    body_empty: bool  # nothing after the header (RFC 3501 §7.4.2's blank-line rule)


def analyse(data: bytes) -> Analysis:
    """Parse once; derive everything stored with a new content."""
    parsed = parse(data)
    root = parsed.root
    return Analysis(
        parsed.dumps(),
        compute(data, parsed),
        preview(data, parsed),
        (root.header_start, root.body_start),
        root.body_start >= root.body_end,
    )


class Analyser:
    """Runs `analyse` over batches; see the module docstring."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._workers = 0

    def use_processes(self, workers: int) -> None:
        """Analyse batches in `workers` processes from now on (0 or 1: in this thread)."""
        self.close()
        if workers > 1:
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(workers, mp_context=context)
            self._workers = workers

    def run(self, contents: Sequence[bytes]) -> list[Analysis]:
        pool = self._pool
        if pool is None or len(contents) < 2 * self._workers:
            return [analyse(data) for data in contents]
        chunk = max(1, len(contents) // (4 * self._workers))
        try:
            return list(pool.map(analyse, contents, chunksize=chunk))
        except BrokenProcessPool:  # a worker died (killed, out of memory): go on in-thread
            self.close()
            return [analyse(data) for data in contents]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
            self._workers = 0
