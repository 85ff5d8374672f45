"""NOTIFY (RFC 5465): events from other mailboxes, and pushed events for the selected one.

Theory of operation
-------------------
`compile_plan` turns a NOTIFY SET command into a `Plan`: how the selected mailbox is
treated (`SelectedMode`) and one `Watch` per other event group. `start` builds a
`Notifier` for the connection and subscribes it to the account's change bus; `stop`
cancels it. A connection that never sends NOTIFY has no notifier and pays nothing.

The bus callback (`Notifier.on_notice`) only records what to look at: the ids of changed
mailboxes, that the mailbox list changed, the subscribed names that changed. Then it wakes
the connection. `deliver` turns those records into responses when the session may speak:
after every command before its tagged response, and during IDLE (RFC 5465 §4). The
connection does not yet push between commands outside IDLE; see docs/rfc-index.md.

What the notifier keeps is small (10,000 connections is the design goal): a map from
mailbox id to `MailboxInfo` (the bus names mailboxes by id, responses by name), refreshed
on `MailboxListChanged`; the subscribed names when a watch needs them; and for each
watched mailbox the last counters it reported, which tell a new or expunged message
(MESSAGES/UIDNEXT moved) from a flag change (only HIGHESTMODSEQ/UNSEEN moved).

Decisions:
- The selected mailbox keeps the base IMAP untagged updates (EXISTS, EXPUNGE, FETCH FLAGS
  at command completion and in IDLE) whatever the SELECTED filter says: they keep the
  client's sequence numbers right. SELECTED adds what base IMAP does not do: EXPUNGE
  after any command, also FETCH, STORE and SEARCH (RFC 5465 §5.3, §6.1.1), and the
  MessageNew fetch attributes. SELECTED-DELAYED holds expunges as base IMAP does (§6.1.2).
- INBOXES is PERSONAL (§6.3): delivery (`buzon deliver -m`) may file into any folder.
- Own changes (§5: SHOULD omit): no MailboxName event for the names a CREATE, DELETE or
  RENAME of this session named, no SubscriptionChange for its own SUBSCRIBE/UNSUBSCRIBE,
  no MessageNew FETCH for messages its own APPEND/COPY/MOVE put in the selected mailbox.
  A STATUS about another mailbox this session appended to is still sent.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from buzon.imap import commands as c
from buzon.imap import commands_ext as cx
from buzon.imap.commands_values import (
    FetchAtt,
    FetchBinary,
    FetchBody,
    FetchItem,
    SequenceSet,
)
from buzon.imap.responses import (
    Code,
    CodeText,
    ListData,
    ListExtendedItem,
    OldName,
    StatusData,
    StatusValue,
    UntaggedStatus,
)
from buzon.imap.words import ResponseCode, Status, StatusItem
from buzon.server import mailbox_filter, notify_metadata, selection
from buzon.server.cmd_fetch import handle_fetch
from buzon.server.outcome import Bad, No
from buzon.storage.api import (
    DELIMITER,
    INBOX,
    Account,
    ChangeNotice,
    MailboxChanged,
    MailboxInfo,
    MailboxListChanged,
    MailboxStatus,
    MetadataChanged,
    NotFound,
    Subscription,
    SubscriptionChanged,
)

if TYPE_CHECKING:
    from buzon.server.connection import Connection

MESSAGE_NEW = "MESSAGENEW"
MESSAGE_EXPUNGE = "MESSAGEEXPUNGE"
FLAG_CHANGE = "FLAGCHANGE"
MAILBOX_NAME = "MAILBOXNAME"
SUBSCRIPTION_CHANGE = "SUBSCRIPTIONCHANGE"
# RFC 5465 §3.1: BADEVENT "MUST list names of all events supported by the server".
SUPPORTED_EVENTS = (
    "(MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange"
    " MailboxMetadataChange ServerMetadataChange)"
)
_SUPPORTED = (
    frozenset({MESSAGE_NEW, MESSAGE_EXPUNGE, FLAG_CHANGE, MAILBOX_NAME, SUBSCRIPTION_CHANGE})
    | notify_metadata.METADATA_EVENTS
)
_MESSAGE_EVENTS = frozenset({MESSAGE_NEW, MESSAGE_EXPUNGE, FLAG_CHANGE})
_SELECTED_FILTERS = frozenset({"SELECTED", "SELECTED-DELAYED"})
_OTHER_FILTERS = frozenset({"INBOXES", "PERSONAL", "SUBSCRIBED", "SUBTREE", "MAILBOXES"})
_OWN_NEW_MESSAGES = (c.Append, c.Copy, c.Move, cx.Replace)

# RFC 5465 §3.1 and §5.8: bounds that keep one client from costing the server much.
MAX_WATCHED = 1000  # mailboxes watched for message events; more is NOTIFICATIONOVERFLOW
MAX_PENDING = 1000  # undelivered changed mailboxes and names; more overflows


class SelectedMode(enum.Enum):
    """How message events of the selected mailbox are reported (RFC 5465 §6.1)."""

    NONE = "NONE"
    IMMEDIATE = "SELECTED"
    DELAYED = "SELECTED-DELAYED"


@dataclass(frozen=True, slots=True)
class Watch:
    """One event group for mailboxes other than the selected one."""

    kind: str  # INBOXES, PERSONAL, SUBSCRIBED, SUBTREE or MAILBOXES
    names: tuple[str, ...]
    messages: bool  # MessageNew and MessageExpunge (always together, RFC 5465 §5)
    flags: bool
    mailbox_name: bool
    subscription: bool
    mailbox_metadata: bool = False  # RFC 5465 §5.6 (notify_metadata.py)
    server_metadata: bool = False  # §5.7

    def matches(self, name: str, subscribed: frozenset[str]) -> bool:
        return mailbox_filter.matches(self.kind, self.names, name, subscribed)


@dataclass(frozen=True, slots=True)
class Plan:
    """What a NOTIFY SET asked for, checked."""

    selected: SelectedMode
    fetch_items: tuple[FetchItem, ...]
    watches: tuple[Watch, ...]

    @property
    def uses_subscriptions(self) -> bool:
        return any(w.subscription or w.kind == "SUBSCRIBED" for w in self.watches)

    @property
    def mailbox_names(self) -> bool:
        return any(w.mailbox_name for w in self.watches)

    def message_interest(self, name: str, subscribed: frozenset[str]) -> tuple[bool, bool]:
        """(message events, flag events) wanted for the non-selected mailbox `name`."""
        messages = flags = False
        for w in self.watches:
            if w.messages and w.matches(name, subscribed):
                messages = True
                flags = flags or w.flags
        return messages, flags


def compile_plan(cmd: cx.Notify) -> Plan:
    """Check NOTIFY SET's event groups (RFC 5465 §3.1, §5, §6.1, §8); raise Bad or No."""
    unsupported = sorted({e.name for g in cmd.groups for e in g.events} - _SUPPORTED)
    if unsupported:
        # RFC 5465 §3.1: an unsupported event is NO (not BAD) with BADEVENT.
        raise No(
            f"Unsupported NOTIFY event {unsupported[0]}",
            CodeText(ResponseCode.BADEVENT, SUPPORTED_EVENTS),
        )
    mode = SelectedMode.NONE
    seen_selected = False
    fetch: tuple[FetchItem, ...] = ()
    watches: list[Watch] = []
    for group in cmd.groups:
        kind = group.filter.kind
        names = {e.name for e in group.events}
        # RFC 5465 §5: MessageNew and MessageExpunge together; FlagChange needs both.
        if (MESSAGE_NEW in names) != (MESSAGE_EXPUNGE in names):
            raise Bad("MessageNew and MessageExpunge must be given together")
        if FLAG_CHANGE in names and MESSAGE_NEW not in names:
            raise Bad("FlagChange needs MessageNew and MessageExpunge")
        items = tuple(i for e in group.events for i in e.fetch_items)
        if kind in _SELECTED_FILTERS:
            if seen_selected:  # RFC 5465 §6.1: only one of them
                raise Bad("Only one SELECTED or SELECTED-DELAYED group is allowed")
            seen_selected = True
            if names - _MESSAGE_EVENTS:  # §6.1: message events only
                raise Bad(f"{kind} takes message events only")
            if names:
                mode = SelectedMode(kind)
            fetch = _check_fetch(items)
            continue
        if kind not in _OTHER_FILTERS:
            raise Bad(f"{kind} is not a NOTIFY mailbox filter")
        if items:  # §8: the fetch-att list is for the selected mailbox filters only
            raise Bad("MessageNew fetch attributes are allowed with SELECTED only")
        if names:
            watches.append(
                Watch(
                    kind,
                    tuple(mailbox_filter.canonical(n) for n in group.filter.mailboxes),
                    messages=MESSAGE_NEW in names,
                    flags=FLAG_CHANGE in names,
                    mailbox_name=MAILBOX_NAME in names,
                    subscription=SUBSCRIPTION_CHANGE in names,
                    mailbox_metadata=notify_metadata.MAILBOX_METADATA_CHANGE in names,
                    server_metadata=notify_metadata.SERVER_METADATA_CHANGE in names,
                )
            )
    return Plan(mode, fetch, tuple(watches))


