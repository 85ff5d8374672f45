"""The SQLite backend of the storage API (one file database plus content-addressed blobs)."""

from __future__ import annotations

from buzon.storage.sqlite.account import SqliteAccount
from buzon.storage.sqlite.mailbox import SqliteMailbox
from buzon.storage.sqlite.store import SqliteStore

__all__ = ["SqliteAccount", "SqliteMailbox", "SqliteStore"]
