"""METADATA and METADATA-SERVER (RFC 5464): GETMETADATA and SETMETADATA.

Theory of operation
-------------------
Entry names are checked here (RFC 5464 §3.2: a bad name is BAD); storage keeps the
values (`storage/sqlite/metadata.py`). /private entries are per user, /shared ones
belong to the mailbox, or to the server for the mailbox "" (RFC 5464 §3.3). Any user
reads server annotations; only the users named in `auth.admins` may set /shared server
ones, and /shared/admin is read-only for everyone (RFC 5464 §3.2.1.1). Limits come from
the `limits` settings: the size of one value ([METADATA MAXSIZE n]) and the number of
entries of one mailbox and scope ([METADATA TOOMANY]); RFC 5464 §4.1 asks for at least
1024 octets and 10 entries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from buzon.imap import commands_ext as x
from buzon.imap.responses import Code, CodeText, MetadataData
from buzon.imap.words import ResponseCode
from buzon.server.outcome import Bad, No, Ok
from buzon.storage.api import Account, TooMany

if TYPE_CHECKING:
    from buzon.server.connection import Connection

_SCOPES = ("private", "shared")
_DEPTHS = {None: 0, "0": 0, "1": 1, "infinity": None}


def entry_problem(name: str, *, for_set: bool) -> str | None:
    """Why `name` is not a valid entry name (RFC 5464 §3.2), or None.

    GETMETADATA also accepts the bare scopes and short vendor prefixes, useful with DEPTH.
    """
    if not name.isascii() or any(ord(ch) < 0x20 or ch in "*%\x7f" for ch in name):
        return "entry names are ASCII without control characters, * or %"
    if "//" in name or name.endswith("/") or not name.startswith("/"):
        return "entry names start with / and have no empty component"
    parts = name.lower().split("/")[1:]
    if parts[0] not in _SCOPES:
        return "entry names start with /private or /shared"
    if for_set:
        if len(parts) < 2:
            return "an entry name has at least two components"
        if parts[1] == "vendor" and len(parts) < 4:
            return "a vendor entry name has at least four components"
    return None


def _account(conn: Connection) -> Account:
    account = conn.session.account
    assert account is not None, "the registry only admits authenticated sessions"
    return account


async def handle_getmetadata(conn: Connection, cmd: x.GetMetadata) -> Ok:
    """RFC 5464 §4.2 with MAXSIZE (§4.2.1) and DEPTH (§4.2.2)."""
    for entry in cmd.entries:
        problem = entry_problem(entry, for_set=False)
        if problem is not None:
            raise Bad(f"Invalid entry {entry!r}: {problem}")
    depth = _DEPTHS[cmd.depth]
    found = await _account(conn).get_metadata(cmd.mailbox, cmd.entries, depth)
    values: list[tuple[str, bytes | None]] = []
    longest = 0
    for item in found:
        if cmd.maxsize is not None and len(item.value) > cmd.maxsize:
            longest = max(longest, len(item.value))
            continue
        values.append((item.name, item.value))
    # An entry asked for by its full name that has no value is answered NIL.
    have = {item.name.lower() for item in found}
    for entry in dict.fromkeys(cmd.entries):
        if entry.lower() not in have and entry_problem(entry, for_set=True) is None:
            values.append((entry, None))
    if values:
        await conn.send(MetadataData(cmd.mailbox, tuple(values)))
    if longest:
        # RFC 5464 §4.2.1: the size of the biggest value left out.
        return Ok(code=CodeText(ResponseCode.METADATA, f"LONGENTRIES {longest}"))
    return Ok()


async def handle_setmetadata(conn: Connection, cmd: x.SetMetadata) -> Ok:
    """RFC 5464 §4.3: all values are set or none."""
    limits = conn.ctx.settings.limits
    admin = conn.session.user in conn.ctx.settings.auth.admins
    for entry, value in cmd.values:
        problem = entry_problem(entry, for_set=True)
        if problem is not None:
            raise Bad(f"Invalid entry {entry!r}: {problem}")
        folded = entry.lower()
        # RFC 5464 §3.3: a server may restrict server annotations; /shared/admin is always
        # read-only (§3.2.1.1).
        shared_server = cmd.mailbox == "" and folded.startswith("/shared/")
        if shared_server and (folded == "/shared/admin" or not admin):
            raise No("Shared server annotations are read-only", Code(ResponseCode.NOPERM))
        if value is not None and len(value) > limits.max_metadata_size:
            raise No(
                "Annotation value too large",
                CodeText(ResponseCode.METADATA, f"MAXSIZE {limits.max_metadata_size}"),
            )
    try:
        await _account(conn).set_metadata(
            cmd.mailbox, cmd.values, max_entries=limits.max_metadata_entries
        )
    except TooMany as exc:
        raise No(str(exc), CodeText(ResponseCode.METADATA, "TOOMANY")) from exc
    return Ok()
