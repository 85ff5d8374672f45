"""IMAP wire words as enums: statuses, response codes, capabilities, flags, attributes.

Every member's value is its canonical spelling on the wire. IMAP words are case-insensitive
(RFC 9051 §9, "All alphabetic characters are case-insensitive"), so constructing a member from
any spelling works: ``Flag("\\\\seen") is Flag.SEEN`` and ``Capability("idle") is Capability.IDLE``.
Words that are not members raise ``ValueError`` as usual for enums.
"""

from __future__ import annotations

import enum
from typing import TypeAlias

__all__ = [
    "AttrWord",
    "Capability",
    "CapabilityWord",
    "Flag",
    "FlagWord",
    "MailboxAttr",
    "QuotaResource",
    "ResponseCode",
    "Status",
    "StatusItem",
    "appendlimit_capability",
]


class _Word(enum.StrEnum):
    """A wire word looked up case-insensitively."""

    @classmethod
    def _missing_(cls, value: object) -> _Word | None:
        if isinstance(value, str):
            folded = value.casefold()
            for member in cls:
                if member.value.casefold() == folded:
                    return member
        return None


class Status(_Word):
    """Status conditions (RFC 9051 §7.1)."""

    OK = "OK"
    NO = "NO"
    BAD = "BAD"
    PREAUTH = "PREAUTH"
    BYE = "BYE"


class ResponseCode(_Word):
    """Response codes: RFC 3501/9051 §7.1, RFC 5530 and the extensions that add codes."""

    # RFC 3501 §7.1 / RFC 9051 §7.1
    ALERT = "ALERT"
    BADCHARSET = "BADCHARSET"
    CAPABILITY = "CAPABILITY"
    PARSE = "PARSE"
    PERMANENTFLAGS = "PERMANENTFLAGS"
    READ_ONLY = "READ-ONLY"
    READ_WRITE = "READ-WRITE"
    TRYCREATE = "TRYCREATE"
    UIDNEXT = "UIDNEXT"
    UIDVALIDITY = "UIDVALIDITY"
    UNSEEN = "UNSEEN"  # RFC 3501 only; IMAP4rev2 dropped it
    # RFC 5530 (also in RFC 9051 §7.1)
    UNAVAILABLE = "UNAVAILABLE"
    AUTHENTICATIONFAILED = "AUTHENTICATIONFAILED"
    AUTHORIZATIONFAILED = "AUTHORIZATIONFAILED"
    EXPIRED = "EXPIRED"
    PRIVACYREQUIRED = "PRIVACYREQUIRED"
    CONTACTADMIN = "CONTACTADMIN"
    NOPERM = "NOPERM"
    INUSE = "INUSE"
    EXPUNGEISSUED = "EXPUNGEISSUED"
    CORRUPTION = "CORRUPTION"
    SERVERBUG = "SERVERBUG"
    CLIENTBUG = "CLIENTBUG"
    CANNOT = "CANNOT"
    LIMIT = "LIMIT"
    OVERQUOTA = "OVERQUOTA"
    ALREADYEXISTS = "ALREADYEXISTS"
    NONEXISTENT = "NONEXISTENT"
    # RFC 9051 §7.1
    HASCHILDREN = "HASCHILDREN"
    CLOSED = "CLOSED"  # also RFC 7162 §3.2.11
    NOTSAVED = "NOTSAVED"
    UNKNOWN_CTE = "UNKNOWN-CTE"  # also RFC 3516 §4.3
    # RFC 4469 CATENATE (TOOBIG is also the APPENDLIMIT failure, RFC 7889 §3.3)
    TOOBIG = "TOOBIG"
    BADURL = "BADURL"
    # RFC 4467 §4.1 URLAUTH: the mechanisms RESETKEY supports
    URLMECH = "URLMECH"
    # RFC 4315 UIDPLUS
    APPENDUID = "APPENDUID"
    COPYUID = "COPYUID"
    UIDNOTSTICKY = "UIDNOTSTICKY"
    # RFC 7162 CONDSTORE/QRESYNC
    HIGHESTMODSEQ = "HIGHESTMODSEQ"
    NOMODSEQ = "NOMODSEQ"
    MODIFIED = "MODIFIED"
    # RFC 4978 COMPRESS
    COMPRESSIONACTIVE = "COMPRESSIONACTIVE"
    # RFC 6154 SPECIAL-USE
    USEATTR = "USEATTR"
    # RFC 8474 OBJECTID
    MAILBOXID = "MAILBOXID"
    # RFC 9585 (progress of long commands)
    INPROGRESS = "INPROGRESS"
    # RFC 5464 METADATA: "METADATA" SP ("LONGENTRIES" SP number / "MAXSIZE" SP number / ...)
    METADATA = "METADATA"
    # RFC 5267 CONTEXT, RFC 5255 I18NLEVEL, RFC 5465 NOTIFY, RFC 5466 FILTERS, RFC 2221 REFERRAL
    NOUPDATE = "NOUPDATE"
    BADCOMPARATOR = "BADCOMPARATOR"
    BADEVENT = "BADEVENT"
    NOTIFICATIONOVERFLOW = "NOTIFICATIONOVERFLOW"
    UNDEFINED_FILTER = "UNDEFINED-FILTER"
    REFERRAL = "REFERRAL"
    # RFC 9586 UIDONLY
    UIDREQUIRED = "UIDREQUIRED"


