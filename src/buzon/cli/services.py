"""The protocols served next to IMAP on the same store, built from the server's context.

`server/` may not import its sibling services (ARCHITECTURE.md), so the `buzon` command
builds them here and hands them to `server.app.serve`, which starts them after the IMAP
listeners and stops them before.
"""

from __future__ import annotations

from buzon.config import Settings
from buzon.lmtp.service import LmtpService, lmtp_enabled
from buzon.pop3 import Pop3Context, Pop3Endpoint, Pop3Server
from buzon.server.app import Service
from buzon.server.context import ServerContext


def pop3_endpoints(settings: Settings) -> list[Pop3Endpoint]:
    """POP3 listeners from the settings; a port of 0 disables that listener."""
    result: list[Pop3Endpoint] = []
    for host in settings.server.listen:
        if settings.server.pop3_port:
            result.append(Pop3Endpoint(host, settings.server.pop3_port, implicit_tls=False))
        if settings.server.pop3s_port:
            result.append(Pop3Endpoint(host, settings.server.pop3s_port, implicit_tls=True))
    return result


def pop3_server(ctx: ServerContext, endpoints: list[Pop3Endpoint]) -> Pop3Server:
    """POP3 on the IMAP side's store, authenticator, throttle, TLS context and counters."""
    tls = ctx.tls.context if ctx.tls is not None else None
    pop3_ctx = Pop3Context(
        ctx.settings,
        ctx.store,
        ctx.authenticator,
        ctx.throttle,
        tls,
        ctx.counts,
        tls_server_end_point=ctx.tls_server_end_point,
    )
    return Pop3Server(pop3_ctx, endpoints)


def extra_services(ctx: ServerContext) -> list[Service]:
    """Every enabled service besides IMAP."""
    services: list[Service] = []
    endpoints = pop3_endpoints(ctx.settings)
    if endpoints:
        services.append(pop3_server(ctx, endpoints))
    if lmtp_enabled(ctx.settings):
        tls = ctx.tls.context if ctx.tls is not None else None
        services.append(LmtpService(ctx.settings, ctx.store, tls))
    return services
