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
from typing import NewType, Protocol, TypeAlias

from buzon.mime import Envelope, ParsedMessage
from buzon.storage.query import Query

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


class TooMany(StorageError):
    """A count limit (such as metadata entries per mailbox) would be exceeded; nothing changed."""


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
    # RFC 8474 §4 MAILBOXID: kept by RENAME, new for a re-created name ("" if none).
    objectid: str = ""


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
    # Octets of the messages flagged \\Deleted (RFC 9208 §4.1.4 DELETED-STORAGE).
    deleted_size: int = 0
    objectid: str = ""  # RFC 8474 §4.3 MAILBOXID


@dataclass(frozen=True, slots=True)
class QuotaUsage:
    """A user's quota root: usage and limits (None: no limit) (RFC 9208 §5.1, §5.2)."""

    storage: int  # octets of all messages in all the user's mailboxes
    messages: int
    storage_limit: int | None = None  # octets
    message_limit: int | None = None
    mailboxes: int = 0  # selectable mailboxes (RFC 9208 §5.3)
    mailbox_limit: int | None = None


@dataclass(frozen=True, slots=True)
class MetadataEntry:
    """One annotation (RFC 5464 §3): `name` as first spelled, e.g. "/private/comment"."""

    name: str
    value: bytes


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
class Checkpoint:
    """How far a resumable import got, committed atomically with the batch it follows.

    `source` names what is imported (an mbox path, a Maildir folder, a remote folder) and
    `position` is opaque to storage (a byte offset, a file name, a UID): a re-run reads it
    back with `Account.import_position` and skips what is already in.
    """

    source: str
    position: str


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
    ENVELOPE = "envelope"  # only its envelope (cheaper than STRUCTURE)
    SAVE_DATE = "save_date"
    EMAILID = "emailid"  # RFC 8474 §5.1
    THREADID = "threadid"  # RFC 8474 §5.2
    PREVIEW = "preview"  # RFC 8970: None when not computed yet (see `Mailbox.previews`)


@dataclass(frozen=True, slots=True)
class SearchResult:
    """Matching UIDs, ascending, and each one's modseq (RFC 7162 §3.1.5 reports the max)."""

    uids: tuple[Uid, ...]
    modseqs: tuple[ModSeq, ...]


@dataclass(frozen=True, slots=True)
class SortFields:
    """What SORT and THREAD compare (RFC 5256, RFC 5957), computed at delivery.

    Strings are folded for comparison (`query.fold`); `sent` is None when the Date: header
    cannot be read (RFC 5256 §2.2 then uses the internal date); `references` are the
    normalised parent ids (References, else the first In-Reply-To id).
    """

    uid: Uid
    internal_date: dt.datetime
    size: int
    sent: dt.datetime | None
    base_subject: str
    is_reply: bool
    from_mailbox: str
    from_display: str
    to_mailbox: str
    to_display: str
    cc_mailbox: str
    message_id: str | None
    references: tuple[str, ...]


class SortField(enum.Enum):
    """A stored key SORT orders by (RFC 5256 §3, RFC 5957 §3); see `SortFields`."""

    ARRIVAL = "arrival"  # internal date
    CC = "cc"
    DATE = "date"  # sent date, else internal date (RFC 5256 §2.2)
    FROM = "from"
    SIZE = "size"
    SUBJECT = "subject"  # base subject
    TO = "to"
    DISPLAYFROM = "displayfrom"
    DISPLAYTO = "displayto"


@dataclass(frozen=True, slots=True)
class SortOrder:
    """One criterion of `Mailbox.sort`; `reverse` reverses only this criterion."""

    field: SortField
    reverse: bool = False


# One message as `Mailbox.thread_rows` returns it, a plain tuple for 100,000 at once:
# (uid, sent date (else internal date) in microseconds since the epoch, base subject,
# is a reply, normalised Message-ID, normalised references).
ThreadRow: TypeAlias = tuple[Uid, int, str, bool, str | None, tuple[str, ...]]


# One message as `Mailbox.flag_rows` returns it: a plain tuple, because a resynchronising
# client asks for 100,000 of them at once. Messages with the same flags share one frozenset.
FlagRow: TypeAlias = tuple[Uid, frozenset[str], ModSeq, int | None, dt.datetime | None]


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
    envelope: Envelope | None = None
    emailid: str | None = None
    threadid: str | None = None
    preview: str | None = None


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


@dataclass(frozen=True, slots=True)
class SubscriptionChanged:
    """Published after `name` was subscribed or unsubscribed (RFC 5465 §5.5)."""

    account: str
    name: str


@dataclass(frozen=True, slots=True)
class MetadataChanged:
    """Published after annotations were set or removed (RFC 5465 §5.6, §5.7).

    `mailbox` is the canonical name, "" for the server; `entries` the names as given.
    `everyone`: a /shared server entry, which every account sees (delivered to all).
    """

    account: str
    mailbox: str
    entries: tuple[str, ...]
    everyone: bool = False


