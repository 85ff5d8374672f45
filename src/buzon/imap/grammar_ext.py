"""Grammar of the second group of extensions (see `commands_ext`)."""

from __future__ import annotations

from collections.abc import Callable

from buzon.imap import commands_ext as x
from buzon.imap.commands_ext import ExtCommand
from buzon.imap.commands_values import FetchItem
from buzon.imap.grammar_base import Parser
from buzon.imap.grammar_fetch import fetch_items
from buzon.imap.grammar_mailbox import append_message
from buzon.imap.grammar_search import charset, search_keys, search_program, search_returns
from buzon.imap.searchkeys import SearchKey

__all__ = ["EXT_COMMANDS", "EXT_UID_COMMANDS"]


def _sort(p: Parser, tag: str, uid: bool) -> x.Sort:
    """sort = ["UID" SP] "SORT" [SP RETURN (...)] SP sort-criteria SP search-criteria."""
    p.sp("after SORT")
    returns, partial = search_returns(p)  # RFC 5267 §3.2 ESORT
    p.open_paren("to start sort criteria")
    criteria: list[x.SortCriterion] = []
    while True:
        word = p.name("(sort key)")
        reverse = word == "REVERSE"
        if reverse:
            p.sp("after REVERSE")
            word = p.name("(sort key)")
        try:
            criteria.append(x.SortCriterion(x.SortKey(word), reverse))
        except ValueError:
            p.error(f"Unknown sort key {word!r}")
        if p.try_char(b")"):
            break
        p.sp("between sort criteria")
    p.sp("after sort criteria")
    charset, key = _criteria(p)
    p.end()
    return x.Sort(tag, tuple(criteria), charset, key, uid, returns, partial)


def _criteria(p: Parser) -> tuple[str, SearchKey]:
    """search-criteria = charset 1*(SP search-key) (RFC 5256 §5): no CHARSET keyword."""
    name = charset(p)
    p.sp("after charset")
    return name, search_keys(p, name)


def _thread(p: Parser, tag: str, uid: bool) -> x.Thread:
    p.sp("after THREAD")
    algorithm = p.atom("(thread algorithm)").upper()
    p.sp("after thread algorithm")
    charset, key = _criteria(p)
    p.end()
    return x.Thread(tag, algorithm, charset, key, uid)


def _one_or_more_mailbox(p: Parser) -> tuple[str, ...]:
    if p.try_char(b"("):
        names = [p.mailbox()]
        while not p.try_char(b")"):
            p.sp("between mailboxes")
            names.append(p.mailbox())
        return tuple(names)
    return (p.mailbox(),)


_FILTERS_WITH_NAMES = frozenset({"SUBTREE", "SUBTREE-ONE", "MAILBOXES"})
_FILTERS = (
    frozenset({"SELECTED", "SELECTED-DELAYED", "INBOXES", "PERSONAL", "SUBSCRIBED"})
    | _FILTERS_WITH_NAMES
)


def _filter(p: Parser) -> x.MailboxFilter:
    kind = p.name("(mailbox filter)")
    if kind not in _FILTERS:
        p.error(f"Unknown mailbox filter {kind!r}")
    if kind in _FILTERS_WITH_NAMES:
        p.sp(f"after {kind}")
        return x.MailboxFilter(kind, _one_or_more_mailbox(p))
    return x.MailboxFilter(kind)


def _esearch(p: Parser, tag: str) -> x.Esearch:
    """esearch = "ESEARCH" [SP "IN" SP "(" filters ")"] [SP RETURN (...)] SP program."""
    p.sp("after ESEARCH")
    sources: list[x.MailboxFilter] = []
    if p.try_word("IN"):
        p.sp("after IN")
        p.open_paren("after IN")
        while True:
            sources.append(_filter(p))
            if p.try_char(b")"):
                break
            p.sp("between mailbox filters")
        p.sp("after source options")
    returns, partial = search_returns(p)
    charset, key = search_program(p)
    p.end()
    return x.Esearch(tag, key, tuple(sources), charset, returns, partial)


def _getquota(p: Parser, tag: str) -> x.GetQuota:
    p.sp("after GETQUOTA")
    root = p.astring_text("Quota root")
    p.end()
    return x.GetQuota(tag, root)


def _getquotaroot(p: Parser, tag: str) -> x.GetQuotaRoot:
    p.sp("after GETQUOTAROOT")
    mailbox = p.mailbox()
    p.end()
    return x.GetQuotaRoot(tag, mailbox)


