"""Address-list parsing (RFC 5322 §3.4, with §4.4 obsolete syntax) into IMAP addresses.

Theory of operation
-------------------
The unfolded field value is cut into tokens (atoms, quoted-strings, comments, domain
literals, specials), remembering whether white space preceded each token. A forgiving
recursive-descent pass then reads mailboxes and groups. Every value is raw bytes as the
header has it, minus RFC 5322 quoting (RFC 3501 §7.4.2: "after removing ...
quoting"); encoded words are left alone. Nothing here raises: junk is skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from buzon.mime.model import Address

MISSING_MAILBOX = b"MISSING_MAILBOX"
MISSING_DOMAIN = b"MISSING_DOMAIN"
GROUP_END = Address(None, None, None, None)
_MAX_ADDRESSES = 10000

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


@dataclass(frozen=True, slots=True)
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
    i, n, space = 0, len(s), False
    while i < n:
        m = _TOKEN_RE.match(s, i)
        if m is None:  # pragma: no cover - group 7 matches any byte
            break
        kind = m.lastgroup
        if kind == "ws":
            space, i = True, m.end()
            continue
        if kind == "comment":
            content, i = _read_comment(s, i)
            out.append(_Tok("comment", content, space))
            space = True
            continue
        if kind == "quoted":
            out.append(_Tok("quoted", _QUOTED_PAIR.sub(rb"\1", m.group("quoted")), space))
        elif kind in ("literal", "special"):
            out.append(_Tok(kind, m.group(0), space))
        else:
            out.append(_Tok("atom", m.group(0), space))
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
    """Parse an address-list field value (already unfolded)."""
    if not value:
        return ()
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