def _check_fetch(items: tuple[FetchItem, ...]) -> tuple[FetchItem, ...]:
    for item in items:
        # RFC 5465 §5.2: attributes that set \Seen are not for notifications.
        if isinstance(item, FetchBody | FetchBinary) and not item.peek:
            raise Bad("MessageNew fetch attributes must not set \\Seen; use BODY.PEEK")
        if item in {FetchAtt.RFC822, FetchAtt.RFC822_TEXT}:
            raise Bad("MessageNew fetch attributes must not set \\Seen; use BODY.PEEK")
    return items


_Counters = tuple[int, int, int, int, int]  # messages, uidnext, uidvalidity, unseen, modseq


def _counters(status: MailboxStatus) -> _Counters:
    return (
        status.messages,
        status.uidnext,
        status.uidvalidity,
        status.unseen,
        status.highest_modseq,
    )


class Notifier:
    """One connection's NOTIFY state; see the module docstring."""

    __slots__ = (
        "account",
        "changed_subscriptions",
        "dirty",
        "fetch_floor",
        "fetch_selection",
        "last",
        "list_dirty",
        "mailboxes",
        "metadata",
        "overflow",
        "plan",
        "subscribed",
        "subscription",
        "wake",
    )

    def __init__(self, plan: Plan, account: Account, wake: Callable[[], None]) -> None:
        self.plan = plan
        self.account = account
        self.wake = wake
        self.subscription: Subscription | None = None
        self.mailboxes: dict[str, MailboxInfo] = {}  # mailbox id -> info
        self.subscribed: frozenset[str] = frozenset()
        self.last: dict[str, _Counters] = {}  # mailbox id -> counters last reported
        self.dirty: set[str] = set()
        self.list_dirty = False
        self.changed_subscriptions: set[str] = set()
        self.metadata: list[notify_metadata.Pending] = []
        self.overflow = False
        self.fetch_selection: selection.Selection | None = None
        self.fetch_floor = 0

    def on_notice(self, notice: ChangeNotice) -> None:
        """Change-bus callback: record what to look at, wake the session."""
        if isinstance(notice, MailboxChanged):
            if notice.mailbox_id not in self.mailboxes and not self.list_dirty:
                return
            self.dirty.add(notice.mailbox_id)
        elif isinstance(notice, MailboxListChanged):
            self.list_dirty = True
        elif isinstance(notice, SubscriptionChanged):
            if not self.plan.uses_subscriptions:
                return
            self.changed_subscriptions.add(notice.name)
        elif isinstance(notice, MetadataChanged) and not notify_metadata.record(self, notice):
            return
        if len(self.dirty) + len(self.changed_subscriptions) + len(self.metadata) > MAX_PENDING:
            self.overflow = True
        self.wake()

    def by_name(self) -> dict[str, MailboxInfo]:
        return {m.name: m for m in self.mailboxes.values()}