class Capability(_Word):
    """Capability names (RFC 9051 §7.2.2 and the extension RFCs).

    ``APPENDLIMIT=<n>`` is dynamic (RFC 7889 §2): use :func:`appendlimit_capability`; capability
    lists in responses accept plain ``str`` items for such words.
    """

    IMAP4REV1 = "IMAP4rev1"
    IMAP4REV2 = "IMAP4rev2"
    STARTTLS = "STARTTLS"
    LOGINDISABLED = "LOGINDISABLED"
    AUTH_PLAIN = "AUTH=PLAIN"
    AUTH_LOGIN = "AUTH=LOGIN"
    AUTH_EXTERNAL = "AUTH=EXTERNAL"
    AUTH_ANONYMOUS = "AUTH=ANONYMOUS"
    AUTH_CRAM_MD5 = "AUTH=CRAM-MD5"
    AUTH_SCRAM_SHA_1 = "AUTH=SCRAM-SHA-1"
    AUTH_SCRAM_SHA_256 = "AUTH=SCRAM-SHA-256"
    AUTH_SCRAM_SHA_256_PLUS = "AUTH=SCRAM-SHA-256-PLUS"
    AUTH_OAUTHBEARER = "AUTH=OAUTHBEARER"
    AUTH_XOAUTH2 = "AUTH=XOAUTH2"
    SASL_IR = "SASL-IR"
    ID = "ID"
    ENABLE = "ENABLE"
    IDLE = "IDLE"
    LITERAL_PLUS = "LITERAL+"
    LITERAL_MINUS = "LITERAL-"
    NAMESPACE = "NAMESPACE"
    UNSELECT = "UNSELECT"
    UIDPLUS = "UIDPLUS"
    MOVE = "MOVE"
    CHILDREN = "CHILDREN"
    LIST_EXTENDED = "LIST-EXTENDED"
    LIST_STATUS = "LIST-STATUS"
    LIST_MYRIGHTS = "LIST-MYRIGHTS"
    SPECIAL_USE = "SPECIAL-USE"
    CREATE_SPECIAL_USE = "CREATE-SPECIAL-USE"
    CONDSTORE = "CONDSTORE"
    QRESYNC = "QRESYNC"
    ESEARCH = "ESEARCH"
    SEARCHRES = "SEARCHRES"
    SEARCH_FUZZY = "SEARCH=FUZZY"
    PARTIAL = "PARTIAL"
    SORT = "SORT"
    SORT_DISPLAY = "SORT=DISPLAY"
    ESORT = "ESORT"
    CONTEXT_SEARCH = "CONTEXT=SEARCH"
    CONTEXT_SORT = "CONTEXT=SORT"
    THREAD_ORDEREDSUBJECT = "THREAD=ORDEREDSUBJECT"
    THREAD_REFERENCES = "THREAD=REFERENCES"
    BINARY = "BINARY"
    MULTIAPPEND = "MULTIAPPEND"
    CATENATE = "CATENATE"
    APPENDLIMIT = "APPENDLIMIT"
    STATUS_SIZE = "STATUS=SIZE"
    UTF8_ACCEPT = "UTF8=ACCEPT"
    UTF8_ONLY = "UTF8=ONLY"
    OBJECTID = "OBJECTID"
    SAVEDATE = "SAVEDATE"
    PREVIEW = "PREVIEW"
    WITHIN = "WITHIN"
    QUOTA = "QUOTA"
    QUOTA_RES_STORAGE = "QUOTA=RES-STORAGE"
    QUOTA_RES_MESSAGE = "QUOTA=RES-MESSAGE"
    QUOTA_RES_MAILBOX = "QUOTA=RES-MAILBOX"
    QUOTASET = "QUOTASET"
    ACL = "ACL"
    RIGHTS_TEXK = "RIGHTS=texk"
    METADATA = "METADATA"
    METADATA_SERVER = "METADATA-SERVER"
    NOTIFY = "NOTIFY"
    FILTERS = "FILTERS"
    COMPRESS_DEFLATE = "COMPRESS=DEFLATE"
    UNAUTHENTICATE = "UNAUTHENTICATE"
    REPLACE = "REPLACE"
    URLAUTH = "URLAUTH"
    MULTISEARCH = "MULTISEARCH"
    UIDONLY = "UIDONLY"
    I18NLEVEL_1 = "I18NLEVEL=1"
    LANGUAGE = "LANGUAGE"
    XLIST = "XLIST"


