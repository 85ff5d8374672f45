"""Not-authenticated state: STARTTLS, LOGIN and AUTHENTICATE (RFC 9051 §6.2)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, NoReturn

from buzon.auth import (
    MAX_FAILURES_PER_CONNECTION,
    Failure,
    SaslAborted,
    ScramSha256Mechanism,
    Verify,
    new_mechanism,
    run_exchange,
)
from buzon.imap import commands as c
from buzon.imap.responses import CapabilityCode, Code, ContinuationData
from buzon.imap.words import ResponseCode
from buzon.server import capabilities
from buzon.server.outcome import Bad, No, Ok
from buzon.server.session import State
from buzon.storage.api import NotFound

if TYPE_CHECKING:
    from buzon.server.connection import Connection

log = logging.getLogger("buzon.imap")


async def handle_starttls(conn: Connection, cmd: c.StartTLS) -> Ok:
    """RFC 9051 §6.2.1: OK, then the handshake; the client's earlier bytes are dropped."""
    tls = conn.ctx.tls
    if conn.session.secure:
        raise Bad("TLS is already active")
    if tls is None:
        raise Bad("TLS is not configured on this server")
    context = tls.context

    async def handshake() -> None:
        await conn.start_tls(context)

    return Ok("Begin TLS negotiation now", then=handshake)


def _require_privacy(conn: Connection) -> None:
    if not capabilities.plaintext_allowed(conn):
        # RFC 9051 §6.2.3, RFC 5530 §3: PRIVACYREQUIRED
        raise No(
            "Plaintext authentication is disabled on unencrypted connections; use STARTTLS",
            Code(ResponseCode.PRIVACYREQUIRED),
        )


async def handle_login(conn: Connection, cmd: c.Login) -> Ok:
    """RFC 9051 §6.2.3."""
    _require_privacy(conn)
    return await _log_in(conn, cmd.username, cmd.password, "LOGIN")


async def handle_authenticate(conn: Connection, cmd: c.Authenticate) -> Ok:
    """RFC 9051 §6.2.2 with SASL-IR (RFC 4959); mechanisms from `buzon.auth.sasl`."""
    mech = new_mechanism(cmd.mechanism, channel_bindings=conn.channel_bindings())
    if mech is None:
        raise No(f"Unsupported authentication mechanism {cmd.mechanism}")
    if not isinstance(mech, ScramSha256Mechanism):
        # SCRAM never sends the password; PLAIN and LOGIN do (RFC 9051 §6.2.3).
        _require_privacy(conn)
    how = f"AUTHENTICATE {mech.name}"

    async def ask(data: bytes) -> bytes:
        await conn.send(ContinuationData(data))
        return await conn.read_line()

    try:
        outcome = await run_exchange(mech, cmd.initial_response, ask, conn.ctx.authenticator)
    except SaslAborted as exc:
        # RFC 9051 §6.2.2: a cancelled or malformed exchange is answered BAD.
        raise Bad(str(exc)) from None
    if isinstance(outcome, Failure):
        await _fail(conn, outcome.reason, how)
    if isinstance(outcome, Verify):
        return await _log_in(conn, outcome.authcid, outcome.password, how)
    return await _accept(conn, outcome.authcid, how)


async def _log_in(conn: Connection, user: str, password: str, how: str) -> Ok:
    if not await conn.ctx.authenticator.verify(user, password):
        await _fail(conn, f"wrong password or unknown user {user!r}", how)
    return await _accept(conn, user, how)


async def _fail(conn: Connection, reason: str, how: str) -> NoReturn:
    """Delay, count, log and refuse; after too many failures say BYE."""
    session = conn.session
    session.auth_failures += 1
    throttle = conn.ctx.throttle
    throttle.record_failure(conn.address)
    log.warning("session=%s peer=%s %s failed: %s", session.session_id, session.peer, how, reason)
    delay = throttle.delay_for(conn.address, session.auth_failures)
    if delay > 0:
        await asyncio.sleep(delay)
    if session.auth_failures >= MAX_FAILURES_PER_CONNECTION:
        session.close_reason = "Too many authentication failures"
    raise No("Authentication failed", Code(ResponseCode.AUTHENTICATIONFAILED))


async def _accept(conn: Connection, user: str, how: str) -> Ok:
    session = conn.session
    conn.ctx.throttle.record_success(conn.address)
    if not conn.claim_user_slot(user):
        raise No("Too many connections for this user", Code(ResponseCode.LIMIT))
    try:
        account = await conn.ctx.store.open_account(user)
    except NotFound:
        conn.release_user_slot()
        raise No("Authentication failed", Code(ResponseCode.AUTHENTICATIONFAILED)) from None
    session.user = user
    session.account = account
    session.state = State.AUTHENTICATED
    conn.authenticated()
    log.info(
        "session=%s user=%s peer=%s logged in (%s%s)",
        session.session_id,
        user,
        session.peer,
        how,
        ", TLS" if session.secure else "",
    )
    # RFC 9051 §6.2.3: the OK may carry the new capabilities, sparing a round trip.
    return Ok("Logged in", CapabilityCode(capabilities.for_session(conn)))