async def start(conn: Connection, plan: Plan, *, send_status: bool) -> None:
    """Replace the connection's notifier (RFC 5465 §3.1); STATUS first when asked."""
    account = conn.session.account
    assert account is not None, "the registry admits NOTIFY only when authenticated"
    notifier = Notifier(plan, account, conn.wake)
    infos = await account.list_mailboxes()
    notifier.mailboxes = {m.mailbox_id: m for m in infos}
    if plan.uses_subscriptions or plan.mailbox_names:
        notifier.subscribed = frozenset(await account.subscriptions())
    selected_id = _selected_id(conn)
    watched = [
        m
        for m in sorted(infos, key=lambda m: _sort_key(m.name))
        if m.selectable
        and m.mailbox_id != selected_id
        and plan.message_interest(m.name, notifier.subscribed)[0]
    ]
    if len(watched) > MAX_WATCHED:
        raise No(
            f"NOTIFY would watch {len(watched)} mailboxes; at most {MAX_WATCHED}",
            Code(ResponseCode.NOTIFICATIONOVERFLOW),
        )
    # Subscribe before reading the counters: a change in between is then reported.
    notifier.subscription = conn.ctx.store.bus.subscribe(account.name, notifier.on_notice)
    try:
        for info in watched:
            try:
                status = await account.mailbox_status(info.name)
            except NotFound:
                continue
            notifier.last[info.mailbox_id] = _counters(status)
            if send_status:
                # RFC 5465 §3.1: STATUS with MESSAGES, UIDNEXT, UIDVALIDITY (and
                # HIGHESTMODSEQ under CONDSTORE) before the tagged OK.
                await conn.send(StatusData(info.name, _values(status, _full_items(conn))))
    except BaseException:
        notifier.subscription.cancel()
        raise
    stop(conn)
    if conn.selection is not None:
        notifier.fetch_selection = conn.selection
        notifier.fetch_floor = _top_uid(conn.selection)
    conn.notifier = notifier