def appendlimit_capability(limit: int) -> str:
    """The dynamic ``APPENDLIMIT=<n>`` capability word (RFC 7889 §2)."""
    if limit < 0:
        raise ValueError(f"APPENDLIMIT must not be negative: {limit}")
    return f"APPENDLIMIT={limit}"


class Flag(_Word):
    """System flags with their canonical spelling (RFC 9051 §2.3.2, RFC 3501 for \\Recent)."""

    SEEN = "\\Seen"
    ANSWERED = "\\Answered"
    FLAGGED = "\\Flagged"
    DELETED = "\\Deleted"
    DRAFT = "\\Draft"
    RECENT = "\\Recent"  # RFC 3501 §2.3.2; session-only, never stored or set by STORE


class MailboxAttr(_Word):
    """Mailbox name attributes (RFC 9051 §7.3.1, RFC 5258 §3.4, RFC 6154 §2, RFC 8457 §3)."""

    NOINFERIORS = "\\Noinferiors"
    NOSELECT = "\\Noselect"
    MARKED = "\\Marked"
    UNMARKED = "\\Unmarked"
    HAS_CHILDREN = "\\HasChildren"
    HAS_NO_CHILDREN = "\\HasNoChildren"
    NONEXISTENT = "\\NonExistent"
    SUBSCRIBED = "\\Subscribed"
    REMOTE = "\\Remote"
    # RFC 6154 §2 special-use, RFC 8457 §3 \Important
    ALL = "\\All"
    ARCHIVE = "\\Archive"
    DRAFTS = "\\Drafts"
    FLAGGED = "\\Flagged"
    JUNK = "\\Junk"
    SENT = "\\Sent"
    TRASH = "\\Trash"
    IMPORTANT = "\\Important"


class StatusItem(_Word):
    """STATUS data items (RFC 9051 §6.3.11, RFC 7162 §3.1.7, RFC 7889, RFC 8438, RFC 8474)."""

    MESSAGES = "MESSAGES"
    RECENT = "RECENT"  # RFC 3501 only
    UIDNEXT = "UIDNEXT"
    UIDVALIDITY = "UIDVALIDITY"
    UNSEEN = "UNSEEN"
    DELETED = "DELETED"
    SIZE = "SIZE"
    HIGHESTMODSEQ = "HIGHESTMODSEQ"
    APPENDLIMIT = "APPENDLIMIT"  # value may be NIL (RFC 7889 §5)
    MAILBOXID = "MAILBOXID"  # value is an objectid, rendered "(id)" (RFC 8474 §4.2)
    DELETED_STORAGE = "DELETED-STORAGE"  # RFC 9208 §4.2


class QuotaResource(_Word):
    """Quota resource names (RFC 9208 §5)."""

    STORAGE = "STORAGE"
    MESSAGE = "MESSAGE"
    MAILBOX = "MAILBOX"
    ANNOTATION_STORAGE = "ANNOTATION-STORAGE"


FlagWord: TypeAlias = Flag | str
"""A flag: a system flag, a keyword atom (``$Forwarded``) or a ``\\``-extension flag."""
CapabilityWord: TypeAlias = Capability | str
"""A capability: a known one, or a dynamic atom such as ``APPENDLIMIT=1048576``."""
AttrWord: TypeAlias = MailboxAttr | str
"""A mailbox attribute: a known one, or a ``\\``-extension attribute."""
