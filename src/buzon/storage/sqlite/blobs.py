"""Message files named by content hash: data_dir/blobs/ab/cd/<sha256 hex>.

Theory of operation
-------------------
A file is written to blobs/tmp/ under a random name, fsynced, renamed to its final name
and the directory fsynced, all BEFORE the transaction that references it commits, so a
committed row never points at a missing or partial file. Files are immutable; identical
content shares one file.

Removal is the delicate part, because a writer may have found the file present (and
skipped writing it) just before another connection drops its last reference. The rules:
- files are unlinked only while holding SQLite's write lock, and only when no `contents`
  row references the hash (`txn.sweep_trash`, run as an exclusive write job so that it
  sees only committed state, never a reference dropped by a job of the same group that
  could still roll back);
- a transaction that inserts a new `contents` row for a file re-checks, under the write
  lock, that the file exists, and writes it again if not (`BlobStore.ensure`).
Together no committed row can lose its file. A crash between a commit that dropped the
last reference and the sweep leaves the hash in `blob_trash`, swept at the next open.

`write_many` writes the files of one batch (a MULTIAPPEND, an import batch) with the same
guarantees, but runs the fsyncs on a few threads at once: the file system folds
concurrent fsyncs into a few journal commits, so 500 files take about a tenth of the time
of 500 fsyncs in a row (docs/performance.md, the import rate).
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path

# Threads for concurrent fsyncs; more than this gained nothing on one disk.
SYNC_THREADS = 8


def _all(futures: Iterable[Future[None]]) -> None:
    """Wait for every one (none is left running), then raise the first failure."""
    done = list(futures)
    wait(done)
    for future in done:
        future.result()


def _write_synced(path: Path, data: bytes) -> None:
    """Create `path` with `data` and fsync it; no file is left behind on failure."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        path.unlink(missing_ok=True)
        raise
    os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BlobStore:
    """Content-addressed immutable files under one directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._tmp = root / "tmp"
        self._tmp.mkdir(parents=True, exist_ok=True)
        self._pool: ThreadPoolExecutor | None = None

    def path(self, digest: bytes) -> Path:
        name = digest.hex()
        return self.root / name[0:2] / name[2:4] / name

    def exists(self, digest: bytes) -> bool:
        return self.path(digest).exists()

    def write(self, digest: bytes, data: bytes) -> None:
        """Store `data` durably under `digest` unless a file is already there."""
        final = self.path(digest)
        if final.exists():
            return
        self._write_new(final, data)

    def write_many(self, items: Sequence[tuple[bytes, bytes]]) -> None:
        """`write` for each (digest, data); all are durable when this returns."""
        todo: dict[Path, bytes] = {}
        for digest, data in items:
            final = self.path(digest)
            if final not in todo and not final.exists():
                todo[final] = data
        if len(todo) <= 1:
            for final, data in todo.items():
                self._write_new(final, data)
            return
        changed: set[Path] = set()  # directories whose entries change
        for final in todo:
            parent = final.parent
            if not parent.is_dir():
                parent.mkdir(parents=True, exist_ok=True)
                changed.update((parent.parent, self.root))
            changed.add(parent)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(SYNC_THREADS, thread_name_prefix="blob-sync")
        pool = self._pool
        tmps = [self._tmp / f"{f.name}.{secrets.token_hex(8)}" for f in todo]
        try:
            _all(pool.submit(_write_synced, t, d) for t, d in zip(tmps, todo.values(), strict=True))
            for tmp, final in zip(tmps, todo, strict=True):
                os.replace(tmp, final)
            _all(pool.submit(_fsync_dir, d) for d in changed)
        finally:
            for tmp in tmps:
                tmp.unlink(missing_ok=True)

    def close(self) -> None:
        """Stop the fsync threads (they start again when needed)."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def ensure(self, digest: bytes, data: bytes) -> None:
        """Like `write`; call under the write lock before referencing a new hash."""
        self.write(digest, data)

    def _write_new(self, final: Path, data: bytes) -> None:
        parent = final.parent
        if not parent.is_dir():
            parent.mkdir(parents=True, exist_ok=True)
            _fsync_dir(parent.parent)
            _fsync_dir(self.root)
        tmp = self._tmp / f"{final.name}.{secrets.token_hex(8)}"
        _write_synced(tmp, data)
        os.replace(tmp, final)
        _fsync_dir(parent)

    def read(self, digest: bytes) -> bytes:
        return self.path(digest).read_bytes()

    def unlink(self, digest: bytes) -> None:
        self.path(digest).unlink(missing_ok=True)

    def clean_tmp(self, older_than: float = 3600.0) -> None:
        """Remove leftovers of interrupted writes.

        Only old ones: another process sharing the data dir may be writing right now.
        """
        limit = time.time() - older_than
        for entry in self._tmp.iterdir():
            try:
                if entry.stat().st_mtime < limit:
                    entry.unlink(missing_ok=True)
            except FileNotFoundError:
                continue
