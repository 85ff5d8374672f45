"""Fixtures for the storage contract suite.

`open_store` is parametrised over backends: each test gets a factory that opens the same
fresh store (same data directory) every time it is entered, so "reopen" is just entering
it twice. A PostgreSQL backend is added by adding a parameter here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest

from buzon.storage import DefaultMailbox, Store
from buzon.storage.sqlite import SqliteStore

DEFAULTS = (
    DefaultMailbox("Sent", frozenset({"\\Sent"})),
    DefaultMailbox("Trash", frozenset({"\\Trash"})),
)

StoreOpener = Callable[[], AbstractAsyncContextManager[Store]]


def sqlite_opener(data_dir: Path, *, inline_limit: int = 1024) -> StoreOpener:
    @asynccontextmanager
    async def opener() -> AsyncIterator[Store]:
        store = await SqliteStore.open(
            data_dir, default_mailboxes=DEFAULTS, synchronous_full=False, inline_limit=inline_limit
        )
        try:
            yield store
        finally:
            await store.close()

    return opener


BACKENDS: dict[str, Callable[[Path], StoreOpener]] = {"sqlite": sqlite_opener}


@pytest.fixture(params=sorted(BACKENDS))
def opener_factory(request: pytest.FixtureRequest) -> Callable[[Path], StoreOpener]:
    """For each backend: a function from a data directory to a store opener."""
    factory: Callable[[Path], StoreOpener] = BACKENDS[request.param]
    return factory


@pytest.fixture
def open_store(opener_factory: Callable[[Path], StoreOpener], tmp_path: Path) -> StoreOpener:
    """Opens the same fresh store each time it is entered (re-entering is a restart)."""
    return opener_factory(tmp_path / "data")
