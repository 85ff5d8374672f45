"""NOTIFY SET and NOTIFY NONE (RFC 5465 §3.1); the events themselves are in notify.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

from buzon.imap import commands_ext as cx
from buzon.server import notify
from buzon.server.outcome import Ok

if TYPE_CHECKING:
    from buzon.server.connection import Connection


async def handle_notify(conn: Connection, cmd: cx.Notify) -> Ok:
    """RFC 5465 §3.1: SET replaces the events of interest, NONE drops them all.

    A refused SET leaves the previous one in force. The implicit NOOP that a successful
    SET implies is the untagged updates every command gets before its tagged response.
    """
    if cmd.none:
        notify.stop(conn)
        return Ok("NOTIFY completed")
    plan = notify.compile_plan(cmd)
    await notify.start(conn, plan, send_status=cmd.status)
    return Ok("NOTIFY completed")
