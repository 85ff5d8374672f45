"""The POP3 view of the INBOX: a snapshot numbered 1..n, deletion marks, and message bytes.

Theory of operation
-------------------
At login the session takes a snapshot of the INBOX (UIDs and sizes, in UID order) and numbers
it 1..n (RFC 1939 §4: "each message in the maildrop is assigned a message-number"). The
numbers never change during the session: messages delivered later appear in the next
session, and messages that another session expunges keep their number (RETR and TOP of one
then fail with ``-ERR``; the storage says it is gone).

DELE only marks (RFC 1939 §5); RSET unmarks; a marked message may not be referred to again.
The marks are applied once, when QUIT moves the session to the UPDATE state (RFC 1939 §6):
the service then sets \\Deleted on exactly the marked UIDs and expunges exactly those, so
IMAP sessions on the INBOX see ordinary EXPUNGEs, and messages an IMAP client flagged
\\Deleted are left to that client.

UIDL (RFC 1939 §7) is Dovecot's default format ``%08Xu%08Xv``: the IMAP UID then the
mailbox's UIDVALIDITY, each as 8 upper-case hex digits. It is stable across sessions and
derivable from what IMAP reports, and it changes only if UIDVALIDITY does (when the INBOX
is recreated), which is exactly when clients must fetch again.

Everything here is pure and synchronous, and tested with tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from buzon.storage.api import Uid

__all__ = ["Entry", "Maildrop", "dot_stuff", "top_of", "uidl"]

_CRLF = b"\r\n"


@dataclass(frozen=True, slots=True)
class Entry:
    """One message of the snapshot."""

    msg: int
    uid: Uid
    size: int


def uidl(uid: Uid, uidvalidity: int) -> str:
    """RFC 1939 §7 unique-id: Dovecot's default ``%08Xu%08Xv`` (octets 0x21-0x7E only)."""
    return f"{uid:08X}{uidvalidity:08X}"


@dataclass(slots=True)
class Maildrop:
    """A session's numbered snapshot of the INBOX and its deletion marks."""

    uidvalidity: int
    entries: tuple[Entry, ...]
    deleted: set[int] = field(default_factory=set)
    # Messages sent whole with RETR, to be flagged \Seen when the session ends.
    retrieved: set[Uid] = field(default_factory=set)

    @classmethod
    def of(cls, uidvalidity: int, messages: Iterable[tuple[Uid, int]]) -> Maildrop:
        """Number `(uid, size)` pairs 1..n in UID order."""
        ordered = sorted(messages)
        entries = tuple(Entry(i, uid, size) for i, (uid, size) in enumerate(ordered, start=1))
        return cls(uidvalidity, entries)

    def get(self, msg: int) -> Entry | None:
        """The message numbered `msg`, or None if there is none or it is marked deleted."""
        if msg < 1 or msg > len(self.entries) or msg in self.deleted:
            return None
        return self.entries[msg - 1]

    def live(self) -> Iterator[Entry]:
        """The messages not marked deleted, in order."""
        return (e for e in self.entries if e.msg not in self.deleted)

    def stat(self) -> tuple[int, int]:
        """RFC 1939 §5 STAT: count and octets of the messages not marked deleted."""
        count = octets = 0
        for entry in self.live():
            count += 1
            octets += entry.size
        return count, octets

    def uidl(self, entry: Entry) -> str:
        return uidl(entry.uid, self.uidvalidity)

    def mark(self, msg: int) -> bool:
        """DELE: mark a message; False if it does not exist or is already marked."""
        if self.get(msg) is None:
            return False
        self.deleted.add(msg)
        return True

    def reset(self) -> None:
        """RSET: unmark everything (RFC 1939 §5)."""
        self.deleted.clear()

    def deleted_uids(self) -> tuple[Uid, ...]:
        return tuple(self.entries[msg - 1].uid for msg in sorted(self.deleted))

    def seen_uids(self) -> tuple[Uid, ...]:
        """Retrieved messages that are not being deleted: those to flag \\Seen."""
        gone = set(self.deleted_uids())
        return tuple(sorted(uid for uid in self.retrieved if uid not in gone))


def dot_stuff(data: bytes) -> bytes:
    """RFC 1939 §3: a multi-line body with every line starting "." doubled, ending in CRLF.

    The terminating ".CRLF" is not included. Stored messages have CRLF line ends already.
    """
    if data.startswith(b"."):
        data = b"." + data
    data = data.replace(b"\r\n.", b"\r\n..")
    if data and not data.endswith(_CRLF):
        data += _CRLF
    return data


def top_of(data: bytes, lines: int) -> bytes:
    """RFC 1939 §7 TOP: the header, the blank line, then the first `lines` body lines."""
    if data.startswith(_CRLF):
        header_end = 0
    else:
        found = data.find(b"\r\n\r\n")
        if found < 0:
            return data  # no body at all: the whole message is header
        header_end = found + 2
    body_start = header_end + 2
    end = body_start
    for _ in range(lines):
        if end >= len(data):
            break
        nl = data.find(_CRLF, end)
        end = len(data) if nl < 0 else nl + 2
    return data[:end]
