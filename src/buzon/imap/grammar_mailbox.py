"""Mailbox commands: SELECT/EXAMINE, CREATE, LIST family, STATUS, APPEND.

RFC 9051 §6.3, with RFC 4466 extended SELECT/CREATE, RFC 7162 §3.2.5 QRESYNC,
RFC 6154 CREATE-SPECIAL-USE, RFC 5258 LIST-EXTENDED, RFC 5819 LIST-STATUS,
RFC 3502 MULTIAPPEND, RFC 3516 BINARY, RFC 6855 UTF8 APPEND, RFC 4469 CATENATE.
"""

from __future__ import annotations

from buzon.imap.commands import (
    Append,
    AppendMessage,
    CatenateText,
    CatenateUrl,
    Create,
    Examine,
    List,
    Lsub,
    QResync,
    Select,
    Status,
    Xlist,
)
from buzon.imap.commands_values import ListReturn, ListSelect, SequenceSet, StatusItem
from buzon.imap.errors import ParseError
from buzon.imap.grammar_base import Parser

__all__ = [
    "append_message",
    "parse_append",
    "parse_create",
    "parse_examine",
    "parse_list",
    "parse_lsub",
    "parse_select",
    "parse_status",
    "parse_xlist",
    "status_items",
]

_SPECIAL_USE = {
    f.lower(): f
    for f in (
        "\\All",
        "\\Archive",
        "\\Drafts",
        "\\Flagged",
        "\\Junk",
        "\\Sent",
        "\\Trash",
        "\\Important",  # RFC 8457
    )
}


def _select_params(p: Parser) -> tuple[bool, QResync | None]:
    """[SP "(" select-param *(SP select-param) ")"] (RFC 4466 §2.1)."""
    condstore = False
    qresync: QResync | None = None
    if not p.try_sp():
        return condstore, qresync
    p.open_paren("to start SELECT parameters")
    while True:
        word = p.name("(SELECT parameter)")
        if word == "CONDSTORE" and not condstore:  # RFC 7162 §3.1.8
            condstore = True
        elif word == "QRESYNC" and qresync is None:
            p.sp("after QRESYNC")
            qresync = _qresync(p)
        else:
            p.error(f"Unknown or repeated SELECT parameter {word!r}")
        if p.try_char(b")"):
            break
        p.sp("between SELECT parameters")
    return condstore, qresync


def _qresync(p: Parser) -> QResync:
    """ "(" uidvalidity SP mod-sequence-value [SP known-uids] [SP seq-match-data] ")" """
    p.open_paren("after QRESYNC")
    uidvalidity = p.nz_number("(QRESYNC uidvalidity)")
    p.sp("after QRESYNC uidvalidity")
    modseq = p.number64("(QRESYNC modseq)")
    if modseq == 0:
        p.error("QRESYNC modseq must not be 0")
    known: SequenceSet | None = None
    match: tuple[SequenceSet, SequenceSet] | None = None
    if p.try_sp():
        if not p.at(b"("):
            known = p.sequence_set()
            if known.saved:
                p.error("$ is not allowed in QRESYNC")
            if not p.try_sp():
                p.close_paren("to end QRESYNC")
                return QResync(uidvalidity, modseq, known)
        p.open_paren("to start QRESYNC sequence match data")
        seqs = p.sequence_set()
        p.sp("in QRESYNC sequence match data")
        uids = p.sequence_set()
        if seqs.saved or uids.saved:
            p.error("$ is not allowed in QRESYNC")
        p.close_paren("to end QRESYNC sequence match data")
        match = (seqs, uids)
    p.close_paren("to end QRESYNC")
    return QResync(uidvalidity, modseq, known, match)


def parse_select(p: Parser, tag: str) -> Select:
    p.sp("after SELECT")
    mailbox = p.mailbox()
    condstore, qresync = _select_params(p)
    p.end()
    return Select(tag, mailbox, condstore, qresync)


def parse_examine(p: Parser, tag: str) -> Examine:
    p.sp("after EXAMINE")
    mailbox = p.mailbox()
    condstore, qresync = _select_params(p)
    p.end()
    return Examine(tag, mailbox, condstore, qresync)


def parse_create(p: Parser, tag: str) -> Create:
    """create = "CREATE" SP mailbox [SP "(" "USE" SP "(" use-attr ... ")" ")"] (RFC 6154 §3)."""
    p.sp("after CREATE")
    mailbox = p.mailbox()
    uses: list[str] = []
    if p.try_sp():
        p.open_paren("to start CREATE parameters")
        word = p.name("(CREATE parameter)")
        if word != "USE":
            p.error(f"Unknown CREATE parameter {word!r}")
        p.sp("after USE")
        p.open_paren("after USE")
        while True:
            p.expect(b"\\", "to start special-use attribute")
            attr = "\\" + p.atom("(special-use attribute)")
            canon = _SPECIAL_USE.get(attr.lower())
            if canon is None:
                # RFC 6154 §3: NO [USEATTR]; the session maps the code.
                p.error(f"Unknown special-use attribute {attr}", "USEATTR")
            if canon not in uses:
                uses.append(canon)
            if p.try_char(b")"):
                break
            p.sp("between special-use attributes")
        p.close_paren("to end CREATE parameters")
    p.end()
    return Create(tag, mailbox, tuple(uses))


