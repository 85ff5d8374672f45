"""FETCH and STORE arguments (RFC 9051 §6.4.5, §6.4.6, RFC 3516, RFC 7162, RFC 8970)."""

from __future__ import annotations

from buzon.imap.commands import Fetch, Store
from buzon.imap.commands_values import (
    BodySection,
    FetchAtt,
    FetchBinary,
    FetchBinarySize,
    FetchBody,
    FetchItem,
    FetchPreview,
    SectionText,
    StoreOperation,
)
from buzon.imap.errors import ParseError
from buzon.imap.grammar_base import Parser

__all__ = ["fetch_items", "parse_fetch", "parse_store"]

_MACROS: dict[str, tuple[FetchItem, ...]] = {
    "ALL": (FetchAtt.FLAGS, FetchAtt.INTERNALDATE, FetchAtt.RFC822_SIZE, FetchAtt.ENVELOPE),
    "FAST": (FetchAtt.FLAGS, FetchAtt.INTERNALDATE, FetchAtt.RFC822_SIZE),
    "FULL": (
        FetchAtt.FLAGS,
        FetchAtt.INTERNALDATE,
        FetchAtt.RFC822_SIZE,
        FetchAtt.ENVELOPE,
        FetchAtt.BODY,
    ),
}
_SIMPLE = {a.value: a for a in FetchAtt}


def _section_part(p: Parser) -> tuple[int, ...]:
    """section-part: nz-number *("." nz-number); stops before ".TEXT" etc."""
    part = [p.nz_number("in section part")]
    while p.at(b".") and p.pos + 1 < len(p.line) and p.line[p.pos + 1 : p.pos + 2].isdigit():
        p.pos += 1
        part.append(p.nz_number("in section part"))
    return tuple(part)


def _section_text(p: Parser, *, mime_ok: bool) -> tuple[SectionText, tuple[str, ...]]:
    word = p.name("in section")
    if word == "HEADER":
        return SectionText.HEADER, ()
    if word == "TEXT":
        return SectionText.TEXT, ()
    if word == "MIME" and mime_ok:
        return SectionText.MIME, ()
    if word in ("HEADER.FIELDS", "HEADER.FIELDS.NOT"):
        p.sp("before header list")
        p.open_paren("to start header list")
        fields: list[str] = []
        while True:
            fields.append(p.astring_text("Header field name"))
            if p.try_char(b")"):
                break
            p.sp("between header field names")
        kind = (
            SectionText.HEADER_FIELDS if word == "HEADER.FIELDS" else SectionText.HEADER_FIELDS_NOT
        )
        return kind, tuple(fields)
    raise ParseError(f"Invalid section text {word!r}")


def _section(p: Parser) -> BodySection:
    """ "[" [section-spec] "]" (RFC 9051 §9)."""
    p.expect(b"[", "to start section")
    if p.try_char(b"]"):
        return BodySection()
    part: tuple[int, ...] = ()
    if p.is_digit():
        part = _section_part(p)
        if p.try_char(b"]"):
            return BodySection(part)
        p.expect(b".", "after section part")
    text, fields = _section_text(p, mime_ok=bool(part))
    p.expect(b"]", "to end section")
    return BodySection(part, text, fields)


def _binary_part(p: Parser) -> tuple[int, ...]:
    p.expect(b"[", "to start binary section")
    if p.try_char(b"]"):
        return ()
    part = _section_part(p)
    p.expect(b"]", "to end binary section")
    return part


def _partial(p: Parser) -> tuple[int, int] | None:
    """ "<" number "." nz-number ">" (RFC 9051 §9)."""
    if not p.try_char(b"<"):
        return None
    origin = p.number("in partial origin")
    p.expect(b".", "in partial")
    size = p.nz_number("in partial size")
    p.expect(b">", "to end partial")
    return origin, size


def _fetch_att(p: Parser) -> FetchItem:
    m = p.pos
    word = p.name("(fetch attribute)")
    if word in ("BODY", "BODY.PEEK") and p.at(b"["):
        section = _section(p)
        return FetchBody(section, word == "BODY.PEEK", _partial(p))
    if word in ("BINARY", "BINARY.PEEK") and p.at(b"["):
        part = _binary_part(p)
        return FetchBinary(part, word == "BINARY.PEEK", _partial(p))
    if word == "BINARY.SIZE" and p.at(b"["):
        return FetchBinarySize(_binary_part(p))
    if word == "PREVIEW":
        # RFC 8970 §3.1: PREVIEW [SP "(" "LAZY" ")"]
        if p.at(b" (LAZY)") or p.at(b" (lazy)"):
            p.pos += 7
            return FetchPreview(lazy=True)
        return FetchPreview()
    att = _SIMPLE.get(word)
    if att is None or word == "BODY.PEEK":
        p.pos = m
        p.error(f"Invalid fetch attribute {word!r}" if word else "Expected fetch attribute")
    return att


