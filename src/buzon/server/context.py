"""What every connection of one server process shares: settings, store, auth, counters."""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from buzon.auth import Authenticator, FailureThrottle
from buzon.config import Settings
from buzon.server.fanout import IdleFanOut
from buzon.server.selection import ChangeFeed
from buzon.server.tls import TlsSetup
from buzon.storage.api import Store

if TYPE_CHECKING:
    from buzon.server.connection import Connection


@dataclass(slots=True)
class ConnectionCounts:
    """Open connections in total, per user and per source address, for the limits."""

    total: int = 0
    per_user: collections.Counter[str] = field(default_factory=collections.Counter)
    per_address: collections.Counter[str] = field(default_factory=collections.Counter)

    def drop_user(self, user: str) -> None:
        self.per_user[user] -= 1
        if self.per_user[user] <= 0:
            del self.per_user[user]

    def drop_address(self, address: str) -> None:
        self.per_address[address] -= 1
        if self.per_address[address] <= 0:
            del self.per_address[address]


@dataclass(slots=True)
class ServerContext:
    """Shared by all connections of one server process."""

    settings: Settings
    store: Store
    authenticator: Authenticator
    throttle: FailureThrottle
    tls: TlsSetup | None
    # RFC 5929 tls-server-end-point data for SCRAM-SHA-256-PLUS (None without a certificate).
    tls_server_end_point: bytes | None = None
    counts: ConnectionCounts = field(default_factory=ConnectionCounts)
    # Shared change queries for sessions woken by the same commit (see selection.py).
    feed: ChangeFeed = field(default_factory=ChangeFeed)
    # Tells sessions parked in IDLE of changes without waking their tasks (fanout.py).
    fanout: IdleFanOut = field(default_factory=IdleFanOut)
    connections: set[Connection] = field(default_factory=set)
