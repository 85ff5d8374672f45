"""Mailbox commands of the authenticated state (RFC 9051 §6.3, RFC 5258, RFC 6154).

Also NAMESPACE (RFC 2342, see `namespaces`), LIST-STATUS (RFC 5819) and Gmail's XLIST.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from buzon.imap import commands as c
from buzon.imap.commands_values import ListReturn, ListSelect
from buzon.imap.responses import (
    ChildInfo,
    Code,
    ListData,
    LsubData,
    MailboxId,
    StatusData,
    StatusValue,
    XlistData,
)
from buzon.imap.words import MailboxAttr, ResponseCode, StatusItem
from buzon.server.listing import ListEntry, ListRequest, list_mailboxes, list_subscribed
from buzon.server.namespaces import namespace_data, reserved
from buzon.server.outcome import No, Ok
from buzon.storage.api import DELIMITER, INBOX, Account, MailboxInfo, MailboxStatus, NotFound

if TYPE_CHECKING:
    from buzon.server.connection import Connection

# RFC 6154 §2 and RFC 8457: the special-use attributes CREATE accepts (USE (...)).
SPECIAL_USE = frozenset(
    str(a)
    for a in (
        MailboxAttr.ALL,
        MailboxAttr.ARCHIVE,
        MailboxAttr.DRAFTS,
        MailboxAttr.FLAGGED,
        MailboxAttr.JUNK,
        MailboxAttr.SENT,
        MailboxAttr.TRASH,
        MailboxAttr.IMPORTANT,
    )
)


# Gmail's XLIST names for the RFC 6154 uses that differ; old clients know only these.
_XLIST_NAMES = {
    str(MailboxAttr.ALL): "\\AllMail",
    str(MailboxAttr.JUNK): "\\Spam",
    str(MailboxAttr.FLAGGED): "\\Starred",
}


def _refuse_reserved(name: str) -> None:
    if reserved(name):
        # RFC 2342 §5: these prefixes start the other users' and shared namespaces.
        raise No(
            f'"{name}" lies in the Other Users or Shared Folders namespace',
            Code(ResponseCode.CANNOT),
        )


async def _personal_mailboxes(account: Account) -> list[MailboxInfo]:
    return [m for m in await account.list_mailboxes() if not reserved(m.name)]


def _account(conn: Connection) -> Account:
    account = conn.session.account
    assert account is not None, "the registry only admits authenticated sessions"
    return account


async def handle_create(conn: Connection, cmd: c.Create) -> Ok:
    """RFC 9051 §6.3.4; CREATE-SPECIAL-USE (RFC 6154 §3)."""
    # RFC 9051 §6.3.4: a trailing delimiter declares the intent to create children.
    name = cmd.mailbox.removesuffix(DELIMITER) if cmd.mailbox != DELIMITER else cmd.mailbox
    if name == INBOX:
        raise No("INBOX always exists", Code(ResponseCode.ALREADYEXISTS))
    _refuse_reserved(name)
    uses: set[str] = set()
    for attr in cmd.special_use:
        canonical = next((u for u in SPECIAL_USE if u.lower() == attr.lower()), None)
        if canonical is None:
            # RFC 6154 §3: an unknown or unsupported use gets NO [USEATTR].
            raise No(f"Unsupported special-use attribute {attr}", Code(ResponseCode.USEATTR))
        uses.add(canonical)
    info = await _account(conn).create_mailbox(name, special_use=frozenset(uses))
    # RFC 8474 §4.1: the tagged OK of every successful CREATE carries the MAILBOXID.
    return Ok(code=MailboxId(info.objectid) if info.objectid else None)


async def handle_delete(conn: Connection, cmd: c.Delete) -> Ok:
    """RFC 9051 §6.3.5: INBOX cannot be deleted; parents with children become \\Noselect."""
    if cmd.mailbox == INBOX:
        raise No("INBOX cannot be deleted", Code(ResponseCode.CANNOT))
    await _account(conn).delete_mailbox(cmd.mailbox)
    return Ok()


async def handle_rename(conn: Connection, cmd: c.Rename) -> Ok:
    """RFC 9051 §6.3.6: children move along; renaming INBOX moves its messages."""
    if cmd.new_name == INBOX:
        raise No("INBOX already exists", Code(ResponseCode.ALREADYEXISTS))
    _refuse_reserved(cmd.new_name)
    await _account(conn).rename_mailbox(cmd.mailbox, cmd.new_name)
    return Ok()


async def handle_subscribe(conn: Connection, cmd: c.Subscribe) -> Ok:
    """RFC 9051 §6.3.7: the name need not exist (RFC 3501 §6.3.6 allows either)."""
    await _account(conn).subscribe(cmd.mailbox)
    return Ok()


async def handle_unsubscribe(conn: Connection, cmd: c.Unsubscribe) -> Ok:
    """RFC 9051 §6.3.8."""
    await _account(conn).unsubscribe(cmd.mailbox)
    return Ok()


async def handle_namespace(conn: Connection, cmd: c.Namespace) -> Ok:
    """RFC 2342 §5: the personal namespace with no prefix, and the reserved two."""
    await conn.send(namespace_data())
    return Ok()


async def handle_list(conn: Connection, cmd: c.List) -> Ok:
    """RFC 9051 §6.3.9, RFC 5258 (LIST-EXTENDED), RFC 5819 (LIST-STATUS)."""
    account = _account(conn)
    # RFC 5258 §3: only the basic LIST treats an empty pattern as a question for the
    # delimiter; an extended one ignores empty patterns.
    if not cmd.extended and cmd.patterns == ("",):
        await conn.send(ListData((MailboxAttr.NOSELECT,), DELIMITER, _root(cmd.reference)))
        return Ok()
    request = ListRequest(
        reference=cmd.reference,
        patterns=cmd.patterns,
        select_subscribed=ListSelect.SUBSCRIBED in cmd.selection,
        recursive_match=ListSelect.RECURSIVEMATCH in cmd.selection,
        select_special_use=ListSelect.SPECIAL_USE in cmd.selection,
        return_subscribed=ListReturn.SUBSCRIBED in cmd.return_options,
    )
    # RFC 5258 §3.1: REMOTE adds remote mailboxes; this server has none, so it is a no-op.
    # RFC 5258 §3.5: CHILDINFO names the selection criteria that brought the parent in.
    child_info = ChildInfo(
        tuple(
            o.value for o in (ListSelect.SUBSCRIBED, ListSelect.SPECIAL_USE) if o in cmd.selection
        )
    )
    mailboxes = await _personal_mailboxes(account)
    subscriptions = await account.subscriptions()
    for entry in list_mailboxes(mailboxes, subscriptions, request):
        await _send_listed(conn, account, cmd, entry, child_info)
    return Ok()


async def _send_listed(
    conn: Connection, account: Account, cmd: c.List, entry: ListEntry, child_info: ChildInfo
) -> None:
    attrs = entry.attributes
    status: MailboxStatus | None = None
    if (
        cmd.status_items
        and MailboxAttr.NOSELECT not in attrs
        and MailboxAttr.NONEXISTENT not in attrs
    ):
        try:
            status = await account.mailbox_status(entry.name)
        except NotFound:
            # RFC 5819 §2: no STATUS for a mailbox that cannot be selected (now), and then
            # the LIST response must say \Noselect.
            attrs = (MailboxAttr.NOSELECT.value, *attrs)
    extended = (child_info,) if entry.child_subscribed else ()
    await conn.send(ListData(attrs, DELIMITER, entry.name, extended))
    if status is not None:
        # RFC 5819 §2: the STATUS response follows the LIST response of its mailbox.
        values = _status_values(status, cmd.status_items, conn, entry.name)
        await conn.send(StatusData(entry.name, values))


def _root(reference: str) -> str:
    """RFC 3501 §6.3.8: the root of the reference, with its delimiter ("" without one)."""
    head, sep, _ = reference.partition(DELIMITER)
    return head + sep if sep else ""


async def handle_xlist(conn: Connection, cmd: c.Xlist) -> Ok:
    """XLIST, Gmail's predecessor of RFC 6154: basic LIST with \\Inbox and Gmail's names."""
    account = _account(conn)
    if cmd.pattern == "":
        await conn.send(XlistData((MailboxAttr.NOSELECT,), DELIMITER, _root(cmd.reference)))
        return Ok()
    request = ListRequest(reference=cmd.reference, patterns=(cmd.pattern,))
    mailboxes = await _personal_mailboxes(account)
    for entry in list_mailboxes(mailboxes, (), request):
        attrs = [_XLIST_NAMES.get(a, a) for a in entry.attributes]
        if entry.name == INBOX:
            attrs.append("\\Inbox")
        await conn.send(XlistData(tuple(attrs), DELIMITER, entry.name))
    return Ok()


async def handle_lsub(conn: Connection, cmd: c.Lsub) -> Ok:
    """RFC 3501 §6.3.9 (kept by RFC 9051 as deprecated)."""
    account = _account(conn)
    if cmd.pattern == "":
        await conn.send(LsubData((MailboxAttr.NOSELECT,), DELIMITER, ""))
        return Ok()
    mailboxes = await account.list_mailboxes()
    subscriptions = await account.subscriptions()
    for entry in list_subscribed(mailboxes, subscriptions, cmd.reference, cmd.pattern):
        await conn.send(LsubData(entry.attributes, DELIMITER, entry.name))
    return Ok()


async def handle_status(conn: Connection, cmd: c.Status) -> Ok:
    """RFC 9051 §6.3.11 with SIZE (RFC 8438)."""
    status = await _account(conn).mailbox_status(cmd.mailbox)
    await conn.send(StatusData(cmd.mailbox, _status_values(status, cmd.items, conn, cmd.mailbox)))
    return Ok()


def _status_values(
    status: MailboxStatus, items: tuple[StatusItem, ...], conn: Connection, name: str
) -> tuple[tuple[StatusItem, StatusValue], ...]:
    values: list[tuple[StatusItem, StatusValue]] = []
    for item in items:
        value: StatusValue
        match item:
            case StatusItem.MESSAGES:
                value = status.messages
            case StatusItem.RECENT:
                value = status.recent
            case StatusItem.UIDNEXT:
                value = status.uidnext
            case StatusItem.UIDVALIDITY:
                value = status.uidvalidity
            case StatusItem.UNSEEN:
                value = status.unseen
            case StatusItem.DELETED:
                value = status.deleted
            case StatusItem.SIZE:
                value = status.size
            case StatusItem.HIGHESTMODSEQ:
                value = status.highest_modseq
            case StatusItem.APPENDLIMIT:
                value = conn.ctx.settings.limits.max_literal
            case StatusItem.DELETED_STORAGE:
                # RFC 9208 §4.1.4: the sum of RFC822.SIZE of the \\Deleted messages.
                value = status.deleted_size
            case StatusItem.MAILBOXID if status.objectid:
                value = status.objectid  # RFC 8474 §4.3
            case _:
                continue
        values.append((item, value))
    return tuple(values)
