"""FETCH response data (RFC 9051 §7.5.2) and its typed items.

``FetchData(msn, items)`` is ``* msn FETCH (item item ...)``; items are written in the order
given. ENVELOPE and BODYSTRUCTURE are not modelled yet: the server passes them as ``FetchRaw``
with bytes it has already encoded.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TypeAlias

from buzon.imap.words import FlagWord

__all__ = [
    "FetchBinarySize",
    "FetchData",
    "FetchEmailId",
    "FetchFlags",
    "FetchInternalDate",
    "FetchItem",
    "FetchModSeq",
    "FetchPreview",
    "FetchRaw",
    "FetchSaveDate",
    "FetchSection",
    "FetchSize",
    "FetchThreadId",
    "FetchUid",
    "UidFetchData",
]

# RFC 8474 §7: objectid = 1*255(ALPHA / DIGIT / "_" / "-")
_OBJECTID = re.compile(r"[A-Za-z0-9_-]{1,255}")


def check_objectid(value: str) -> None:
    """Raise ``ValueError`` unless ``value`` is an RFC 8474 objectid."""
    if not _OBJECTID.fullmatch(value):
        raise ValueError(f"not an objectid: {value!r}")


def _check_name(name: str) -> None:
    if not name or not name.isascii() or "\r" in name or "\n" in name:
        raise ValueError(f"bad FETCH item name: {name!r}")


@dataclass(frozen=True, slots=True)
class FetchFlags:
    """``FLAGS (\\Seen $Forwarded)``."""

    flags: tuple[FlagWord, ...]


@dataclass(frozen=True, slots=True)
class FetchUid:
    """``UID 4827313``."""

    uid: int


@dataclass(frozen=True, slots=True)
class FetchInternalDate:
    """``INTERNALDATE "17-Jul-1996 02:44:25 -0700"``, in the zone of the value."""

    value: dt.datetime


@dataclass(frozen=True, slots=True)
class FetchSize:
    """``RFC822.SIZE 44827``."""

    size: int


@dataclass(frozen=True, slots=True)
class FetchModSeq:
    """``MODSEQ (12121231000)`` (RFC 7162 §3.1.4.1)."""

    modseq: int


@dataclass(frozen=True, slots=True)
class FetchSection:
    """A section as the client should see it, with its data or NIL.

    ``name`` is the item name exactly as it goes on the wire, e.g. ``BODY[HEADER.FIELDS
    (SUBJECT)]<0>``, ``BINARY[1]``, ``RFC822.TEXT``. Data is always sent as a literal (so it can
    be streamed); with ``binary`` and a NUL in the data it is a ``literal8`` (RFC 3516 §4.2).
    """

    name: str
    data: bytes | None
    binary: bool = False

    def __post_init__(self) -> None:
        _check_name(self.name)


@dataclass(frozen=True, slots=True)
class FetchBinarySize:
    """``BINARY.SIZE[1.2] 1234`` (RFC 3516 §4.2); ``part`` is the section-part, may be ``""``."""

    part: str
    size: int

    def __post_init__(self) -> None:
        if any(c not in "0123456789." for c in self.part):
            raise ValueError(f"bad BINARY.SIZE part: {self.part!r}")


@dataclass(frozen=True, slots=True)
class FetchEmailId:
    """``EMAILID (M6d99ac3275bb4e)`` (RFC 8474 §5.1)."""

    email_id: str

    def __post_init__(self) -> None:
        check_objectid(self.email_id)


@dataclass(frozen=True, slots=True)
class FetchThreadId:
    """``THREADID (T64b478a75b7ea9)`` or ``THREADID NIL`` (RFC 8474 §5.2)."""

    thread_id: str | None

    def __post_init__(self) -> None:
        if self.thread_id is not None:
            check_objectid(self.thread_id)


@dataclass(frozen=True, slots=True)
class FetchSaveDate:
    """``SAVEDATE "date-time"`` or ``SAVEDATE NIL`` (RFC 8514 §4.3)."""

    value: dt.datetime | None


@dataclass(frozen=True, slots=True)
class FetchPreview:
    """``PREVIEW "text"`` or ``PREVIEW NIL`` (RFC 8970 §3.1)."""

    text: str | None


@dataclass(frozen=True, slots=True)
class FetchRaw:
    """``name data`` with ``data`` already encoded (ENVELOPE, BODYSTRUCTURE for now)."""

    name: str
    data: bytes

    def __post_init__(self) -> None:
        _check_name(self.name)


FetchItem: TypeAlias = (
    FetchFlags
    | FetchUid
    | FetchInternalDate
    | FetchSize
    | FetchModSeq
    | FetchSection
    | FetchBinarySize
    | FetchEmailId
    | FetchThreadId
    | FetchSaveDate
    | FetchPreview
    | FetchRaw
)


@dataclass(frozen=True, slots=True)
class FetchData:
    """``* 12 FETCH (FLAGS (\\Seen) UID 4827313)`` (RFC 9051 §7.5.2)."""

    msn: int
    items: tuple[FetchItem, ...]


@dataclass(frozen=True, slots=True)
class UidFetchData:
    """``* 4827313 UIDFETCH (FLAGS (\\Seen))``: FETCH data by UID (RFC 9586 §3.3).

    Sent instead of ``FetchData`` once UIDONLY is enabled; the UID is the number, so the
    items carry no ``FetchUid``.
    """

    uid: int
    items: tuple[FetchItem, ...]
