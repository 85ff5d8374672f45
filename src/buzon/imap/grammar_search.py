"""SEARCH programs and the SEARCH command (RFC 9051 §6.4.4, RFC 4731, RFC 4466 §2.6).

Search keys become the tree of `searchkeys`. Nesting (parentheses, NOT, OR) is
bounded by `max_depth` so a hostile client cannot exhaust the Python stack.
String arguments are decoded from the CHARSET (US-ASCII and UTF-8 by default).
"""

from __future__ import annotations

import codecs
import re

from buzon.imap.commands import Search, SearchReturn
from buzon.imap.errors import ParseError
from buzon.imap.grammar_base import Parser
from buzon.imap.searchkeys import (
    AgeKey,
    All,
    And,
    DateField,
    DateKey,
    DateOp,
    EmailIdKey,
    FlagKey,
    HeaderKey,
    ModSeqEntryType,
    ModSeqKey,
    Not,
    Or,
    SaveDateSupported,
    SearchKey,
    SequenceKey,
    SizeKey,
    TextKey,
    TextScope,
    ThreadIdKey,
    UidKey,
)

__all__ = ["charset", "parse_search", "search_keys", "search_program", "search_returns"]

_FLAG_KEYS: dict[str, SearchKey] = {
    "ANSWERED": FlagKey("\\Answered"),
    "DELETED": FlagKey("\\Deleted"),
    "DRAFT": FlagKey("\\Draft"),
    "FLAGGED": FlagKey("\\Flagged"),
    "SEEN": FlagKey("\\Seen"),
    "RECENT": FlagKey("\\Recent"),
    "UNANSWERED": FlagKey("\\Answered", present=False),
    "UNDELETED": FlagKey("\\Deleted", present=False),
    "UNDRAFT": FlagKey("\\Draft", present=False),
    "UNFLAGGED": FlagKey("\\Flagged", present=False),
    "UNSEEN": FlagKey("\\Seen", present=False),
    "OLD": FlagKey("\\Recent", present=False),
    "NEW": And((FlagKey("\\Recent"), FlagKey("\\Seen", present=False))),
    "ALL": All(),
    "SAVEDATESUPPORTED": SaveDateSupported(),
}
_HEADER_KEYS = frozenset({"BCC", "CC", "FROM", "SUBJECT", "TO"})
_DATE_KEYS = {
    "BEFORE": (DateField.INTERNAL, DateOp.BEFORE),
    "ON": (DateField.INTERNAL, DateOp.ON),
    "SINCE": (DateField.INTERNAL, DateOp.SINCE),
    "SENTBEFORE": (DateField.SENT, DateOp.BEFORE),
    "SENTON": (DateField.SENT, DateOp.ON),
    "SENTSINCE": (DateField.SENT, DateOp.SINCE),
    "SAVEDBEFORE": (DateField.SAVED, DateOp.BEFORE),
    "SAVEDON": (DateField.SAVED, DateOp.ON),
    "SAVEDSINCE": (DateField.SAVED, DateOp.SINCE),
}
_OBJECTID = re.compile(rb"[A-Za-z0-9_\-]{1,255}")
_ENTRY_TYPES = {t.value.upper(): t for t in ModSeqEntryType}


