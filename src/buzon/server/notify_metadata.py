"""NOTIFY's metadata events: MailboxMetadataChange and ServerMetadataChange (RFC 5465 §5.6, §5.7).

Theory of operation
-------------------
`SETMETADATA` publishes a `MetadataChanged` notice after its commit (storage): for the
account that set it, or for every account when it is a /shared server entry (RFC 5464
§3.3: server annotations are the same for all users). A notifier whose plan asks for a
metadata event appends (mailbox, entry names) to its `metadata` list (`record`); when
the session may speak, `deliver` sends one unsolicited METADATA response per mailbox
with the names of the changed entries, never their values (RFC 5464 §4.4.2; RFC 5465
§5.6: "only the changed metadata SHOULD be included", and a removed entry always is).
The client needs no ENABLE for these (RFC 5465 §5.6, §5.7).

MailboxMetadataChange follows the event group's mailbox filter (PERSONAL, SUBTREE, ...);
ServerMetadataChange concerns the server, so any group that names it gets it. As with the
other events (RFC 5465 §5), the session's own SETMETADATA is not echoed back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from buzon.imap import commands_ext as cx
from buzon.imap.responses import MetadataNames
from buzon.server import mailbox_filter
from buzon.storage.api import DELIMITER, INBOX, MetadataChanged

if TYPE_CHECKING:
    from buzon.server.connection import Connection
    from buzon.server.notify import Notifier, Plan

MAILBOX_METADATA_CHANGE = "MAILBOXMETADATACHANGE"
SERVER_METADATA_CHANGE = "SERVERMETADATACHANGE"
METADATA_EVENTS = frozenset({MAILBOX_METADATA_CHANGE, SERVER_METADATA_CHANGE})

Pending = tuple[str, tuple[str, ...]]  # (mailbox, "" for the server; entry names)


def wants_metadata(plan: Plan) -> bool:
    return any(w.mailbox_metadata or w.server_metadata for w in plan.watches)


def record(notifier: Notifier, notice: MetadataChanged) -> bool:
    """Keep what `notice` says if the plan may want it; whether it was kept."""
    if not wants_metadata(notifier.plan):
        return False
    notifier.metadata.append((notice.mailbox, notice.entries))
    return True


def _wanted(notifier: Notifier, mailbox: str) -> bool:
    watches = notifier.plan.watches
    if mailbox == "":
        return any(w.server_metadata for w in watches)  # RFC 5465 §5.7
    return any(w.mailbox_metadata and w.matches(mailbox, notifier.subscribed) for w in watches)


def _order(mailbox: str) -> tuple[int, str]:
    if mailbox == "":
        return (0, "")
    return (1 if mailbox == INBOX or mailbox.startswith(INBOX + DELIMITER) else 2, mailbox)


async def deliver(conn: Connection, notifier: Notifier, command: object | None) -> None:
    """Send the unsolicited METADATA responses gathered since the last time."""
    records, notifier.metadata = notifier.metadata, []
    own = None
    if isinstance(command, cx.SetMetadata):
        own = mailbox_filter.canonical(command.mailbox) if command.mailbox else ""
    merged: dict[str, dict[str, None]] = {}
    for mailbox, entries in records:
        if mailbox == own or not _wanted(notifier, mailbox):
            continue
        merged.setdefault(mailbox, {}).update(dict.fromkeys(entries))
    for mailbox in sorted(merged, key=_order):
        # RFC 5465 §5.6 / RFC 5464 §4.4.2: * METADATA "INBOX" /shared/comment
        await conn.send(MetadataNames(mailbox, tuple(merged[mailbox])))
