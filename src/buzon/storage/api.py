"""The storage seam: protocol-neutral persistence for accounts, mailboxes and messages.

Theory of operation
-------------------
Three nouns, as ARCHITECTURE.md agrees: a `Store` opens accounts and manages users, an
`Account` is one user's mailbox tree, a `Mailbox` holds messages addressed by UID.

The vocabulary is UIDs, flags, modseqs, Unicode mailbox names ("/" is the hierarchy
delimiter, "INBOX" is always spelled in upper case here) and `mime` structures. Never
sequence numbers, tags, response codes or parser types: the server maps between those and
this API, and `server/errors.py` maps the `StorageError`s below to `NO [CODE]`.

Every change to a mailbox takes the next modseq of that mailbox and is recorded, expunges
included, so that any session can catch up with `Mailbox.changes_since`. After a change is
committed the backend publishes a `MailboxChanged` notice on its change bus; subscribers
then pull `changes_since`. All methods are coroutines: backends run their blocking work
off the event loop.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NewType, Protocol

from buzon.mime import ParsedMessage

Uid = NewType("Uid", int)
ModSeq = NewType("ModSeq", int)

INBOX = "INBOX"
DELIMITER = "/"


# --- errors ------------------------------------------------------------------------------


class StorageError(Exception):
    """Base of every error the storage layer raises on purpose."""


class NotFound(StorageError):
    """The account, mailbox or message does not exist."""


class NoSelect(NotFound):
    """The mailbox exists only as a non-selectable placeholder (\\Noselect, RFC 3501 §6.3.4).

    A `NotFound` so that code handling only `NotFound` stays correct.
    """


class AlreadyExists(StorageError):
    """The mailbox (or user) already exists."""


class HasChildren(StorageError):
    """The mailbox cannot be deleted: it has children and is not selectable (RFC 3501 §6.3.4)."""


class InvalidName(StorageError):
    """The mailbox or user name is not acceptable (empty component, control character, ...)."""


class NoPermission(StorageError):
    """The operation is not allowed for this user."""


class OverQuota(StorageError):
    """The operation would exceed a quota; nothing was changed."""


class TooBig(StorageError):
    """A message is larger than the configured limit."""


class ReadOnly(StorageError):
    """A write was attempted through a read-only handle."""


class Temporary(StorageError):
    """A transient failure (lock timeout, disk full, lost connection); the caller may retry."""


# --- values ------------------------------------------------------------------------------


class FlagOp(enum.Enum):
    """How `Mailbox.store_flags` combines the given flags with the current ones."""

    REPLACE = "replace"
    ADD = "add"
    REMOVE = "remove"


@dataclass(frozen=True, slots=True)
class MailboxInfo:
    """One entry of an account's mailbox tree."""

    name: str
    mailbox_id: str
    # False for a placeholder that exists only because it has children, or a mailbox that
    # was deleted while it had children (RFC 3501 §6.3.4: it acquires \Noselect).
    selectable: bool
    # RFC 6154 attributes in their canonical spelling, e.g. "\\Sent".
    special_use: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class MailboxStatus:
    """The counters STATUS and SELECT report (RFC 9051 §6.3.11, RFC 8438)."""

    messages: int
    recent: int
    unseen: int
    deleted: int
    size: int
    uidnext: Uid
    uidvalidity: int
    highest_modseq: ModSeq