class _Program:
    """State of one search program: the charset used to decode strings."""

    def __init__(self, p: Parser, charset: str | None) -> None:
        self.p = p
        self.charset = charset

    def string(self) -> str:
        raw = self.p.astring()
        if self.charset is None:
            # RFC 3501 says US-ASCII; lenient: accept UTF-8 as most clients send it.
            return self.p.text(raw, "Search string")
        try:
            return raw.decode(self.charset)
        except UnicodeDecodeError:
            self.p.error(f"Search string is not valid {self.charset}")

    def keys(self, depth: int) -> list[SearchKey]:
        """search-key *(SP search-key) up to ")" or the end."""
        keys = [self.key(depth)]
        while self.p.peek() == 0x20:
            self.p.pos += 1
            keys.append(self.key(depth))
        return keys

    def key(self, depth: int) -> SearchKey:
        p = self.p
        if depth > p.max_depth:
            p.error("Search keys nested too deeply")
        c = p.peek()
        if c == 0x28:  # "("
            p.pos += 1
            keys = self.keys(depth + 1)
            p.close_paren("to end search key list")
            return keys[0] if len(keys) == 1 else And(tuple(keys))
        if p.is_digit() or c in (0x2A, 0x24):  # digit, "*", "$"
            return SequenceKey(p.sequence_set())
        start = p.pos
        word = p.name("(search key)")
        flag_key = _FLAG_KEYS.get(word)
        if flag_key is not None:
            return flag_key
        if word in _HEADER_KEYS:
            p.sp(f"after {word}")
            return HeaderKey(word, self.string())
        dk = _DATE_KEYS.get(word)
        if dk is not None:
            p.sp(f"after {word}")
            return DateKey(dk[0], dk[1], p.date())
        if word in ("BODY", "TEXT"):
            p.sp(f"after {word}")
            return TextKey(TextScope(word), self.string())
        if word in ("KEYWORD", "UNKEYWORD"):
            p.sp(f"after {word}")
            return FlagKey(p.atom("(keyword)"), present=word == "KEYWORD")
        if word == "HEADER":
            p.sp("after HEADER")
            field = p.astring_text("Header field name")
            p.sp("after header field name")
            return HeaderKey(field, self.string())
        if word in ("LARGER", "SMALLER"):
            p.sp(f"after {word}")
            return SizeKey(word == "LARGER", p.number64(f"after {word}"))
        if word == "UID":
            p.sp("after UID")
            return UidKey(p.sequence_set())
        if word == "NOT":
            p.sp("after NOT")
            return Not(self.key(depth + 1))
        if word == "OR":
            p.sp("after OR")
            left = self.key(depth + 1)
            p.sp("between OR keys")
            return Or(left, self.key(depth + 1))
        if word in ("OLDER", "YOUNGER"):
            p.sp(f"after {word}")  # RFC 5032 §3
            return AgeKey(word == "OLDER", p.nz_number(f"after {word}"))
        if word == "MODSEQ":
            return self.modseq()
        if word in ("EMAILID", "THREADID"):
            p.sp(f"after {word}")  # RFC 8474 §6
            m = _OBJECTID.fullmatch(p.astring())
            if m is None:
                p.error(f"Invalid object id after {word}")
            oid = m.group().decode("ascii")
            return EmailIdKey(oid) if word == "EMAILID" else ThreadIdKey(oid)
        p.pos = start
        raise ParseError(f"Unknown search key {word!r}")

    def modseq(self) -> ModSeqKey:
        """MODSEQ [SP entry-name SP entry-type-req] SP mod-sequence-valzer (RFC 7162 §3.1.5)."""
        p = self.p
        p.sp("after MODSEQ")
        if p.peek() == 0x22:
            entry = p.text(p.quoted(), "MODSEQ entry name")
            p.sp("after MODSEQ entry name")
            etype = _ENTRY_TYPES.get(p.word())
            if etype is None:
                p.error("Invalid MODSEQ entry type (expected priv, shared or all)")
            p.sp("after MODSEQ entry type")
            return ModSeqKey(p.number64("after MODSEQ"), entry, etype)
        return ModSeqKey(p.number64("after MODSEQ"))


def charset(p: Parser) -> str:
    """A charset astring, checked and normalised; the value to decode strings with."""
    name = p.astring_text("Charset").upper()
    if name in ("US-ASCII", "UTF-8"):
        return "UTF-8"  # lenient: US-ASCII strings decoded as UTF-8
    try:
        codecs.lookup(name)
    except LookupError:
        # RFC 9051 §6.4.4: NO [BADCHARSET]; the session maps the code.
        p.error(f"Unsupported charset {name}", "BADCHARSET")
    return name


def search_keys(p: Parser, charset_name: str | None) -> SearchKey:
    """search-key *(SP search-key), one key or an And of them."""
    keys = _Program(p, charset_name).keys(1)
    return keys[0] if len(keys) == 1 else And(tuple(keys))


def search_program(p: Parser) -> tuple[str | None, SearchKey]:
    """search-program = ["CHARSET" SP charset SP] search-key *(SP search-key)."""
    name: str | None = None
    if p.try_word("CHARSET"):
        p.sp("after CHARSET")
        name = charset(p)
        p.sp("after charset")
    return name, search_keys(p, name)


def search_returns(p: Parser) -> tuple[frozenset[SearchReturn] | None, tuple[int, int] | None]:
    """[ "RETURN" SP "(" [opt *(SP opt)] ")" SP ] (RFC 4731 §3.1, RFC 9394 §3)."""
    if not p.try_word("RETURN"):
        return None, None
    p.sp("after RETURN")
    p.open_paren("after RETURN")
    opts: set[SearchReturn] = set()
    partial: tuple[int, int] | None = None
    if not p.try_char(b")"):
        while True:
            word = p.name("(search return option)")
            try:
                opt = SearchReturn(word)
            except ValueError:
                p.error(f"Unknown search return option {word!r}")
            opts.add(opt)
            if opt is SearchReturn.PARTIAL:
                p.sp("after PARTIAL")
                partial = _partial_range(p)
            if p.try_char(b")"):
                break
            p.sp("between search return options")
    p.sp("after RETURN options")
    if not opts:
        opts.add(SearchReturn.ALL)  # RFC 4731 §3.1: RETURN () means ALL
    return frozenset(opts), partial


def _partial_range(p: Parser) -> tuple[int, int]:
    """partial-range-first / partial-range-last (RFC 9394 §3); ordered low to high."""
    neg = p.try_char(b"-")
    a = p.nz_number("in PARTIAL range")
    p.expect(b":", "in PARTIAL range")
    if neg:
        p.expect(b"-", "in PARTIAL range (both ends negative)")
    b = p.nz_number("in PARTIAL range")
    lo, hi = min(a, b), max(a, b)
    return (-hi, -lo) if neg else (lo, hi)


def parse_search(p: Parser, tag: str, uid: bool) -> Search:
    """search = "SEARCH" [search-return-opts] SP search-program."""
    p.sp("after SEARCH")
    returns, partial = search_returns(p)
    charset, key = search_program(p)
    p.end()
    return Search(tag, key, uid, charset, returns, partial)