def stop(conn: Connection) -> None:
    """NOTIFY NONE, logout, or a new NOTIFY SET: forget the notifier."""
    notifier = conn.notifier
    if notifier is None:
        return
    if notifier.subscription is not None:
        notifier.subscription.cancel()
    conn.notifier = None


async def deliver(conn: Connection, command: object | None = None) -> None:
    """Send what the notifier has gathered (after a command, or in IDLE)."""
    notifier = conn.notifier
    if notifier is None:
        return
    if notifier.account is not conn.session.account:  # UNAUTHENTICATE, a new login
        stop(conn)
        return
    if notifier.overflow:
        stop(conn)
        # RFC 5465 §5.8: say so, then behave as after NOTIFY NONE.
        await conn.send(
            UntaggedStatus(
                Status.OK,
                "Too many events; notifications are off",
                Code(ResponseCode.NOTIFICATIONOVERFLOW),
            )
        )
        return
    plan = notifier.plan
    if conn.selection is not None and plan.selected is SelectedMode.IMMEDIATE:
        # RFC 5465 §6.1.1 and §5.3: immediate, so EXPUNGE after FETCH and STORE too.
        await selection.sync(conn, allow_expunge=True)
    if plan.fetch_items:
        await _fetch_new(conn, notifier, own=isinstance(command, _OWN_NEW_MESSAGES))
    if notifier.list_dirty:
        await _list_changes(conn, notifier, command)
    if notifier.changed_subscriptions:
        await _subscription_changes(conn, notifier, command)
    if notifier.metadata:
        await notify_metadata.deliver(conn, notifier, command)
    if notifier.dirty:
        await _status_changes(conn, notifier)


async def _fetch_new(conn: Connection, notifier: Notifier, *, own: bool) -> None:
    """RFC 5465 §5.2: after EXISTS, FETCH the asked attributes of the new messages."""
    sel = conn.selection
    if sel is None or notifier.plan.selected is SelectedMode.NONE:
        return
    top = _top_uid(sel)
    if notifier.fetch_selection is not sel:
        notifier.fetch_selection = sel
        notifier.fetch_floor = top
        return
    floor = notifier.fetch_floor
    if top <= floor:
        return
    notifier.fetch_floor = top
    if own:
        return  # §5.2: not for a message this connection appended or copied itself
    fetch = c.Fetch("*", SequenceSet.of((floor + 1, top)), notifier.plan.fetch_items, uid=True)
    with contextlib.suppress(No, Bad):  # expunged meanwhile: EXPUNGE follows
        await handle_fetch(conn, fetch)


async def _status_changes(conn: Connection, notifier: Notifier) -> None:
    """RFC 5465 §5.1-§5.3: STATUS for a changed mailbox other than the selected one."""
    ids, notifier.dirty = notifier.dirty, set()
    selected_id = _selected_id(conn)
    condstore = selection.condstore_on(conn)
    infos = sorted(
        (notifier.mailboxes[i] for i in ids if i in notifier.mailboxes),
        key=lambda m: _sort_key(m.name),
    )
    for info in infos:
        if info.mailbox_id == selected_id or not info.selectable:
            continue
        messages, flags = notifier.plan.message_interest(info.name, notifier.subscribed)
        if not messages:
            continue
        try:
            status = await notifier.account.mailbox_status(info.name)
        except NotFound:
            continue  # deleted meanwhile; MailboxName tells those who asked
        now = _counters(status)
        items = event_items(notifier.last.get(info.mailbox_id), now, flags, condstore=condstore)
        notifier.last[info.mailbox_id] = now
        if items:
            await conn.send(StatusData(info.name, _values(status, items)))


