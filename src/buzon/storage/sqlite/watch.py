"""Changes committed by other processes, turned into change-bus notices.

Theory of operation
-------------------
`buzon deliver` (and any other process that opens the same data directory) commits to
the SQLite file without passing through this process's `LocalBus`, so the sessions here
would learn of a delivered message only at a command that happens to pull changes, and an
idling client not at all. The watcher closes that gap.

Every `interval` seconds it reads `PRAGMA data_version` on its own connection: SQLite
changes that number whenever another connection (of any process, this one's writer
included) has committed since the last read, and reading it costs no I/O. Only when it
moved does the watcher look at the mailboxes of the accounts that have subscribers on the
bus (the ones someone is looking at), compare each `highest_modseq` with what it saw last,
and publish `MailboxChanged` for those that moved; a mailbox that appeared or vanished
also gives `MailboxListChanged`. A change this process made itself was already published
after its commit: the bus remembers the last modseq it published per mailbox, and the
watcher stays quiet when that is not older than what it found.

An account that gains its first subscriber is read at the next tick whatever the data
version says, and each of its mailboxes gets one notice: a change committed between the
subscriber's own snapshot and that first read would otherwise be missed. A notice too many
costs the subscriber one `changes_since` that finds nothing.

Any commit also calls `on_commit` (the store kicks its full-text indexer with it: a bulk
import by `buzon import` leaves its texts for the server to index).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

from buzon.storage.api import MailboxChanged, MailboxListChanged, ModSeq
from buzon.storage.bus import LocalBus
from buzon.storage.sqlite.executor import connect

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 0.15

Rows = list[tuple[str, int, int]]  # (account, mailbox id, highest modseq)


class ChangeWatcher:
    """Polls the database file for commits of other processes; see the module docstring."""

    def __init__(
        self,
        db_path: Path,
        bus: LocalBus,
        *,
        interval: float = DEFAULT_INTERVAL,
        synchronous_full: bool = True,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self._path = db_path
        self._on_commit = on_commit  # called when the data version moved (any commit)
        self._moved = False
        self._bus = bus
        self._interval = interval
        self._sync_full = synchronous_full
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()  # the connection is used from worker threads
        self._version: int | None = None
        self._known: dict[str, dict[int, int]] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start polling on the running event loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await asyncio.to_thread(self._close)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.poll()
            except Exception:  # a locked or busy file now is no reason to stop watching
                log.exception("change watcher poll failed")

    async def poll(self) -> None:
        """One tick: publish notices for what other connections committed since the last."""
        accounts = self._bus.accounts()
        for gone in [a for a in self._known if a not in accounts]:
            del self._known[gone]
        new = sorted(a for a in accounts if a not in self._known)
        result = await asyncio.to_thread(self._read, sorted(accounts), new)
        if self._moved and self._on_commit is not None:
            self._on_commit()
        if result is None:
            return
        queried, rows = result
        seen: dict[str, dict[int, int]] = {a: {} for a in queried}
        for account, mailbox_id, modseq in rows:
            seen.setdefault(account, {})[mailbox_id] = modseq
        for account, mailboxes in seen.items():
            before = self._known.get(account)
            self._known[account] = mailboxes
            if before is None:
                for mailbox_id, modseq in mailboxes.items():
                    self._publish(account, mailbox_id, modseq)
                continue
            for mailbox_id, modseq in mailboxes.items():
                if before.get(mailbox_id, 0) < modseq:
                    self._publish(account, mailbox_id, modseq)
            if before.keys() != mailboxes.keys():
                self._bus.publish(MailboxListChanged(account))

    def _publish(self, account: str, mailbox_id: int, modseq: int) -> None:
        key = str(mailbox_id)
        if self._bus.published_modseq(key) >= modseq:
            return  # this process's own change, already announced after its commit
        self._bus.publish(MailboxChanged(account, key, ModSeq(modseq)))

    def _read(self, accounts: list[str], new: list[str]) -> tuple[list[str], Rows] | None:
        """The accounts read and their rows: all `accounts` if the data version moved, else
        the `new` ones only; None when there is nothing to read."""
        with self._lock:
            if self._conn is None:
                self._conn = connect(self._path, synchronous_full=self._sync_full)
            conn = self._conn
            version = int(conn.execute("PRAGMA data_version").fetchone()[0])
            moved = self._version is not None and version != self._version
            self._version = version
            self._moved = moved
            wanted = accounts if moved else new
            if not wanted:
                return None
            return wanted, [
                (str(name), int(mailbox_id), int(modseq))
                for name, mailbox_id, modseq in conn.execute(
                    "SELECT u.name, m.id, m.highest_modseq FROM mailboxes m"
                    " JOIN users u ON u.id = m.user_id"
                    " WHERE u.name IN (SELECT value FROM json_each(?))",
                    (json.dumps(wanted),),
                )
            ]

    def _close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