ChangeNotice = MailboxChanged | MailboxListChanged | SubscriptionChanged | MetadataChanged


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

    async def import_messages(
        self,
        messages: Sequence[AppendRequest],
        *,
        uids: Sequence[Uid] | None = None,
        uidnext: Uid | None = None,
        checkpoint: Checkpoint | None = None,
    ) -> CopyResult:
        """Append for bulk import and migration, in one transaction with `checkpoint`.

        With `uids` (one per message, ascending) a message keeps its UID when that UID is
        at least the mailbox's UIDNEXT at that point, else it gets UIDNEXT as `append`
        would; UIDNEXT ends above the last UID and at least `uidnext`. `messages` may be
        empty, to record a checkpoint or raise UIDNEXT alone.
        """
        ...

    async def adopt_uidvalidity(self, uidvalidity: int) -> bool:
        """Take over `uidvalidity` from the mailbox this one replaces (a migration).

        Done, returning True, only while the mailbox never held a message (UIDNEXT 1):
        a client can have nothing cached from it. Otherwise nothing changes.
        """
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

    async def replace(self, uid: Uid, dest: Mailbox, message: AppendRequest) -> CopyResult:
        """Append `message` to `dest` and expunge `uid` here, atomically (RFC 8508 §3.4).

        The quota sees the net change. NotFound when `uid` is gone; `source_uids` of
        the result holds the expunged UID, `dest_uids` the new one.
        """
        ...

    async def fetch_meta(
        self, uids: Sequence[Uid], items: frozenset[MetaItem]
    ) -> list[MessageMeta]:
        """Metadata of the existing messages among `uids`, in UID order, in one query."""
        ...

    async def flag_rows(
        self, uids: Sequence[Uid], *, size: bool = False, internal_date: bool = False
    ) -> list[FlagRow]:
        """`(uid, flags, modseq, size, internal_date)` of the existing messages among
        `uids`, in UID order, in one query: the lean form of `fetch_meta` for the FETCH
        FLAGS a client sends to resynchronise a whole mailbox. Size and date are None
        unless asked for."""
        ...

    async def read_message(self, uid: Uid) -> bytes:
        """The exact stored bytes of a message."""
        ...

    async def previews(self, uids: Sequence[Uid]) -> dict[Uid, str]:
        """RFC 8970 previews of the existing messages among `uids`, computing and storing
        those not computed yet (messages stored before previews existed)."""
        ...

    async def read_messages(self, uids: Sequence[Uid]) -> dict[Uid, bytes]:
        """`read_message` of several messages in one round trip; expunged ones are absent.
        The caller bounds the batch: every message is in memory at once."""
        ...

    async def read_headers(self, uids: Sequence[Uid]) -> dict[Uid, tuple[bytes, bool]]:
        """Per existing message among `uids`, its header as stored (from its first byte
        to its body, the blank line included) and whether the body after it is empty:
        all that FETCH of header fields needs, kept apart so that neither the message
        nor its MIME structure is read."""
        ...

    async def envelopes(self, uids: Sequence[Uid]) -> dict[Uid, bytes | Envelope]:
        """Per existing message among `uids`, the bytes `keep_envelopes` kept for its
        content, else its Envelope (from the structure computed at delivery)."""
        ...

    async def keep_envelopes(self, rendered: dict[Uid, bytes]) -> None:
        """Keep the server's rendering of these messages' envelopes, opaque bytes, with
        their contents (immutable, so never stale). A cache: allowed on read-only
        handles, failures ignored."""
        ...

    async def search(self, query: Query) -> SearchResult:
        """The messages matching `query` (semantics in `storage/query.py`), by UID."""
        ...

    async def sort_fields(self, uids: Sequence[Uid]) -> list[SortFields]:
        """The stored SORT/THREAD keys of the existing messages among `uids`, in UID order."""
        ...

    async def sort(self, query: Query, order: Sequence[SortOrder]) -> SearchResult:
        """The matches of `query` ordered by `order`, ties in UID order (RFC 5256 §3).

        The same order as sorting `sort_fields` by those keys, compared as in `SortFields`.
        """
        ...

    async def thread_rows(self, query: Query) -> list[ThreadRow]:
        """The THREAD keys of the matches of `query`, in UID order."""
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

    async def append(self, name: str, messages: Sequence[AppendRequest]) -> CopyResult:
        """`open_mailbox(name).append(messages)`, with the lookup overlapping the parse.

        NotFound (NoSelect for a placeholder) when `name` cannot take messages.
        """
        ...

    async def mailbox_status(self, name: str) -> MailboxStatus: ...

    async def import_position(self, source: str) -> str | None:
        """The last `Checkpoint.position` committed for `source` in this account."""
        ...

    async def quota(self) -> QuotaUsage:
        """The account's one quota root (RFC 9208 §3): exact usage and its limits."""
        ...

    async def set_quota(
        self, *, storage: int | None, messages: int | None, mailboxes: int | None = None
    ) -> QuotaUsage:
        """Replace all limits (None removes one); the caller checked the permission."""
        ...

    async def get_metadata(
        self, mailbox: str, entries: Sequence[str], depth: int | None
    ) -> list[MetadataEntry]:
        """Annotations of `mailbox` ("" is the server) named `entries` (case-insensitive)
        plus descendants up to `depth` levels below (None: all), by name.

        /private entries are this user's; /shared ones are the mailbox's (RFC 5464 §3.3).
        """
        ...

    async def set_metadata(
        self, mailbox: str, values: Sequence[tuple[str, bytes | None]], *, max_entries: int
    ) -> None:
        """Set (None: remove) all or none; `TooMany` past `max_entries` per mailbox and scope."""
        ...

    async def urlauth_key(self, mailbox: str, *, create: bool) -> bytes | None:
        """The mailbox's URLAUTH access key (RFC 4467 §3); made when missing if `create`."""
        ...

    async def reset_urlauth_keys(self, mailbox: str | None) -> None:
        """RFC 4467 §4.1 RESETKEY: a new key for `mailbox`, or drop every key of the user."""
        ...


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

    async def set_user_quota(
        self, name: str, *, storage: int | None, messages: int | None, mailboxes: int | None = None
    ) -> QuotaUsage:
        """Replace a user's limits (octets, messages, mailboxes; None: unlimited)."""
        ...

    async def open_account(self, name: str) -> Account: ...

    async def close(self) -> None: ...
