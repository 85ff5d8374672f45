"""Address-list parsing (RFC 5322 §3.4, with §4.4 obsolete syntax) into IMAP addresses.

Theory of operation
-------------------
The unfolded field value is cut into tokens (atoms, quoted-strings, comments, domain
literals, specials), remembering whether white space preceded each token. A forgiving
recursive-descent pass then reads mailboxes and groups. Every value is raw bytes as the
header has it, minus RFC 5322 quoting (RFC 3501 §7.4.2: "after removing ...
quoting"); encoded words are left alone. Nothing here raises: junk is skipped.

Most address fields are a list of ``addr-spec`` or ``[phrase] <addr-spec>`` with nothing
unusual in them: `_parse_simple` reads those with one regular expression per address and
builds what the token reader would (a test holds the two equal); anything else goes to the
token reader. Results are remembered per value, since a delivery parses From, To and Cc
for the envelope and again for the search fields.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from buzon.mime.model import Address

MISSING_MAILBOX = b"MISSING_MAILBOX"
MISSING_DOMAIN = b"MISSING_DOMAIN"
GROUP_END = Address(None, None, None, None)
_MAX_ADDRESSES = 10000
_MEMO_BYTES = 4096  # field values up to this size are remembered (see `parse_addresses`)

_TOKEN_RE = re.compile(
    rb"(?P<ws>[ \t\r\n]+)"
    rb'|"(?P<quoted>(?:[^"\\]|\\.)*)"?'  # lenient: may be unterminated
    rb"|(?P<literal>\[(?:[^\]\\]|\\.)*\]?)"  # domain literal
    rb"|(?P<special>[<>@,;:.])"  # the specials that matter here
    rb'|(?P<atom>(?:[^ \t\r\n"()<>@,;:.\[\\]|\\.)+)'  # lenient: 8-bit, stray "]"
    rb"|(?P<comment>\()"  # comment start, read by hand (comments nest)
    rb"|(?P<other>.)",  # anything else (a lone backslash, ")"): taken as atom text
    re.S,
)
_QUOTED_PAIR = re.compile(rb"\\(.)", re.S)

# The common shapes, read by one regular expression per address (see `_parse_simple`):
# ``addr-spec`` or ``[phrase] <addr-spec>``, where the phrase is atoms separated by
# spaces or one quoted-string without quoted-pairs, and the addr-spec is two dot-atoms.
# No comments, no white space inside the addr-spec, no groups, no routes.
_ATEXT = rb"[!#-'*+\-/-9=?A-Z^-~\x80-\xff]"  # atom text: no specials, controls or space
_DOT_ATOM = _ATEXT + rb"+(?:\." + _ATEXT + rb"+)*"
_WORDS = _ATEXT + rb"+(?:[ \t]+" + _ATEXT + rb"+)*"  # group 1
_QUOTED_TEXT = rb'"([^"\\\r\n]*)"'  # group 2
_ADDR_SPEC = rb"(" + _DOT_ATOM + rb")@(" + _DOT_ATOM + rb")"  # groups 3-4 or 5-6
_SIMPLE = rb"(?:(?:(" + _WORDS + rb")|" + _QUOTED_TEXT + rb")?[ \t]*<" + _ADDR_SPEC
_SIMPLE += rb">|" + _ADDR_SPEC + rb")"
_SIMPLE_FIRST = re.compile(rb"[ \t]*" + _SIMPLE)
_SIMPLE_NEXT = re.compile(rb"[ \t]*,[ \t]*" + _SIMPLE)
_SPACE_TAB = b" \t"


@dataclass(slots=True)  # not frozen: never changed, and a frozen __init__ costs 3x
class _Tok:
    kind: str  # "atom", "quoted", "literal", "special", "comment"
    value: bytes  # unquoted content for quoted/comment
    space: bool  # white space (or a comment) before this token


def _read_comment(s: bytes, i: int) -> tuple[bytes, int]:
    """Read a (possibly nested) comment at ``s[i] == '('``; returns (content, next index)."""
    depth, start, n = 0, i + 1, len(s)
    while i < n:
        c = s[i]
        if c == 0x5C:
            i += 2
            continue
        if c == 0x28:
            depth += 1
        elif c == 0x29:
            depth -= 1
            if depth == 0:
                return _QUOTED_PAIR.sub(rb"\1", s[start:i]), i + 1
        i += 1
    return _QUOTED_PAIR.sub(rb"\1", s[start:n]), n  # lenient: unterminated comment


def tokenize(s: bytes) -> list[_Tok]:
    out: list[_Tok] = []
    append = out.append
    match = _TOKEN_RE.match
    i, n, space = 0, len(s), False
    while i < n:
        m = match(s, i)
        if m is None:  # pragma: no cover - group 7 matches any byte
            break
        kind = m.lastgroup
        if kind == "ws":
            space, i = True, m.end()
            continue
        if kind in ("atom", "other"):
            append(_Tok("atom", m.group(), space))
        elif kind in ("special", "literal"):
            append(_Tok(kind, m.group(), space))
        elif kind == "quoted":
            quoted = m.group("quoted")
            if b"\\" in quoted:
                quoted = _QUOTED_PAIR.sub(rb"\1", quoted)
            append(_Tok("quoted", quoted, space))
        else:  # "comment"
            content, i = _read_comment(s, i)
            append(_Tok("comment", content, space))
            space = True
            continue
        space = False
        i = m.end()
    return out


def _is(tok: _Tok, chars: bytes) -> bool:
    return tok.kind == "special" and tok.value in chars


def _phrase(toks: list[_Tok]) -> bytes | None:
    """Display name from phrase tokens: words joined by one space where the source had one."""
    words: list[bytes] = []
    for t in toks:
        if t.kind == "comment":
            continue
        if words and t.space:
            words.append(b" ")
        words.append(t.value)
    text = b"".join(words).strip()
    return text or None


def _joined(toks: list[_Tok]) -> bytes:
    """Local part or domain: words and dots with the (CFWS) white space removed."""
    return b"".join(t.value for t in toks if t.kind != "comment")


def _last_comment(toks: list[_Tok]) -> bytes | None:
    for t in reversed(toks):
        if t.kind == "comment" and t.value.strip():
            return t.value.strip()
    return None


def _domain_len(toks: list[_Tok], i: int, stops: bytes) -> int:
    """How many tokens from ``i`` make up a domain; it ends at ``stops`` or at junk
    separated by white space (``a@b junk``)."""
    j, n = i, len(toks)
    prev_dot = True
    while j < n and not _is(toks[j], stops):
        t = toks[j]
        if t.kind != "comment":
            dot = _is(t, b".")
            if t.space and not prev_dot and not dot:
                break
            if t.kind == "special" and not dot:
                break
            prev_dot = dot
        j += 1
    return j - i


def _make(name: bytes | None, adl: bytes | None, local: bytes, domain: bytes) -> Address:
    return Address(name, adl, local or MISSING_MAILBOX, domain or MISSING_DOMAIN)


def parse_addresses(value: bytes | None) -> tuple[Address, ...]:
    """Parse an address-list field value (already unfolded).

    A pure function of the bytes, so short values are remembered: a delivery parses the
    same From, To and Cc for the envelope and again for the search fields.
    """
    if not value:
        return ()
    if len(value) <= _MEMO_BYTES and type(value) is bytes:
        return _parse_memo(value)
    return _parse(value)


def _parse_simple(value: bytes) -> tuple[Address, ...] | None:
    """`_parse` for a list of the common shapes only (else None): what the general reader
    makes of them, without its token list (most of the cost of parsing an envelope)."""
    out: list[Address] = []
    end = 0
    m = _SIMPLE_FIRST.match(value)
    while m is not None:
        end = m.end()
        atoms, quoted, local, domain, bare_local, bare_domain = m.groups()
        if local is None:
            out.append(Address(None, None, bare_local, bare_domain))
        else:
            # As `_phrase`: words joined by one space; a quoted-string's text stripped.
            name: bytes | None = None
            if atoms is not None:
                name = b" ".join(atoms.split())
            elif quoted is not None:
                name = quoted.strip() or None
            out.append(Address(name, None, local, domain))
        m = _SIMPLE_NEXT.match(value, end)
    if not out or len(out) > _MAX_ADDRESSES or value[end:].strip(_SPACE_TAB):
        return None
    return tuple(out)


def _parse(value: bytes) -> tuple[Address, ...]:
    simple = _parse_simple(value)
    return simple if simple is not None else _parse_tokens(value)


def _parse_tokens(value: bytes) -> tuple[Address, ...]:
    """The general reader: every shape, junk included."""
    toks = tokenize(value)
    out: list[Address] = []
    i, n, in_group = 0, len(toks), False
    while i < n and len(out) < _MAX_ADDRESSES:
        t = toks[i]
        if _is(t, b","):
            i += 1
            continue
        if _is(t, b";"):
            if in_group:
                out.append(GROUP_END)
                in_group = False
            i += 1
            continue
        start = i
        while i < n and not _is(toks[i], b"<:@,;>"):
            i += 1
        phrase = toks[start:i]
        nxt = toks[i].value if i < n else b""
        if nxt == b":":
            i += 1
            if not in_group:  # RFC 5322 §3.4 group; lenient: nested ":" is ignored
                out.append(Address(None, None, _phrase(phrase) or b"", None))
                in_group = True
            continue
        if nxt == b">":  # stray ">": skip it, keep what came before as junk
            i += 1
            continue
        if nxt == b"<":
            address, i = _angle(toks, i + 1, phrase)
            if address is not None:
                out.append(address)
            continue
        if nxt == b"@":
            dlen = _domain_len(toks, i + 1, b",;<>")
            domain_toks = toks[i + 1 : i + 1 + dlen]
            i += 1 + dlen
            # Junk after the domain (up to the next separator) may hold the comment name.
            junk_start = i
            while i < n and not _is(toks[i], b",;"):
                i += 1
            name = _last_comment(phrase + domain_toks + toks[junk_start:i])
            out.append(_make(name, None, _joined(phrase), _joined(domain_toks)))
            continue
        # "," ";" or end after a bare word: an address without a domain.
        local = _joined([t for t in phrase if t.kind != "comment"])
        if local:
            out.append(_make(_last_comment(phrase), None, local, b""))
    if in_group and len(out) < _MAX_ADDRESSES:
        out.append(GROUP_END)  # lenient: group without its closing ";"
    return tuple(out)


_parse_memo = functools.lru_cache(maxsize=64)(_parse)  # one delivery needs a few at most


def _angle(toks: list[_Tok], i: int, phrase: list[_Tok]) -> tuple[Address | None, int]:
    """Read ``[route:] local@domain >`` after "<"; lenient about a missing ">"."""
    n = len(toks)
    adl: bytes | None = None
    # RFC 5322 §4.4 obs-route: "@a,@b:" before the addr-spec.
    if i < n and _is(toks[i], b"@"):
        j = i
        while j < n and not _is(toks[j], b":>;"):
            j += 1
        if j < n and _is(toks[j], b":"):
            adl = _joined(toks[i:j]) or None
            i = j + 1
    start = i
    while i < n and not _is(toks[i], b"@>,;"):
        i += 1
    local = _joined(toks[start:i])
    domain = b""
    if i < n and _is(toks[i], b"@"):
        dlen = _domain_len(toks, i + 1, b">,;")
        domain = _joined(toks[i + 1 : i + 1 + dlen])
        i += 1 + dlen
    while i < n and not _is(toks[i], b">,;"):
        i += 1  # junk inside the angle brackets
    trailing_start = i + 1 if i < n and _is(toks[i], b">") else i
    i = trailing_start
    while i < n and not _is(toks[i], b",;"):
        i += 1  # comments or junk after ">"
    name = _phrase(phrase) or _last_comment(phrase + toks[trailing_start:i])
    if not local and not domain and name is None and adl is None:
        return None, i  # "<>" and nothing else: no address
    return _make(name, adl, local, domain), i