def event_items(
    last: _Counters | None, now: _Counters, flags: bool, *, condstore: bool
) -> tuple[StatusItem, ...]:
    """The STATUS items that report the change from `last` to `now` (empty: none)."""
    modseq = (StatusItem.HIGHESTMODSEQ,) if condstore else ()
    if last is None or last[:3] != now[:3]:
        # RFC 5465 §5.2, §5.3: MESSAGES and UIDNEXT (HIGHESTMODSEQ under CONDSTORE);
        # §5.1: a new UIDVALIDITY is always told.
        return (
            StatusItem.MESSAGES,
            StatusItem.UIDNEXT,
            StatusItem.UIDVALIDITY,
            StatusItem.UNSEEN,
            *modseq,
        )
    if not flags:
        return ()
    # RFC 5465 §5.1: HIGHESTMODSEQ and UIDVALIDITY under CONDSTORE, and UNSEEN when the
    # number of unseen messages moved; without CONDSTORE and UNSEEN, no notification.
    items: list[StatusItem] = []
    if condstore and now[4] != last[4]:
        items.append(StatusItem.HIGHESTMODSEQ)
    if now[3] != last[3]:
        items.append(StatusItem.UNSEEN)
    if not items:
        return ()
    return (StatusItem.UIDVALIDITY, *items)


@dataclass(frozen=True, slots=True)
class NameEvent:
    """A mailbox name whose LIST changed (RFC 5465 §5.4)."""

    name: str
    old_name: str | None = None  # renamed from
    gone: bool = False


def name_events(old: Mapping[str, MailboxInfo], new: Mapping[str, MailboxInfo]) -> list[NameEvent]:
    """MailboxName events between two snapshots of the tree (by mailbox id), by name."""
    renamed: dict[str, str] = {}
    for mid, info in new.items():
        before = old.get(mid)
        if before is not None and before.name != info.name:
            renamed[before.name] = info.name
    events: dict[str, NameEvent] = {}
    for was, now in renamed.items():
        # RFC 5465 §5.4: children move with their parent without events of their own.
        if any(a in renamed and renamed[a] + was[len(a) :] == now for a in _ancestors(was)):
            continue
        events[now] = NameEvent(now, old_name=was)
    new_names = {m.name for m in new.values()}
    touched: set[str] = set()
    for mid, info in new.items():
        before = old.get(mid)
        if before is None:
            if info.name == INBOX:
                continue  # §5.4: the INBOX that RENAME INBOX leaves is no event
            touched.add(info.name)
        elif before.name == info.name and before.selectable != info.selectable:
            touched.add(info.name)
    for mid, info in old.items():
        if mid not in new and info.name not in new_names:
            events[info.name] = NameEvent(info.name, gone=True)
            touched.add(info.name)
    for name in sorted(touched):
        events.setdefault(name, NameEvent(name))
        # §5.4: the direct parent of a created or deleted mailbox is affected too.
        parent = name.rpartition(DELIMITER)[0]
        if parent and parent in new_names:
            events.setdefault(parent, NameEvent(parent))
    return [events[n] for n in sorted(events, key=_sort_key)]


async def _list_changes(conn: Connection, notifier: Notifier, command: object | None) -> None:
    notifier.list_dirty = False
    old = notifier.mailboxes
    notifier.mailboxes = {m.mailbox_id: m for m in await notifier.account.list_mailboxes()}
    for mid in [m for m in notifier.last if m not in notifier.mailboxes]:
        del notifier.last[mid]
    if not notifier.plan.mailbox_names:
        return
    notifier.subscribed = frozenset(await notifier.account.subscriptions())
    own = _own_names(command, (c.Create, c.Delete, c.Rename))
    by_name = notifier.by_name()
    for event in name_events(old, notifier.mailboxes):
        if event.name in own or event.old_name in own:
            continue
        if not any(
            w.mailbox_name
            and (
                w.matches(event.name, notifier.subscribed)
                or (event.old_name is not None and w.matches(event.old_name, notifier.subscribed))
            )
            for w in notifier.plan.watches
        ):
            continue
        extended: tuple[ListExtendedItem, ...] = ()
        if event.old_name is not None:
            extended = (OldName(event.old_name),)  # RFC 5465 §5.4: OLDNAME
        await conn.send(_list(event.name, by_name, notifier.subscribed, extended))