def _setquota(p: Parser, tag: str) -> x.SetQuota:
    """setquota = "SETQUOTA" SP quota-root SP "(" [resource SP number ...] ")" (RFC 9208 §4.3)."""
    p.sp("after SETQUOTA")
    root = p.astring_text("Quota root")
    p.sp("after quota root")
    p.open_paren("to start quota limits")
    limits: list[tuple[str, int]] = []
    if not p.try_char(b")"):
        while True:
            resource = p.atom("(quota resource)").upper()
            p.sp("after quota resource")
            limits.append((resource, p.number64("(quota limit)")))
            if p.try_char(b")"):
                break
            p.sp("between quota limits")
    p.end()
    return x.SetQuota(tag, root, tuple(limits))


def _mailbox_then(
    name: str, n_ids: int, build: Callable[[str, str, list[str]], ExtCommand]
) -> Callable[[Parser, str], ExtCommand]:
    def parse(p: Parser, tag: str) -> ExtCommand:
        p.sp(f"after {name}")
        mailbox = p.mailbox()
        args: list[str] = []
        for _ in range(n_ids):
            p.sp(f"in {name}")
            args.append(p.astring_text(f"{name} argument"))
        p.end()
        return build(tag, mailbox, args)

    return parse


def _getmetadata(p: Parser, tag: str) -> x.GetMetadata:
    """getmetadata = "GETMETADATA" [SP options] SP mailbox SP entries (RFC 5464 §4.2)."""
    p.sp("after GETMETADATA")
    maxsize: int | None = None
    depth: str | None = None
    if p.try_char(b"("):
        while True:
            opt = p.name("(GETMETADATA option)")
            p.sp(f"after {opt}")
            if opt == "MAXSIZE" and maxsize is None:
                maxsize = p.number("after MAXSIZE")
            elif opt == "DEPTH" and depth is None:
                d = p.atom("after DEPTH").lower()
                if d not in ("0", "1", "infinity"):
                    p.error("DEPTH must be 0, 1 or infinity")
                depth = d
            else:
                p.error(f"Unknown or repeated GETMETADATA option {opt!r}")
            if p.try_char(b")"):
                break
            p.sp("between GETMETADATA options")
        p.sp("after GETMETADATA options")
    mailbox = p.mailbox()
    p.sp("after mailbox")
    entries: list[str] = []
    if p.try_char(b"("):
        while True:
            entries.append(p.astring_text("Metadata entry"))
            if p.try_char(b")"):
                break
            p.sp("between metadata entries")
    else:
        entries.append(p.astring_text("Metadata entry"))
    p.end()
    return x.GetMetadata(tag, mailbox, tuple(entries), maxsize, depth)


def _setmetadata(p: Parser, tag: str) -> x.SetMetadata:
    """setmetadata = "SETMETADATA" SP mailbox SP "(" entry SP value ... ")" (RFC 5464 §4.3)."""
    p.sp("after SETMETADATA")
    mailbox = p.mailbox()
    p.sp("after mailbox")
    p.open_paren("to start metadata values")
    values: list[tuple[str, bytes | None]] = []
    while True:
        entry = p.astring_text("Metadata entry")
        p.sp("after metadata entry")
        value = p.literal(binary_ok=True)[0] if p.is_literal() else p.nstring()
        values.append((entry, value))
        if p.try_char(b")"):
            break
        p.sp("between metadata values")
    p.end()
    return x.SetMetadata(tag, mailbox, tuple(values))


def _compress(p: Parser, tag: str) -> x.Compress:
    p.sp("after COMPRESS")
    mech = p.atom("(compression mechanism)").upper()
    p.end()
    return x.Compress(tag, mech)


def _unauthenticate(p: Parser, tag: str) -> x.Unauthenticate:
    p.end()
    return x.Unauthenticate(tag)


def _replace(p: Parser, tag: str, uid: bool) -> x.Replace:
    p.sp("after REPLACE")
    number = p.nz_number("(message to replace)")
    p.sp("after message number")
    mailbox = p.mailbox()
    p.sp("after mailbox")
    message = append_message(p)
    p.end()
    return x.Replace(tag, number, mailbox, message, uid)


def _mechanism(p: Parser) -> str:
    """mechanism = "INTERNAL" / 1*(ALPHA / DIGIT / "-" / ".") (RFC 4467 §9)."""
    word = p.name("(URLAUTH mechanism)").upper()
    if not all(ch.isascii() and (ch.isalnum() or ch in "-.") for ch in word):
        p.error(f"Bad URLAUTH mechanism {word!r}")
    return word


