"""Settings → the store and the password cost, for every process that opens the store.

The server, `buzon deliver`, the user commands, imports and the tests open the store
the same way. This module imports neither the IMAP service nor TLS: an MTA runs
`buzon deliver` for each message, and importing the whole server cost it about a second.
"""

from __future__ import annotations

from argon2 import Parameters, Type

from buzon.config import Settings
from buzon.storage.api import DefaultMailbox, Store
from buzon.storage.sqlite import SqliteStore

__all__ = ["argon2_parameters", "default_mailboxes", "open_store"]


def argon2_parameters(settings: Settings) -> Parameters:
    """The argon2id cost the configuration asks for."""
    auth = settings.auth
    return Parameters(
        type=Type.ID,
        version=19,
        salt_len=16,
        hash_len=32,
        time_cost=auth.argon2_time_cost,
        memory_cost=auth.argon2_memory_kib,
        parallelism=auth.argon2_parallelism,
    )


def default_mailboxes(settings: Settings) -> list[DefaultMailbox]:
    """The special-use mailboxes of a new account (RFC 6154 §2), named as configured."""
    names = settings.mailboxes
    return [
        DefaultMailbox(names.drafts, frozenset({"\\Drafts"})),
        DefaultMailbox(names.sent, frozenset({"\\Sent"})),
        DefaultMailbox(names.templates, frozenset()),
        DefaultMailbox(names.trash, frozenset({"\\Trash"})),
        DefaultMailbox(names.junk, frozenset({"\\Junk"})),
        DefaultMailbox(names.archive, frozenset({"\\Archive"})),
    ]


async def open_store(settings: Settings, *, watch: bool = False) -> Store:
    """The embedded store in the data directory, created on first use.

    With `watch` (the server), commits of other processes such as `buzon deliver` are
    published on the store's change bus.
    """
    return await SqliteStore.open(
        settings.server.data_dir,
        default_mailboxes=default_mailboxes(settings),
        synchronous_full=settings.storage.synchronous_full,
        watch=watch,
    )
