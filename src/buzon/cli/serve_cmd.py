"""`buzon serve`: the IMAP service with POP3 and LMTP beside it, until a signal.

Imported by `cli.main` only when serving, so that the other commands start quickly.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from buzon.cli.demo import install_demo
from buzon.cli.services import extra_services
from buzon.config import Settings
from buzon.server.app import serve
from buzon.server.listener import Bound
from buzon.storage.api import Store

try:
    import uvloop
except ImportError:  # uvloop is optional (the "fast" extra)
    uvloop = None  # type: ignore[assignment]

__all__ = ["run"]


def run(args: argparse.Namespace, settings: Settings) -> None:
    prepare = None
    if args.demo:

        async def prepare_demo(store: Store) -> None:
            await install_demo(store, settings)

        prepare = prepare_demo

    def ready(bound: list[Bound]) -> None:
        if args.demo:
            for b in bound:
                kind = "imaps" if b.implicit_tls else "imap"
                logging.getLogger("buzon").info(
                    "demo: log in as user demo (password in the README) at %s://%s:%d",
                    kind,
                    b.host,
                    b.port,
                )

    _run(serve(settings, prepare=prepare, ready=ready, services=extra_services))


def _run(coro: Coroutine[Any, Any, None]) -> None:
    """Run on uvloop when it is installed (ARCHITECTURE.md), else on asyncio's loop."""
    if uvloop is None:
        asyncio.run(coro)
    else:
        uvloop.run(coro)