def _genurlauth(p: Parser, tag: str) -> x.GenUrlAuth:
    """genurlauth = "GENURLAUTH" 1*(SP url-rump SP mechanism) (RFC 4467 §9)."""
    requests: list[tuple[str, str]] = []
    p.sp("after GENURLAUTH")
    while True:
        url = p.astring_text("URL")
        p.sp("after URL")
        requests.append((url, _mechanism(p)))
        if not p.try_sp():
            break
    p.end()
    return x.GenUrlAuth(tag, tuple(requests))


def _resetkey(p: Parser, tag: str) -> x.ResetKey:
    """resetkey = "RESETKEY" [SP mailbox *(SP mechanism)] (RFC 4467 §9)."""
    if not p.try_sp():
        p.end()
        return x.ResetKey(tag)
    mailbox = p.mailbox()
    mechanisms: list[str] = []
    while p.try_sp():
        mechanisms.append(_mechanism(p))
    p.end()
    return x.ResetKey(tag, mailbox, tuple(mechanisms))


def _urlfetch(p: Parser, tag: str) -> x.UrlFetch:
    """urlfetch = "URLFETCH" 1*(SP url) (RFC 4467 §9)."""
    urls: list[str] = []
    p.sp("after URLFETCH")
    while True:
        urls.append(p.astring_text("URL"))
        if not p.try_sp():
            break
    p.end()
    return x.UrlFetch(tag, tuple(urls))


def _notify(p: Parser, tag: str) -> x.Notify:
    """notify = "NOTIFY" SP (notify-set / "NONE") (RFC 5465 §8)."""
    p.sp("after NOTIFY")
    word = p.name("(NOTIFY SET or NONE)")
    if word == "NONE":
        p.end()
        return x.Notify(tag, none=True)
    if word != "SET":
        p.error("Expected SET or NONE after NOTIFY")
    status = False
    groups: list[x.NotifyGroup] = []
    while p.try_sp():
        if not groups and not status and p.try_word("STATUS"):
            status = True
            continue
        p.open_paren("to start event group")
        flt = _filter(p)
        p.sp("after mailbox filter")
        events: list[x.NotifyEvent] = []
        if not p.try_word("NONE"):
            p.open_paren("to start events")
            while True:
                ev = p.name("(event)").upper()
                items: tuple[FetchItem, ...] = ()
                if ev == "MESSAGENEW" and p.at(b" ("):
                    p.pos += 1
                    items = fetch_items(p)
                events.append(x.NotifyEvent(ev, items))
                if p.try_char(b")"):
                    break
                p.sp("between events")
        p.close_paren("to end event group")
        groups.append(x.NotifyGroup(flt, tuple(events)))
    if not groups:
        p.error("Expected event groups after NOTIFY SET")
    p.end()
    return x.Notify(tag, none=False, status=status, groups=tuple(groups))


EXT_COMMANDS: dict[str, Callable[[Parser, str], ExtCommand]] = {
    "ESEARCH": _esearch,
    "GETQUOTA": _getquota,
    "GETQUOTAROOT": _getquotaroot,
    "SETQUOTA": _setquota,
    "SETACL": _mailbox_then("SETACL", 2, lambda t, m, a: x.SetAcl(t, m, a[0], a[1])),
    "DELETEACL": _mailbox_then("DELETEACL", 1, lambda t, m, a: x.DeleteAcl(t, m, a[0])),
    "GETACL": _mailbox_then("GETACL", 0, lambda t, m, a: x.GetAcl(t, m)),
    "LISTRIGHTS": _mailbox_then("LISTRIGHTS", 1, lambda t, m, a: x.ListRights(t, m, a[0])),
    "MYRIGHTS": _mailbox_then("MYRIGHTS", 0, lambda t, m, a: x.MyRights(t, m)),
    "GETMETADATA": _getmetadata,
    "SETMETADATA": _setmetadata,
    "COMPRESS": _compress,
    "UNAUTHENTICATE": _unauthenticate,
    "NOTIFY": _notify,
    "GENURLAUTH": _genurlauth,
    "RESETKEY": _resetkey,
    "URLFETCH": _urlfetch,
}
EXT_UID_COMMANDS: dict[str, Callable[[Parser, str, bool], ExtCommand]] = {
    "SORT": _sort,
    "THREAD": _thread,
    "REPLACE": _replace,
}