async def _subscription_changes(
    conn: Connection, notifier: Notifier, command: object | None
) -> None:
    """RFC 5465 §5.5: LIST with \\Subscribed if and only if subscribed now; §6.4 re-reads
    the subscriptions so that the SUBSCRIBED filter follows them."""
    names, notifier.changed_subscriptions = notifier.changed_subscriptions, set()
    notifier.subscribed = frozenset(await notifier.account.subscriptions())
    own = _own_names(command, (c.Subscribe, c.Unsubscribe))
    by_name = notifier.by_name()
    for name in sorted(names, key=_sort_key):
        if name in own:
            continue
        either = notifier.subscribed | {name}  # told of an unsubscription too
        if any(w.subscription and w.matches(name, either) for w in notifier.plan.watches):
            await conn.send(_list(name, by_name, notifier.subscribed))


def _list(
    name: str,
    by_name: Mapping[str, MailboxInfo],
    subscribed: frozenset[str],
    extended: tuple[ListExtendedItem, ...] = (),
) -> ListData:
    """An accurately computed LIST response for `name` (RFC 5465 §5.4, §5.5; RFC 5258)."""
    info = by_name.get(name)
    attrs: list[str] = []
    if info is None:
        attrs.append("\\NonExistent")
    else:
        if not info.selectable:
            attrs.append("\\Noselect")
        prefix = name + DELIMITER
        children = any(other.startswith(prefix) for other in by_name)
        attrs.append("\\HasChildren" if children else "\\HasNoChildren")
    if name in subscribed:
        attrs.append("\\Subscribed")
    if info is not None:
        attrs.extend(sorted(info.special_use))
    return ListData(tuple(attrs), DELIMITER, name, extended)


def _own_names(command: object | None, kinds: tuple[type, ...]) -> set[str]:
    """Names (and their parents) the session's own command changed (RFC 5465 §5)."""
    if not isinstance(command, kinds):
        return set()
    raw = [getattr(command, "mailbox", ""), getattr(command, "new_name", "")]
    out: set[str] = set()
    for name in filter(None, raw):
        canon = mailbox_filter.canonical(str(name).removesuffix(DELIMITER))
        out.add(canon)
        out.update(_ancestors(canon))
    return out


def _full_items(conn: Connection) -> tuple[StatusItem, ...]:
    modseq = (StatusItem.HIGHESTMODSEQ,) if selection.condstore_on(conn) else ()
    return (
        StatusItem.MESSAGES,
        StatusItem.UIDNEXT,
        StatusItem.UIDVALIDITY,
        StatusItem.UNSEEN,
        *modseq,
    )


def _values(
    status: MailboxStatus, items: tuple[StatusItem, ...]
) -> tuple[tuple[StatusItem, StatusValue], ...]:
    values: dict[StatusItem, StatusValue] = {
        StatusItem.MESSAGES: status.messages,
        StatusItem.UIDNEXT: status.uidnext,
        StatusItem.UIDVALIDITY: status.uidvalidity,
        StatusItem.UNSEEN: status.unseen,
        StatusItem.HIGHESTMODSEQ: status.highest_modseq,
    }
    return tuple((item, values[item]) for item in items)


def _selected_id(conn: Connection) -> str | None:
    sel = conn.selection
    return None if sel is None else sel.mailbox.info.mailbox_id


def _top_uid(sel: selection.Selection) -> int:
    uids = sel.view.uids()
    return int(uids[-1]) if uids else 0


def _ancestors(name: str) -> list[str]:
    parts = name.split(DELIMITER)
    return [DELIMITER.join(parts[:i]) for i in range(1, len(parts))]


def _sort_key(name: str) -> tuple[int, str]:
    return (0 if name == INBOX or name.startswith(INBOX + DELIMITER) else 1, name)
