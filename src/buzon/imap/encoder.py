"""Encode typed IMAP responses to bytes.

Theory of operation: a renderer walks the response and writes into ``wire.Out``, which
gathers protocol text as ``str`` pieces and keeps literal data as the caller's own ``bytes``
objects (never copied). ``encode`` joins everything; ``encode_chunks`` coalesces the small
pieces and hands out large literals as ``memoryview`` slices, so a 50 MB body is never
copied whole. How each value goes on the wire (atom, quoted string, literal, flags, dates)
is decided in one place, ``imap/wire.py``.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TypeAlias, assert_never

from buzon.imap import mutf7
from buzon.imap import responses as rs
from buzon.imap import wire as w
from buzon.imap.responses_fetch import check_objectid
from buzon.imap.wire import QUOTED_MAX, compact, flag_list, format_datetime, literal_data
from buzon.imap.words import Status, StatusItem

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

Chunk: TypeAlias = bytes | memoryview
"""A piece of encoded output; large literal data comes as ``memoryview`` slices."""

# RFC 9051 §9: a tag is ASTRING-CHAR except "+"; resp-text-code text has no "]".
_TAG = re.compile(r'[^\x00-\x20\x7f-\U0010ffff(){%*"\\+]+')
_BAD_CODE_TEXT = re.compile(r"[\x00\r\n\]]")

# RFC 3501 §9: text = 1*TEXT-CHAR, so an empty text would break rev1 parsers (imaplib too).
_DEFAULT_TEXT = {
    Status.OK: "completed",
    Status.NO: "failed",
    Status.BAD: "error",
    Status.PREAUTH: "logged in",
    Status.BYE: "closing connection",
}
_DEFAULT_CONTINUATION = "ready"


# --- response codes and status responses ---------------------------------------------------------


def _code(out: w.Out, code: rs.RespCode) -> None:
    match code:
        case rs.Code():
            out.w(code.word)
        case rs.CodeNumber():
            out.w(f"{code.word} {code.value}")
        case rs.CodeText():
            text = w.text(code.text, out.utf8, _BAD_CODE_TEXT).strip()
            out.w(f"{code.word} {text}" if text else code.word)
        case rs.PermanentFlags():
            out.w("PERMANENTFLAGS " + w.flags(code.flags, "\\*" if code.new_keywords else ""))
        case rs.CapabilityCode():
            out.w("CAPABILITY " + w.capabilities(code.capabilities))
        case rs.BadCharset():
            out.w("BADCHARSET")
            if code.charsets:
                out.w(" (")
                w.each(out, code.charsets, lambda c: w.atom_or_quoted(out, c))  # atom / quoted
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
                out.w(w.quote(w.text(code.tag, False)))  # progress-tag = quoted / nil
            out.w(f" {_number_or_nil(code.count)} {_number_or_nil(code.total)})")
        case _:
            assert_never(code)


def _number_or_nil(value: int | None) -> str:
    return "NIL" if value is None else str(value)


def _resp_text(out: w.Out, status: Status, code: rs.RespCode | None, text: str) -> None:
    """resp-text = ["[" resp-text-code "]" SP] text (RFC 9051 §9)."""
    if code is not None:
        out.w("[")
        _code(out, code)
        out.w("] ")
    out.w(w.text(text, out.utf8) or _DEFAULT_TEXT[status])


# --- untagged data -------------------------------------------------------------------------------


def _listing(out: w.Out, keyword: str, r: rs.ListData | rs.LsubData | rs.XlistData) -> None:
    out.w(f"* {keyword} (")
    out.w(" ".join(w.attr(a) for a in r.attrs))
    out.w(") ")
    # RFC 9051 §9: mailbox-list delimiter is DQUOTE QUOTED-CHAR DQUOTE / nil
    out.w("NIL " if r.delimiter is None else w.quote(r.delimiter) + " ")
    w.mailbox(out, r.name)
    if r.extended:
        out.w(" (")
        w.each(out, r.extended, lambda item: _list_extended(out, item))
        out.w(")")


def _list_extended(out: w.Out, item: rs.ListExtendedItem) -> None:
    if isinstance(item, rs.ChildInfo):
        # RFC 5258 §4: "CHILDINFO" SP "(" list-select-base-opt-quoted ... ")"
        options = " ".join(w.quote(w.atom(o, "CHILDINFO option")) for o in item.options)
        out.w(f'"CHILDINFO" ({options})')
    else:
        out.w('"OLDNAME" (')  # RFC 9051 §9: "OLDNAME" SP "(" mailbox ")"
        w.mailbox(out, item.name)
        out.w(")")


def _status(out: w.Out, r: rs.StatusData) -> None:
    out.w("* STATUS ")
    w.mailbox(out, r.name)
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


def _numbers(out: w.Out, keyword: str, numbers: Sequence[int], modseq: int | None) -> None:
    out.w("* " + keyword)
    if numbers:
        out.w(" " + " ".join(map(str, numbers)))
        if modseq is not None:
            out.w(f" (MODSEQ {modseq})")  # RFC 7162 §3.1.6: only with a non-empty result


def _esearch(out: w.Out, r: rs.ESearchData) -> None:
    out.w("* ESEARCH")
    if r.tag is not None:
        out.w(" (TAG ")  # RFC 4731 §3.1: search-correlator, tag-string = string
        w.string(out, r.tag)
        if r.mailbox is not None:  # RFC 7377 §4: one-correlator
            out.w(" MAILBOX ")
            w.mailbox(out, r.mailbox)
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


def _thread(out: w.Out, node: rs.ThreadNode) -> None:
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


def _namespace(out: w.Out, group: rs.Namespace) -> None:
    if not group:
        out.w("NIL")
        return
    out.w("(")
    for prefix, delimiter in group:
        out.w("(")
        # RFC 2342 §5: the prefix is a string in modified UTF-7 (like a mailbox name)
        w.string(out, prefix if out.utf8 else mutf7.encode(prefix))
        out.w(" NIL)" if delimiter is None else f" {w.quote(delimiter)})")
    out.w(")")


def _fetch_item(out: w.Out, item: rs.FetchItem) -> None:
    match item:
        case rs.FetchFlags():
            out.w("FLAGS " + w.flags(item.flags))
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
                w.literal(out, item.data, item.binary)
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
            w.nstring(out, item.text)
        case rs.FetchRaw():
            out.w(item.name + " ")
            out.data(item.data)
        case _:
            assert_never(item)


def _render(out: w.Out, r: rs.Response) -> None:
    match r:  # the most frequent responses first
        case rs.FetchData():
            out.w(f"* {r.msn} FETCH (")
            w.each(out, r.items, lambda item: _fetch_item(out, item))
            out.w(")")
        case rs.UidFetchData():
            out.w(f"* {r.uid} UIDFETCH (")  # RFC 9586 §3.3: uniqueid SP "UIDFETCH" SP msg-att
            w.each(out, r.items, lambda item: _fetch_item(out, item))
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
            out.w("+ " + (w.text(r.text, out.utf8) or _DEFAULT_CONTINUATION))
        case rs.ContinuationData():
            # RFC 9051 §7.5: "+" SP base64; empty data is "+ " (RFC 4959 §3)
            out.w("+ " + base64.b64encode(r.data).decode("ascii"))
        case rs.CapabilityData():
            out.w("* CAPABILITY " + w.capabilities(r.capabilities))
        case rs.EnabledData():
            out.w("* ENABLED" + "".join(" " + w.atom(c, "capability") for c in r.capabilities))
        case rs.ListData():
            _listing(out, "LIST", r)
        case rs.LsubData():
            _listing(out, "LSUB", r)
        case rs.XlistData():
            _listing(out, "XLIST", r)
        case rs.StatusData():
            _status(out, r)
        case rs.FlagsData():
            out.w("* FLAGS " + w.flags(r.flags))
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
                w.each(out, r.params, lambda p: _id_param(out, *p))
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
            w.astring(out, r.root)
            resources = " ".join(
                f"{w.atom(name, 'quota resource')} {usage} {limit}"
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
            w.mailbox(out, r.mailbox)  # "" is the server itself
            out.w(" (")
            w.each(out, r.entries, lambda e: _metadata_entry(out, *e))
            out.w(")")
        case rs.MetadataNames():
            out.w("* METADATA ")  # RFC 5464 §5: entry-list = entry *(SP entry)
            w.mailbox(out, r.mailbox)
            for entry in r.entries:
                out.w(" ")
                w.astring(out, entry)
        case rs.GenUrlAuthData():
            out.w("* GENURLAUTH")  # RFC 4467 §9: genurlauth-data, url-full = astring
            for url in r.urls:
                out.w(" ")
                w.astring(out, url)
        case rs.UrlFetchData():
            out.w("* URLFETCH")  # RFC 4467 §9: urlfetch-data = 1*(SP url-full SP nstring)
            for url, data in r.items:
                out.w(" ")
                w.astring(out, url)
                out.w(" ")
                w.nstring(out, data)
        case _:
            assert_never(r)
    out.w("\r\n")


def _mailbox_words(out: w.Out, keyword: str, mailbox: str, words: Iterable[str]) -> None:
    """``* KEYWORD mailbox astring...``: QUOTAROOT, ACL, LISTRIGHTS, MYRIGHTS."""
    out.w(f"* {keyword} ")
    w.mailbox(out, mailbox)
    for word in words:
        out.w(" ")
        w.astring(out, word)


def _metadata_entry(out: w.Out, entry: str, value: bytes | None) -> None:
    w.astring(out, entry)
    out.w(" ")
    w.nstring(out, value, binary=True)  # RFC 5464 §5: value = nstring / literal8


def _id_param(out: w.Out, key: str, value: str | None) -> None:
    w.string(out, key)  # RFC 2971 §4: string SP nstring
    out.w(" ")
    w.nstring(out, value)


# --- public API ----------------------------------------------------------------------------------


def encode(response: rs.Response, *, utf8: bool = False) -> bytes:
    """Encode one response, CRLF included. ``utf8``: the client enabled UTF8=ACCEPT/IMAP4rev2."""
    out = w.Out(utf8)
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
    out = w.Out(utf8)
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


def _alone(write: Callable[[w.Out], None], utf8: bool) -> bytes:
    out = w.Out(utf8)
    write(out)
    return b"".join(out.parts())


def encode_string(value: str | bytes, *, utf8: bool = False, binary: bool = False) -> bytes:
    """A ``string``: quoted when possible, else a literal (``literal8`` if ``binary`` and NUL)."""
    return _alone(lambda out: w.string(out, value, binary), utf8)


def encode_nstring(value: str | bytes | None, *, utf8: bool = False) -> bytes:
    """An ``nstring``: ``NIL`` for ``None``, else as :func:`encode_string`."""
    return _alone(lambda out: w.nstring(out, value), utf8)


def encode_astring(value: str, *, utf8: bool = False) -> bytes:
    """An ``astring``: an atom when safe (and not ``NIL``), else as :func:`encode_string`."""
    return _alone(lambda out: w.astring(out, value), utf8)


def encode_mailbox(name: str, *, utf8: bool = False) -> bytes:
    """A mailbox name: modified UTF-7 unless ``utf8``, INBOX canonical, then an astring."""
    return _alone(lambda out: w.mailbox(out, name), utf8)