def fetch_items(p: Parser) -> tuple[FetchItem, ...]:
    if p.try_char(b"("):
        items: list[FetchItem] = []
        while True:
            items.append(_fetch_att(p))
            if p.try_char(b")"):
                break
            p.sp("between fetch attributes")
    else:
        start = p.pos
        word = p.name("(fetch attribute)")
        macro = _MACROS.get(word)
        if macro is not None:
            return macro
        p.pos = start
        items = [_fetch_att(p)]
    out: list[FetchItem] = []
    for it in items:
        if it not in out:
            out.append(it)
    return tuple(out)


def parse_fetch(p: Parser, tag: str, uid: bool) -> Fetch:
    """fetch = "FETCH" SP sequence-set SP (macro / fetch-att / "(" ... ")") [fetch-modifiers]."""
    p.sp("after FETCH")
    seq = p.sequence_set()
    p.sp("after sequence set")
    items = fetch_items(p)
    changedsince: int | None = None
    vanished = False
    if p.try_sp():
        # RFC 4466 §2.4 fetch-modifiers; RFC 7162 §3.1.4 CHANGEDSINCE, §3.2.6 VANISHED
        p.open_paren("to start fetch modifiers")
        while True:
            mod = p.name("(fetch modifier)")
            if mod == "CHANGEDSINCE" and changedsince is None:
                p.sp("after CHANGEDSINCE")
                changedsince = p.number64("after CHANGEDSINCE")
            elif mod == "VANISHED" and not vanished:
                vanished = True
            else:
                p.error(f"Unknown or repeated FETCH modifier {mod!r}")
            if p.try_char(b")"):
                break
            p.sp("between fetch modifiers")
        if vanished and (not uid or changedsince is None):
            # RFC 7162 §3.2.6: VANISHED only with UID FETCH and CHANGEDSINCE
            p.error("VANISHED requires UID FETCH with CHANGEDSINCE")
    p.end()
    return Fetch(tag, seq, items, uid, changedsince, vanished)


_STORE_OPS = {
    "FLAGS": (StoreOperation.REPLACE, False),
    "FLAGS.SILENT": (StoreOperation.REPLACE, True),
    "+FLAGS": (StoreOperation.ADD, False),
    "+FLAGS.SILENT": (StoreOperation.ADD, True),
    "-FLAGS": (StoreOperation.REMOVE, False),
    "-FLAGS.SILENT": (StoreOperation.REMOVE, True),
}


def parse_store(p: Parser, tag: str, uid: bool) -> Store:
    """store = "STORE" SP sequence-set [store-modifiers] SP store-att-flags (RFC 9051, RFC 7162)."""
    p.sp("after STORE")
    seq = p.sequence_set()
    p.sp("after sequence set")
    unchangedsince: int | None = None
    if p.try_char(b"("):
        word = p.name("(STORE modifier)")
        if word != "UNCHANGEDSINCE":
            p.error(f"Unknown STORE modifier {word!r}")
        p.sp("after UNCHANGEDSINCE")
        unchangedsince = p.number64("after UNCHANGEDSINCE")
        p.close_paren("to end STORE modifiers")
        p.sp("after STORE modifiers")
    start = p.pos
    word = p.name("(STORE operation)")
    op = _STORE_OPS.get(word)
    if op is None:
        p.pos = start
        p.error(f"Invalid STORE operation {word!r} (expected [+-]FLAGS[.SILENT])")
    p.sp("after STORE operation")
    if p.at(b"("):
        flags = p.flag_list()
    else:
        # RFC 9051 §9 store-att-flags: flags may also be given without parentheses
        seen: list[str] = []
        while True:
            f = p.flag()
            if f not in seen:
                seen.append(f)
            if not p.try_sp():
                break
        flags = tuple(seen)
    p.end()
    return Store(tag, seq, op[0], flags, uid, op[1], unchangedsince)
