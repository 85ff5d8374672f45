"""Encode typed IMAP responses to bytes.

Theory of operation: a renderer walks the response and writes into ``_Out``, which gathers
protocol text as ``str`` pieces and keeps literal data as the caller's own ``bytes`` objects
(never copied). ``encode`` joins everything; ``encode_chunks`` coalesces the small pieces and
hands out large literals as ``memoryview`` slices, so a 50 MB body is never copied whole.

One set of functions decides how a value goes on the wire (RFC 9051 §4.3, §9):

- ``_atom``-contexts (flags, capabilities, charsets) only ever write atoms and refuse anything
  else with ``ValueError``: such values come from the server, and a broken one is a bug.
- ``_astring``: an atom when every char is an ASTRING-CHAR and the value is not ``NIL`` (which a
  client would read as nil), otherwise a string.
- ``_string``: quoted when short and every char is allowed in ``quoted`` (7-bit without NUL,
  CR, LF; any UTF-8 too once the client enabled it, RFC 6855 §3 / RFC 9051 §4.3), else literal.
- ``_nstring``: ``NIL`` for ``None``, otherwise a string.
- ``_literal``: ``{n}``; ``~{n}`` (literal8) for data with NUL where binary is allowed (RFC 3516
  §4.2). Elsewhere NUL cannot be sent at all (RFC 9051 §4.3), so it becomes 0x80 as Dovecot does.
- ``_mailbox``: INBOX in any case is ``INBOX``; other names in modified UTF-7 (RFC 3501 §5.1.3)
  unless UTF-8 is enabled, then an astring.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import lru_cache
from typing import TypeAlias, TypeVar, assert_never

from buzon.imap import mutf7
from buzon.imap import responses as rs
from buzon.imap.responses_fetch import check_objectid
from buzon.imap.words import AttrWord, CapabilityWord, Flag, FlagWord, Status, StatusItem

__all__ = [
    "QUOTED_MAX",
    "Chunk",
    "compact",
    "encode",
    "encode_astring",
    "encode_chunks",
    "encode_mailbox",
    "encode_nstring",
    "encode_string",
    "flag_list",
    "format_datetime",
    "literal_data",
]

_T = TypeVar("_T")

Chunk: TypeAlias = bytes | memoryview
"""A piece of encoded output; large literal data comes as ``memoryview`` slices."""

QUOTED_MAX = 1024
"""Longer strings go as literals: some clients limit line length (RFC 2683 §3.2.1.5)."""

# RFC 9051 §9: atom-specials = "(" / ")" / "{" / SP / CTL / "%" / "*" / DQUOTE / "\" / "]";
# atoms are 7-bit. ASTRING-CHAR adds "]"; a tag is ASTRING-CHAR except "+".
_ATOM = re.compile(r'[^\x00-\x20\x7f-\U0010ffff(){%*"\\\]]+')
_ASTRING = re.compile(r'[^\x00-\x20\x7f-\U0010ffff(){%*"\\]+')
_TAG = re.compile(r'[^\x00-\x20\x7f-\U0010ffff(){%*"\\+]+')
# QUOTED-CHAR: TEXT-CHAR (CHAR except CR, LF; CHAR excludes NUL) minus nothing: the quoted
# specials are escaped. In UTF-8 mode any non-surrogate character is allowed as well.
_UNQUOTABLE = re.compile(r"[^\x01-\x09\x0b\x0c\x0e-\x7f]")
_UNQUOTABLE_UTF8 = re.compile(r"[\x00\r\n\ud800-\udfff]")
_UNQUOTABLE_BYTES = re.compile(rb"[^\x01-\x09\x0b\x0c\x0e-\x7f]")
_CTL_BYTES = re.compile(rb"[\x00\r\n]")
_BAD_TEXT = re.compile(r"[\x00\r\n]")
_BAD_CODE_TEXT = re.compile(r"[\x00\r\n\]]")
_LITERAL_END = re.compile(r"\{\d+\+?\}\Z")

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# RFC 3501 §9: text = 1*TEXT-CHAR, so an empty text would break rev1 parsers (imaplib too).
_DEFAULT_TEXT = {
    Status.OK: "completed",
    Status.NO: "failed",
    Status.BAD: "error",
    Status.PREAUTH: "logged in",
    Status.BYE: "closing connection",
}
_DEFAULT_CONTINUATION = "ready"


class _Out:
    """Output under construction: protocol text plus untouched literal data."""

    __slots__ = ("_parts", "_text", "utf8")

    def __init__(self, utf8: bool) -> None:
        self.utf8 = utf8
        self._parts: list[bytes] = []
        self._text: list[str] = []

    def w(self, text: str) -> None:
        self._text.append(text)

    def data(self, data: bytes) -> None:
        """Append bytes as they are (literal contents, pre-encoded items)."""
        self._flush()
        self._parts.append(data)

    def _flush(self) -> None:
        if self._text:
            # Only UTF-8-mode quoted strings and text can hold non-ASCII here, both checked.
            self._parts.append("".join(self._text).encode("utf-8"))
            self._text.clear()

    def parts(self) -> list[bytes]:
        self._flush()
        return self._parts


def _each(out: _Out, items: Iterable[_T], write: Callable[[_T], None]) -> None:
    """Write items separated by SP."""
    for i, item in enumerate(items):
        if i:
            out.w(" ")
        write(item)


# --- choosing atom, quoted string or literal ---------------------------------------------------


def _utf8(value: str) -> bytes:
    # surrogateescape gives back the bytes of a str decoded with it; other lone surrogates
    # cannot be sent at all and become "?".
    try:
        return value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace")


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _quotable_bytes(value: bytes, utf8: bool) -> bool:
    if len(value) > QUOTED_MAX:
        return False
    if not _UNQUOTABLE_BYTES.search(value):
        return True
    if not utf8 or _CTL_BYTES.search(value):
        return False
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def literal_data(data: bytes) -> bytes:
    """The data of a literal (not literal8) as sent: RFC 9051 §4.3 allows no NUL there.
    Lenient like Dovecot: a stored NUL goes out as 0x80."""
    return data.replace(b"\x00", b"\x80") if b"\x00" in data else data


def _literal(out: _Out, data: bytes, binary: bool) -> None:
    if binary and b"\x00" in data:
        out.w(f"~{{{len(data)}}}\r\n")  # RFC 3516 §4.2: literal8
        out.data(data)
        return
    data = literal_data(data)
    out.w(f"{{{len(data)}}}\r\n")
    out.data(data)


def _string(out: _Out, value: str | bytes, binary: bool = False) -> None:
    """string = quoted / literal (RFC 9051 §4.3)."""
    if isinstance(value, str):
        unquotable = _UNQUOTABLE_UTF8 if out.utf8 else _UNQUOTABLE
        if len(value) <= QUOTED_MAX and not unquotable.search(value):
            out.w(_quote(value))
        else:
            _literal(out, _utf8(value), binary)
    elif _quotable_bytes(value, out.utf8):
        out.w(_quote(value.decode("utf-8")))
    else:
        _literal(out, value, binary)


def _nstring(out: _Out, value: str | bytes | None, binary: bool = False) -> None:
    if value is None:
        out.w("NIL")
    else:
        _string(out, value, binary)


def _astring(out: _Out, value: str) -> None:
    # "NIL" is a valid astring, but clients that read nstring-ish places take it as nil.
    if _ASTRING.fullmatch(value) and value.upper() != "NIL":
        out.w(value)
    else:
        _string(out, value)


def _atom_or_quoted(out: _Out, value: str) -> None:
    if _ATOM.fullmatch(value) and value.upper() != "NIL":
        out.w(value)
    else:
        _string(out, value)


def _mailbox_wire(name: str, utf8: bool) -> str:
    # RFC 9051 §5.1: INBOX is case-insensitive; we always show it as INBOX.
    if name.upper() == "INBOX":
        return "INBOX"
    return name if utf8 else mutf7.encode(name)


def _mailbox(out: _Out, name: str) -> None:
    _astring(out, _mailbox_wire(name, out.utf8))


def _atom(value: str, what: str) -> str:
    if not _ATOM.fullmatch(value):
        raise ValueError(f"{what} is not an atom: {value!r}")
    return value


def _flag(value: FlagWord) -> str:
    """flag = "\\" atom (system or extension flag) / flag-keyword (atom) (RFC 9051 §9)."""
    if isinstance(value, Flag):
        return value
    body = value[1:] if value.startswith("\\") else value
    if not _ATOM.fullmatch(body):
        raise ValueError(f"not a valid flag: {value!r}")
    return value


@lru_cache(maxsize=4096)
def flag_list(flags: tuple[FlagWord, ...]) -> str:
    """The checked, space-separated flags; FETCH FLAGS repeats a few sets very often."""
    return " ".join(_flag(f) for f in flags)


def _flags(flags: Iterable[FlagWord], extra: str = "") -> str:
    inner = flag_list(flags) if isinstance(flags, tuple) else " ".join(_flag(f) for f in flags)
    if extra:
        inner = f"{inner} {extra}" if inner else extra
    return f"({inner})"


def _attr(value: AttrWord) -> str:
    # mbx-list-flag: "\" atom (RFC 9051 §9 flag-extension)
    if not value.startswith("\\") or not _ATOM.fullmatch(value[1:]):
        raise ValueError(f"not a mailbox attribute: {value!r}")
    return value


def _capabilities(caps: Iterable[CapabilityWord]) -> str:
    return " ".join(_atom(c, "capability") for c in caps)


def _text(text: str, utf8: bool, bad: re.Pattern[str] = _BAD_TEXT) -> str:
    """resp-text never holds CR, LF or NUL; 8-bit text only with UTF-8 enabled.

    A line ending in ``{n}`` announces a literal to clients that scan lines (imaplib does), so
    such text gets a "." after it.
    """
    if bad.search(text):
        text = bad.sub(" ", text)
    if not text.isascii():
        charset = "utf-8" if utf8 else "ascii"
        text = text.encode(charset, "replace").decode(charset)
    return text + "." if _LITERAL_END.search(text) else text


# --- numbers and dates ---------------------------------------------------------------------------


def compact(numbers: Iterable[int], *, keep_order: bool = False) -> str:
    """Write numbers as a sequence set: ``[1, 2, 3, 5, 7, 8, 9]`` gives ``"1:3,5,7:9"``.

    Sorted and de-duplicated unless ``keep_order`` (COPYUID/APPENDUID, whose sets correspond by
    position, RFC 4315 §3): then only ascending runs in the given order are merged. Raises
    ``ValueError`` for an empty set or a number below 1 (a sequence-set has neither).
    """
    nums: list[int] = list(numbers) if keep_order else sorted(set(numbers))
    if not nums:
        raise ValueError("empty sequence set")
    if min(nums) < 1:
        raise ValueError("sequence set numbers must be at least 1")
    ranges: list[str] = []
    start = prev = nums[0]
    for n in nums[1:]:
        if n == prev + 1:
            prev = n
            continue
        ranges.append(str(start) if start == prev else f"{start}:{prev}")
        start = prev = n
    ranges.append(str(start) if start == prev else f"{start}:{prev}")
    return ",".join(ranges)


def format_datetime(value: dt.datetime) -> str:
    """RFC 9051 §9 date-time without quotes: ``17-Jul-1996 02:44:25 -0700``.

    In the zone of the value; a naive value is taken as UTC. The day is space-padded
    (date-day-fixed). Offsets with seconds are truncated to minutes.
    """
    offset = value.utcoffset()
    seconds = 0 if offset is None else int(offset.total_seconds())
    sign = "-" if seconds < 0 else "+"
    minutes = abs(seconds) // 60
    return (
        f"{value.day:2d}-{_MONTHS[value.month - 1]}-{value.year:04d} "
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d} "
        f"{sign}{minutes // 60:02d}{minutes % 60:02d}"
    )


# --- response codes and status responses ---------------------------------------------------------


def _code(out: _Out, code: rs.RespCode) -> None:
    match code:
        case rs.Code():
            out.w(code.word)
        case rs.CodeNumber():
            out.w(f"{code.word} {code.value}")
        case rs.CodeText():
            text = _text(code.text, out.utf8, _BAD_CODE_TEXT).strip()
            out.w(f"{code.word} {text}" if text else code.word)
        case rs.PermanentFlags():
            out.w("PERMANENTFLAGS " + _flags(code.flags, "\\*" if code.new_keywords else ""))
        case rs.CapabilityCode():
            out.w("CAPABILITY " + _capabilities(code.capabilities))
        case rs.BadCharset():
            out.w("BADCHARSET")
            if code.charsets:
                out.w(" (")
                _each(out, code.charsets, lambda c: _atom_or_quoted(out, c))  # atom / quoted
                out.w(")")
        case rs.AppendUid():
            out.w(f"APPENDUID {code.uidvalidity} {compact(code.uids, keep_order=True)}")
        case rs.CopyUid():
            source = compact(code.source, keep_order=True)
            destination = compact(code.destination, keep_order=True)
            out.w(f"COPYUID {code.uidvalidity} {source} {destination}")
        case rs.Modified():
            out.w(f"MODIFIED {compact(code.numbers)}")
        case rs.MailboxId():
            out.w(f"MAILBOXID ({code.mailbox_id})")
        case rs.InProgress():
            out.w("INPROGRESS (")
            if code.tag is None:
                out.w("NIL")
            else:
                out.w(_quote(_text(code.tag, False)))  # progress-tag = quoted / nil
            out.w(f" {_number_or_nil(code.count)} {_number_or_nil(code.total)})")
        case _:
            assert_never(code)


def _number_or_nil(value: int | None) -> str:
    return "NIL" if value is None else str(value)


def _resp_text(out: _Out, status: Status, code: rs.RespCode | None, text: str) -> None:
    """resp-text = ["[" resp-text-code "]" SP] text (RFC 9051 §9)."""
    if code is not None:
        out.w("[")
        _code(out, code)
        out.w("] ")
    out.w(_text(text, out.utf8) or _DEFAULT_TEXT[status])


# --- untagged data -------------------------------------------------------------------------------


def _listing(out: _Out, keyword: str, r: rs.ListData | rs.LsubData | rs.XlistData) -> None:
    out.w(f"* {keyword} (")
    out.w(" ".join(_attr(a) for a in r.attrs))
    out.w(") ")
    # RFC 9051 §9: mailbox-list delimiter is DQUOTE QUOTED-CHAR DQUOTE / nil
    out.w("NIL " if r.delimiter is None else _quote(r.delimiter) + " ")
    _mailbox(out, r.name)
    if r.extended:
        out.w(" (")
        _each(out, r.extended, lambda item: _list_extended(out, item))
        out.w(")")


def _list_extended(out: _Out, item: rs.ListExtendedItem) -> None:
    if isinstance(item, rs.ChildInfo):
        # RFC 5258 §4: "CHILDINFO" SP "(" list-select-base-opt-quoted ... ")"
        options = " ".join(_quote(_atom(o, "CHILDINFO option")) for o in item.options)
        out.w(f'"CHILDINFO" ({options})')
    else:
        out.w('"OLDNAME" (')  # RFC 9051 §9: "OLDNAME" SP "(" mailbox ")"
        _mailbox(out, item.name)
        out.w(")")


def _status(out: _Out, r: rs.StatusData) -> None:
    out.w("* STATUS ")
    _mailbox(out, r.name)
    out.w(" (")
    out.w(" ".join(_status_item(item, value) for item, value in r.items))
    out.w(")")


def _status_item(item: StatusItem, value: rs.StatusValue) -> str:
    if item is StatusItem.MAILBOXID:
        if not isinstance(value, str):
            raise ValueError(f"MAILBOXID needs an objectid: {value!r}")
        check_objectid(value)
        return f"MAILBOXID ({value})"  # RFC 8474 §4.2
    if isinstance(value, int) or (value is None and item is StatusItem.APPENDLIMIT):
        return f"{item} {_number_or_nil(value)}"  # RFC 7889 §5: APPENDLIMIT NIL
    raise ValueError(f"bad STATUS value for {item}: {value!r}")


def _numbers(out: _Out, keyword: str, numbers: Sequence[int], modseq: int | None) -> None:
    out.w("* " + keyword)
    if numbers:
        out.w(" " + " ".join(map(str, numbers)))
        if modseq is not None:
            out.w(f" (MODSEQ {modseq})")  # RFC 7162 §3.1.6: only with a non-empty result


def _esearch(out: _Out, r: rs.ESearchData) -> None:
    out.w("* ESEARCH")
    if r.tag is not None:
        out.w(" (TAG ")  # RFC 4731 §3.1: search-correlator, tag-string = string
        _string(out, r.tag)
        if r.mailbox is not None:  # RFC 7377 §4: one-correlator
            out.w(" MAILBOX ")
            _mailbox(out, r.mailbox)
        if r.uidvalidity is not None:
            out.w(f" UIDVALIDITY {r.uidvalidity}")
        out.w(")")
    if r.uid:
        out.w(" UID")
    for item in r.items:
        match item:
            case rs.ESearchMin():
                out.w(f" MIN {item.value}")
            case rs.ESearchMax():
                out.w(f" MAX {item.value}")
            case rs.ESearchCount():
                out.w(f" COUNT {item.value}")
            case rs.ESearchAll():
                if item.numbers:  # RFC 4731 §3.1: no ALL without matches
                    out.w(f" ALL {compact(item.numbers, keep_order=item.ordered)}")
            case rs.ESearchModSeq():
                out.w(f" MODSEQ {item.value}")
            case rs.ESearchPartial():
                found = compact(item.numbers, keep_order=item.ordered) if item.numbers else "NIL"
                out.w(f" PARTIAL ({item.first}:{item.last} {found})")  # RFC 9394 §3.1
            case _:
                assert_never(item)


def _thread(out: _Out, node: rs.ThreadNode) -> None:
    """The inside of one thread-list (RFC 5256 §4): members, then nested lists if it branches.

    Single-child chains are walked in a loop, so only branching recurses.
    """
    first = True
    while True:
        if node.message is not None:
            out.w(str(node.message) if first else f" {node.message}")
            first = False
        if len(node.children) == 1:
            node = node.children[0]
            continue
        if node.children and not first:
            out.w(" ")
        for child in node.children:
            out.w("(")
            _thread(out, child)
            out.w(")")
        return


def _namespace(out: _Out, group: rs.Namespace) -> None:
    if not group:
        out.w("NIL")
        return
    out.w("(")
    for prefix, delimiter in group:
        out.w("(")
        # RFC 2342 §5: the prefix is a string in modified UTF-7 (like a mailbox name)
        _string(out, prefix if out.utf8 else mutf7.encode(prefix))
        out.w(" NIL)" if delimiter is None else f" {_quote(delimiter)})")
    out.w(")")


def _fetch_item(out: _Out, item: rs.FetchItem) -> None:
    match item:
        case rs.FetchFlags():
            out.w("FLAGS " + _flags(item.flags))
        case rs.FetchUid():
            out.w(f"UID {item.uid}")
        case rs.FetchInternalDate():
            out.w(f'INTERNALDATE "{format_datetime(item.value)}"')
        case rs.FetchSize():
            out.w(f"RFC822.SIZE {item.size}")
        case rs.FetchModSeq():
            out.w(f"MODSEQ ({item.modseq})")  # RFC 7162 §3.1.4.1
        case rs.FetchSection():
            out.w(item.name + " ")
            if item.data is None:
                out.w("NIL")
            else:
                _literal(out, item.data, item.binary)
        case rs.FetchBinarySize():
            out.w(f"BINARY.SIZE[{item.part}] {item.size}")
        case rs.FetchEmailId():
            out.w(f"EMAILID ({item.email_id})")
        case rs.FetchThreadId():
            out.w("THREADID NIL" if item.thread_id is None else f"THREADID ({item.thread_id})")
        case rs.FetchSaveDate():
            saved = "NIL" if item.value is None else f'"{format_datetime(item.value)}"'
            out.w("SAVEDATE " + saved)
        case rs.FetchPreview():
            out.w("PREVIEW ")
            _nstring(out, item.text)
        case rs.FetchRaw():
            out.w(item.name + " ")
            out.data(item.data)
        case _:
            assert_never(item)


def _render(out: _Out, r: rs.Response) -> None:
    match r:  # the most frequent responses first
        case rs.FetchData():
            out.w(f"* {r.msn} FETCH (")
            _each(out, r.items, lambda item: _fetch_item(out, item))
            out.w(")")
        case rs.UidFetchData():
            out.w(f"* {r.uid} UIDFETCH (")  # RFC 9586 §3.3: uniqueid SP "UIDFETCH" SP msg-att
            _each(out, r.items, lambda item: _fetch_item(out, item))
            out.w(")")
        case rs.Tagged():
            if not _TAG.fullmatch(r.tag):
                raise ValueError(f"bad tag: {r.tag!r}")
            out.w(f"{r.tag} {r.status} ")
            _resp_text(out, r.status, r.code, r.text)
        case rs.UntaggedStatus():
            out.w(f"* {r.status} ")
            _resp_text(out, r.status, r.code, r.text)
        case rs.Continuation():
            out.w("+ " + (_text(r.text, out.utf8) or _DEFAULT_CONTINUATION))
        case rs.ContinuationData():
            # RFC 9051 §7.5: "+" SP base64; empty data is "+ " (RFC 4959 §3)
            out.w("+ " + base64.b64encode(r.data).decode("ascii"))
        case rs.CapabilityData():
            out.w("* CAPABILITY " + _capabilities(r.capabilities))
        case rs.EnabledData():
            out.w("* ENABLED" + "".join(" " + _atom(c, "capability") for c in r.capabilities))
        case rs.ListData():
            _listing(out, "LIST", r)
        case rs.LsubData():
            _listing(out, "LSUB", r)
        case rs.XlistData():
            _listing(out, "XLIST", r)
        case rs.StatusData():
            _status(out, r)
        case rs.FlagsData():
            out.w("* FLAGS " + _flags(r.flags))
        case rs.ExistsData():
            out.w(f"* {r.count} EXISTS")
        case rs.RecentData():
            out.w(f"* {r.count} RECENT")
        case rs.ExpungeData():
            out.w(f"* {r.msn} EXPUNGE")
        case rs.VanishedData():
            earlier = "(EARLIER) " if r.earlier else ""
            out.w(f"* VANISHED {earlier}{compact(r.uids)}")
        case rs.SearchData():
            _numbers(out, "SEARCH", r.numbers, r.modseq)
        case rs.ESearchData():
            _esearch(out, r)
        case rs.SortData():
            _numbers(out, "SORT", r.numbers, r.modseq)
        case rs.ThreadData():
            out.w("* THREAD")  # RFC 5256 §4: thread-data = "THREAD" [SP 1*thread-list]
            if r.threads:
                out.w(" ")
            for node in r.threads:
                out.w("(")
                _thread(out, node)
                out.w(")")
        case rs.IdData():
            out.w("* ID ")
            if r.params:
                out.w("(")
                _each(out, r.params, lambda p: _id_param(out, *p))
                out.w(")")
            else:
                out.w("NIL")
        case rs.NamespaceData():
            out.w("* NAMESPACE")
            for group in (r.personal, r.other, r.shared):
                out.w(" ")
                _namespace(out, group)
        case rs.QuotaData():
            out.w("* QUOTA ")
            _astring(out, r.root)
            resources = " ".join(
                f"{_atom(name, 'quota resource')} {usage} {limit}"
                for name, usage, limit in r.resources
            )
            out.w(f" ({resources})")
        case rs.QuotaRootData():
            _mailbox_words(out, "QUOTAROOT", r.mailbox, r.roots)
        case rs.AclData():
            _mailbox_words(out, "ACL", r.mailbox, [w for entry in r.entries for w in entry])
        case rs.ListRightsData():
            _mailbox_words(out, "LISTRIGHTS", r.mailbox, (r.identifier, r.required, *r.optional))
        case rs.MyRightsData():
            _mailbox_words(out, "MYRIGHTS", r.mailbox, (r.rights,))
        case rs.MetadataData():
            out.w("* METADATA ")
            _mailbox(out, r.mailbox)  # "" is the server itself
            out.w(" (")
            _each(out, r.entries, lambda e: _metadata_entry(out, *e))
            out.w(")")
        case rs.MetadataNames():
            out.w("* METADATA ")  # RFC 5464 §5: entry-list = entry *(SP entry)
            _mailbox(out, r.mailbox)
            for entry in r.entries:
                out.w(" ")
                _astring(out, entry)
        case rs.GenUrlAuthData():
            out.w("* GENURLAUTH")  # RFC 4467 §9: genurlauth-data, url-full = astring
            for url in r.urls:
                out.w(" ")
                _astring(out, url)
        case rs.UrlFetchData():
            out.w("* URLFETCH")  # RFC 4467 §9: urlfetch-data = 1*(SP url-full SP nstring)
            for url, data in r.items:
                out.w(" ")
                _astring(out, url)
                out.w(" ")
                _nstring(out, data)
        case _:
            assert_never(r)
    out.w("\r\n")


def _mailbox_words(out: _Out, keyword: str, mailbox: str, words: Iterable[str]) -> None:
    """``* KEYWORD mailbox astring...``: QUOTAROOT, ACL, LISTRIGHTS, MYRIGHTS."""
    out.w(f"* {keyword} ")
    _mailbox(out, mailbox)
    for word in words:
        out.w(" ")
        _astring(out, word)


def _metadata_entry(out: _Out, entry: str, value: bytes | None) -> None:
    _astring(out, entry)
    out.w(" ")
    _nstring(out, value, binary=True)  # RFC 5464 §5: value = nstring / literal8


def _id_param(out: _Out, key: str, value: str | None) -> None:
    _string(out, key)  # RFC 2971 §4: string SP nstring
    out.w(" ")
    _nstring(out, value)


# --- public API ----------------------------------------------------------------------------------


def encode(response: rs.Response, *, utf8: bool = False) -> bytes:
    """Encode one response, CRLF included. ``utf8``: the client enabled UTF8=ACCEPT/IMAP4rev2."""
    out = _Out(utf8)
    _render(out, response)
    parts = out.parts()
    return parts[0] if len(parts) == 1 else b"".join(parts)


def encode_chunks(
    response: rs.Response, *, utf8: bool = False, chunk_size: int = 65536
) -> Iterator[Chunk]:
    """Encode one response as chunks of about ``chunk_size`` bytes for streaming.

    Protocol text and small literals are joined; literal data larger than ``chunk_size`` is
    yielded as ``memoryview`` slices of the caller's bytes, without copying.
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be positive")
    out = _Out(utf8)
    _render(out, response)
    pending: list[bytes] = []
    size = 0
    for part in out.parts():
        if not part:
            continue
        if len(part) > chunk_size:
            if pending:
                yield b"".join(pending)
                pending, size = [], 0
            view = memoryview(part)
            for start in range(0, len(part), chunk_size):
                yield view[start : start + chunk_size]
            continue
        pending.append(part)
        size += len(part)
        if size >= chunk_size:
            yield b"".join(pending)
            pending, size = [], 0
    if pending:
        yield b"".join(pending)


def _alone(write: Callable[[_Out], None], utf8: bool) -> bytes:
    out = _Out(utf8)
    write(out)
    return b"".join(out.parts())


def encode_string(value: str | bytes, *, utf8: bool = False, binary: bool = False) -> bytes:
    """A ``string``: quoted when possible, else a literal (``literal8`` if ``binary`` and NUL)."""
    return _alone(lambda out: _string(out, value, binary), utf8)


def encode_nstring(value: str | bytes | None, *, utf8: bool = False) -> bytes:
    """An ``nstring``: ``NIL`` for ``None``, else as :func:`encode_string`."""
    return _alone(lambda out: _nstring(out, value), utf8)


def encode_astring(value: str, *, utf8: bool = False) -> bytes:
    """An ``astring``: an atom when safe (and not ``NIL``), else as :func:`encode_string`."""
    return _alone(lambda out: _astring(out, value), utf8)


def encode_mailbox(name: str, *, utf8: bool = False) -> bytes:
    """A mailbox name: modified UTF-7 unless ``utf8``, INBOX canonical, then an astring."""
    return _alone(lambda out: _mailbox(out, name), utf8)
