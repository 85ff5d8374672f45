"""Commands valid in any state (RFC 9051 §6.1), ID (RFC 2971) and ENABLE (RFC 5161)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from buzon import __version__
from buzon.imap import commands as c
from buzon.imap import commands_ext as cx
from buzon.imap.responses import CapabilityData, Code, EnabledData, IdData, UntaggedStatus
from buzon.imap.words import ResponseCode, Status
from buzon.server import capabilities, rev2
from buzon.server.outcome import Bad, Ok
from buzon.server.session import State

if TYPE_CHECKING:
    from buzon.server.connection import Connection

log = logging.getLogger("buzon.imap")

# RFC 2971 §3.3: what the server says about itself.
_SERVER_ID: tuple[tuple[str, str | None], ...] = (
    ("name", "Buzon"),
    ("version", __version__),
    ("vendor", "Buzon project"),
    ("support-url", "https://buzon.example/docs"),
)


async def handle_capability(conn: Connection, cmd: c.Capability) -> Ok:
    """RFC 9051 §6.1.1."""
    await conn.send(CapabilityData(capabilities.for_session(conn)))
    return Ok()


async def handle_noop(conn: Connection, cmd: c.Noop) -> Ok:
    """RFC 9051 §6.1.2: does nothing; pending untagged updates are sent after it."""
    return Ok()


async def handle_logout(conn: Connection, cmd: c.Logout) -> Ok:
    """RFC 9051 §6.1.3: BYE, then the tagged OK, then the server closes."""
    await conn.send(UntaggedStatus(Status.BYE, "Logging out"))
    conn.session.state = State.LOGOUT
    return Ok()


async def handle_id(conn: Connection, cmd: c.Id) -> Ok:
    """RFC 2971 §3.1: note what the client says and say who we are."""
    session = conn.session
    if cmd.parameters is not None:
        session.client_id = dict(cmd.parameters)
        shown = " ".join(f"{k}={v!r}" for k, v in cmd.parameters)
        log.info(
            "session=%s user=%s peer=%s client id %s",
            session.session_id,
            session.user or "-",
            session.peer,
            shown,
        )
    await conn.send(IdData(_SERVER_ID))
    return Ok()


async def handle_enable(conn: Connection, cmd: c.Enable) -> Ok:
    """RFC 5161 §3.1: answer ENABLED with what was newly enabled; ignore the unknown."""
    session = conn.session
    newly: list[str] = []
    for name in cmd.capabilities:
        word = name.upper()
        canonical = next((e for e in capabilities.ENABLEABLE if e.upper() == word), None)
        if canonical is not None and canonical not in session.enabled:
            session.enabled.add(canonical)
            newly.append(canonical)
    # RFC 6855 §3, RFC 9051 Appendix A: later commands may carry UTF-8.
    rev2.after_enable(conn)
    await conn.send(EnabledData(tuple(newly)))
    return Ok()


async def handle_compress(conn: Connection, cmd: cx.Compress) -> Ok:
    """RFC 4978 §3: only DEFLATE; once per connection."""
    if cmd.mechanism.upper() != "DEFLATE":
        raise Bad(f"Unknown compression mechanism {cmd.mechanism}")
    if conn.compressed:
        raise Bad("Compression is already active", Code(ResponseCode.COMPRESSIONACTIVE))
    conn.start_compression()
    return Ok("DEFLATE active", then=conn.compress_output)