@dataclass(frozen=True, slots=True)
class MessageFlags:
    """A message's flags and the modseq of its last change."""

    uid: Uid
    flags: frozenset[str]
    modseq: ModSeq


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The state a session starts from when it selects a mailbox."""

    uids: tuple[Uid, ...]
    uidnext: Uid
    uidvalidity: int
    highest_modseq: ModSeq
    # Every keyword (non-system flag) in use in the mailbox, for the FLAGS response.
    keywords: frozenset[str]
    # Lowest UID without \\Seen, if any.
    first_unseen: Uid | None
    # UIDs given to this snapshot's holder as \\Recent (see `Mailbox.snapshot`).
    recent: tuple[Uid, ...]


@dataclass(frozen=True, slots=True)
class Changes:
    """What changed in a mailbox after a given modseq."""

    highest_modseq: ModSeq
    # Messages added or whose flags changed after the modseq, in UID order.
    updated: tuple[MessageFlags, ...]
    # UIDs expunged after the modseq, ascending.
    expunged: tuple[Uid, ...]
    uidnext: Uid


@dataclass(frozen=True, slots=True)
class AppendRequest:
    """One message to append: its exact bytes (CRLF line ends), flags and internal date."""

    content: bytes
    flags: frozenset[str] = frozenset()
    internal_date: dt.datetime | None = None  # None: now. Always timezone-aware otherwise.


@dataclass(frozen=True, slots=True)
class StoreResult:
    """The outcome of `Mailbox.store_flags`."""

    # Messages whose flags were set (changed or not), with the resulting flags and modseq.
    updated: tuple[MessageFlags, ...]
    # RFC 7162 §3.1.3: messages left alone because their modseq exceeded UNCHANGEDSINCE.
    modified: tuple[Uid, ...]


@dataclass(frozen=True, slots=True)
class CopyResult:
    """Source and destination UIDs, pairwise, for COPYUID (RFC 4315 §3)."""

    uidvalidity: int
    source_uids: tuple[Uid, ...]
    dest_uids: tuple[Uid, ...]


class MetaItem(enum.Enum):
    """What `Mailbox.fetch_meta` should load beyond UID, flags and modseq."""

    INTERNAL_DATE = "internal_date"
    SIZE = "size"
    STRUCTURE = "structure"  # the ParsedMessage computed at delivery
    SAVE_DATE = "save_date"


@dataclass(frozen=True, slots=True)
class MessageMeta:
    """Stored metadata of one message; fields not asked for are None."""

    uid: Uid
    flags: frozenset[str]
    modseq: ModSeq
    internal_date: dt.datetime | None = None
    size: int | None = None
    structure: ParsedMessage | None = None
    save_date: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class MailboxChanged:
    """Published on the change bus after a commit that changed a mailbox."""

    account: str
    mailbox_id: str
    modseq: ModSeq


@dataclass(frozen=True, slots=True)
class MailboxListChanged:
    """Published after a mailbox of the account was created, deleted or renamed."""

    account: str


ChangeNotice = MailboxChanged | MailboxListChanged


@dataclass(frozen=True, slots=True)
class DefaultMailbox:
    """A mailbox every new account gets, subscribed."""

    name: str
    special_use: frozenset[str] = field(default_factory=frozenset)


# --- protocols ---------------------------------------------------------------------------


class Subscription(Protocol):
    """A registration on the change bus."""

    def cancel(self) -> None: ...


class ChangeBus(Protocol):
    """Delivers change notices to subscribers, on the event loop, after commit."""

    def subscribe(self, account: str, callback: Callable[[ChangeNotice], None]) -> Subscription:
        """Call `callback` for every notice about `account` until cancelled."""
        ...


class Mailbox(Protocol):
    """One mailbox of an account, addressed by UID."""

    @property
    def info(self) -> MailboxInfo: ...

    @property
    def read_only(self) -> bool: ...

    async def status(self) -> MailboxStatus: ...

    async def snapshot(self, *, claim_recent: bool) -> Snapshot:
        """The current UIDs and counters.

        `Snapshot.recent` lists the messages no session has yet seen as \\Recent. With
        `claim_recent` they become recent for this caller alone (RFC 3501 §2.3.2); without
        it (EXAMINE, RFC 3501 §6.3.2) they stay unclaimed for the next session.
        """
        ...

    async def claim_recent(self, uids: Sequence[Uid]) -> tuple[Uid, ...]:
        """Claim \\Recent for those of `uids` no session has claimed yet; return them."""
        ...

    async def changes_since(self, modseq: ModSeq) -> Changes: ...

    async def append(self, messages: Sequence[AppendRequest]) -> CopyResult:
        """Append all messages or none (RFC 3502); `source_uids` is empty."""
        ...

    async def store_flags(
        self,
        uids: Sequence[Uid],
        op: FlagOp,
        flags: frozenset[str],
        *,
        unchanged_since: ModSeq | None = None,
    ) -> StoreResult:
        """Change flags; UIDs that do not exist (any more) are ignored."""
        ...

    async def expunge(self, uids: Sequence[Uid] | None = None) -> tuple[Uid, ...]:
        """Remove messages flagged \\Deleted (only among `uids` when given); return their UIDs."""
        ...

    async def copy(self, uids: Sequence[Uid], dest: str) -> CopyResult:
        """Copy messages into mailbox `dest` of the same account, sharing the stored bytes."""
        ...

    async def move(self, uids: Sequence[Uid], dest: str) -> CopyResult:
        """Copy then expunge, atomically (RFC 6851 §3.3)."""
        ...

    async def fetch_meta(
        self, uids: Sequence[Uid], items: frozenset[MetaItem]
    ) -> list[MessageMeta]:
        """Metadata of the existing messages among `uids`, in UID order, in one query."""
        ...

    async def read_message(self, uid: Uid) -> bytes:
        """The exact stored bytes of a message."""
        ...


class Account(Protocol):
    """One user's mailbox tree."""

    @property
    def name(self) -> str: ...

    async def list_mailboxes(self) -> list[MailboxInfo]:
        """Every mailbox, placeholders included, sorted by name."""
        ...

    async def create_mailbox(
        self, name: str, *, special_use: frozenset[str] = frozenset()
    ) -> MailboxInfo:
        """Create `name` and any missing parents (RFC 3501 §6.3.3)."""
        ...

    async def delete_mailbox(self, name: str) -> None:
        """Delete following RFC 3501 §6.3.4 (a parent with children becomes non-selectable)."""
        ...

    async def rename_mailbox(self, old: str, new: str) -> None:
        """Rename with children; renaming INBOX moves its messages (RFC 3501 §6.3.5)."""
        ...

    async def subscribe(self, name: str) -> None: ...

    async def unsubscribe(self, name: str) -> None: ...

    async def subscriptions(self) -> list[str]: ...

    async def open_mailbox(self, name: str, *, read_only: bool = False) -> Mailbox: ...

    async def mailbox_status(self, name: str) -> MailboxStatus: ...


class Store(Protocol):
    """The root: users and their accounts."""

    @property
    def bus(self) -> ChangeBus: ...

    async def create_user(self, name: str, secret: str) -> None:
        """Create a user with its default mailboxes, subscribed."""
        ...

    async def set_user_secret(self, name: str, secret: str) -> None: ...

    async def get_user_secret(self, name: str) -> str | None:
        """The stored credential string (opaque here: auth/ owns its format)."""
        ...

    async def delete_user(self, name: str) -> None: ...

    async def list_users(self) -> list[str]: ...

    async def open_account(self, name: str) -> Account: ...

    async def close(self) -> None: ...