def status_items(p: Parser) -> tuple[StatusItem, ...]:
    """ "(" status-att *(SP status-att) ")" (RFC 9051 §9)."""
    p.open_paren("to start status items")
    items: list[StatusItem] = []
    while True:
        word = p.name("(status item)")
        try:
            item = StatusItem(word)
        except ValueError:
            p.error(f"Unknown status item {word!r}")
        if item not in items:
            items.append(item)
        if p.try_char(b")"):
            break
        p.sp("between status items")
    return tuple(items)


def parse_status(p: Parser, tag: str) -> Status:
    p.sp("after STATUS")
    mailbox = p.mailbox()
    p.sp("after mailbox")
    items = status_items(p)
    p.end()
    return Status(tag, mailbox, items)


def parse_list(p: Parser, tag: str) -> List:
    """LIST [SP "(" selection ")"] SP mailbox SP patterns [SP RETURN (...)] (RFC 5258 §6)."""
    p.sp("after LIST")
    selection: set[ListSelect] = set()
    extended = False
    if p.try_char(b"("):
        extended = True
        if not p.try_char(b")"):
            while True:
                word = p.name("(LIST selection option)")
                try:
                    selection.add(ListSelect(word))
                except ValueError:
                    p.error(f"Unknown LIST selection option {word!r}")
                if p.try_char(b")"):
                    break
                p.sp("between LIST selection options")
        if selection - {ListSelect.REMOTE} == {ListSelect.RECURSIVEMATCH}:
            # RFC 5258 §3.1: RECURSIVEMATCH needs another selection option (REMOTE is none)
            p.error("RECURSIVEMATCH requires another selection option")
        p.sp("after LIST selection options")
    reference = p.mailbox()
    p.sp("after reference name")
    patterns: list[str] = []
    if p.try_char(b"("):
        extended = True
        while True:
            patterns.append(p.list_mailbox())
            if p.try_char(b")"):
                break
            p.sp("between LIST patterns")
    else:
        patterns.append(p.list_mailbox())
    returns: set[ListReturn] = set()
    status: tuple[StatusItem, ...] = ()
    if p.try_sp():
        extended = True
        if not p.try_word("RETURN"):
            p.error("Expected RETURN after LIST patterns")
        p.sp("after RETURN")
        p.open_paren("after RETURN")
        if not p.try_char(b")"):
            while True:
                word = p.name("(LIST return option)")
                try:
                    opt = ListReturn(word)
                except ValueError:
                    p.error(f"Unknown LIST return option {word!r}")
                returns.add(opt)
                if opt is ListReturn.STATUS:
                    p.sp("after STATUS")  # RFC 5819 §2
                    status = status_items(p)
                if p.try_char(b")"):
                    break
                p.sp("between LIST return options")
    p.end()
    return List(
        tag,
        reference,
        tuple(patterns),
        frozenset(selection),
        frozenset(returns),
        status,
        extended,
    )


def parse_lsub(p: Parser, tag: str) -> Lsub:
    p.sp("after LSUB")
    reference = p.mailbox()
    p.sp("after reference name")
    pattern = p.list_mailbox()
    p.end()
    return Lsub(tag, reference, pattern)


def parse_xlist(p: Parser, tag: str) -> Xlist:
    p.sp("after XLIST")
    reference = p.mailbox()
    p.sp("after reference name")
    pattern = p.list_mailbox()
    p.end()
    return Xlist(tag, reference, pattern)


def append_message(p: Parser) -> AppendMessage:
    """[SP flag-list] [SP date-time] SP (literal / literal8 / UTF8 (literal8) / CATENATE (...))."""
    flags: tuple[str, ...] = ()
    date = None
    if p.at(b"("):
        flags = p.flag_list()
        p.sp("after APPEND flags")
    if p.at(b'"'):
        date = p.date_time()
        p.sp("after APPEND date-time")
    if p.is_literal():
        data, binary = p.literal(binary_ok=True)
        return AppendMessage(data, flags, date, binary)
    word = p.name("(APPEND message)")
    if word == "UTF8":
        # RFC 6855 §4: "UTF8" SP "(" literal8 ")"; we accept a plain literal too.
        p.sp("after UTF8")
        p.open_paren("after UTF8")
        data, binary = p.literal(binary_ok=True)
        p.close_paren("after UTF8 literal")
        return AppendMessage(data, flags, date, binary, utf8=True)
    if word == "CATENATE":
        p.sp("after CATENATE")
        return AppendMessage(_catenate(p), flags, date)
    raise ParseError("Expected literal with the message to APPEND")


def _catenate(p: Parser) -> tuple[CatenateText | CatenateUrl, ...]:
    """ "(" cat-part *(SP cat-part) ")" (RFC 4469 §5)."""
    p.open_paren("after CATENATE")
    parts: list[CatenateText | CatenateUrl] = []
    while True:
        word = p.name("(CATENATE part)")
        p.sp(f"after {word}")
        if word == "TEXT":
            data, binary = p.literal(binary_ok=True)
            parts.append(CatenateText(data, binary))
        elif word == "URL":
            parts.append(CatenateUrl(p.astring_text("CATENATE URL")))
        else:
            p.error(f"Unknown CATENATE part {word!r}")
        if p.try_char(b")"):
            break
        p.sp("between CATENATE parts")
    return tuple(parts)


def parse_append(p: Parser, tag: str) -> Append:
    """append = "APPEND" SP mailbox 1*append-message (RFC 3502 §6)."""
    p.sp("after APPEND")
    mailbox = p.mailbox()
    messages: list[AppendMessage] = []
    while p.try_sp():
        messages.append(append_message(p))
    if not messages:
        p.error("Expected SP after mailbox")
    p.end()
    return Append(tag, mailbox, tuple(messages))
