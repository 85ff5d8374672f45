"""Wiring: settings → store, authenticator, TLS → listeners; run until a signal."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from buzon.auth import Authenticator, FailureThrottle, tls_server_end_point
from buzon.config import Settings
from buzon.server.context import ServerContext
from buzon.server.listener import Bound, Endpoint, ImapServer
from buzon.server.stores import argon2_parameters, open_store
from buzon.server.tls import load_or_create_tls
from buzon.storage.api import Store

log = logging.getLogger("buzon.server")


class Service(Protocol):
    """Another protocol on the same store (POP3), started after the IMAP listeners.

    Built by `cli/` from the server's context, since `server/` may not import its siblings.
    """

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def build_context(settings: Settings, store: Store) -> ServerContext:
    """The shared state of a server process, TLS material created if needed."""
    tls = load_or_create_tls(settings.server.data_dir, settings.tls.cert, settings.tls.key)
    if tls.generated:
        log.info("generated a self-signed TLS certificate in %s", settings.server.data_dir / "tls")
    log.info("TLS certificate SHA-256 fingerprint %s", tls.fingerprint_sha256)
    authenticator = Authenticator(
        store.get_user_secret,
        cache_ttl=settings.auth.cache_ttl,
        hash_params=argon2_parameters(settings),
    )
    return ServerContext(
        settings=settings,
        store=store,
        authenticator=authenticator,
        throttle=FailureThrottle(),
        tls=tls,
        tls_server_end_point=_end_point(tls.cert_path),
    )


def _end_point(cert_path: Path) -> bytes:
    """RFC 5929 tls-server-end-point data of the server certificate (SCRAM -PLUS)."""
    certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
    return tls_server_end_point(certificate.public_bytes(serialization.Encoding.DER))


def endpoints(settings: Settings) -> list[Endpoint]:
    """Listeners from the settings; a port of 0 disables that listener."""
    result: list[Endpoint] = []
    for host in settings.server.listen:
        if settings.server.imap_port:
            result.append(Endpoint(host, settings.server.imap_port, implicit_tls=False))
        if settings.server.imaps_port:
            result.append(Endpoint(host, settings.server.imaps_port, implicit_tls=True))
    return result


async def serve(
    settings: Settings,
    *,
    prepare: Callable[[Store], Awaitable[None]] | None = None,
    ready: Callable[[list[Bound]], None] | None = None,
    services: Callable[[ServerContext], Sequence[Service]] | None = None,
) -> None:
    """Run the service until SIGTERM or SIGINT, then say BYE to every session."""
    settings.server.data_dir.mkdir(parents=True, exist_ok=True)
    store = await open_store(settings, watch=True)
    try:
        if prepare is not None:
            await prepare(store)
        ctx = build_context(settings, store)
        server = ImapServer(ctx)
        listeners = endpoints(settings)
        if not listeners:
            log.warning("no listener is enabled (both ports are 0)")
        bound = await server.start(listeners)
        extra = list(services(ctx)) if services is not None else []
        for service in extra:
            await service.start()
        if ready is not None:
            ready(bound)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        log.info("shutting down")
        for service in reversed(extra):
            await service.stop()
        await server.stop()
    finally:
        await store.close()
    log.info("stopped")
