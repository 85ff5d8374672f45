"""Structured MIME fields: Content-Type, Content-Disposition, Content-Language, CTE.

Theory of operation
-------------------
A small hand-written scanner over the unfolded field value: RFC 2045 §5.1 tokens,
quoted-strings and comments, then ``;``-separated ``attribute=value`` parameters. It is
lenient in the ways real mail needs (unquoted values with spaces, junk after a quoted
string, missing values, stray semicolons) and never raises. RFC 2231 parameters (``name*``,
``name*0``, ``name*1*``) are merged and decoded to Unicode at the end.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import quote, unquote_to_bytes

from buzon.mime.charsets import decode_text

Params = tuple[tuple[str, str], ...]

# RFC 2045 §5.1 token: printable US-ASCII except SPACE and tspecials.
_TOKEN = re.compile(rb"[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+")
_LANGUAGE_TAG = re.compile(rb"[^\s,()]+")
_2231_NAME = re.compile(r"^(.*?)\*(?:(\d{1,3})(\*)?|)$")
_WSP = b" \t\r\n"
_MAX_PARAMS = 256
_MEMO_BYTES = 4096  # field values up to this size are remembered (see `parse_content_type`)


def _skip_cfws(s: bytes, i: int) -> int:
    """Skip whitespace and (nested) comments, RFC 5322 §3.2.2; unterminated is lenient."""
    n = len(s)
    while i < n:
        c = s[i]
        if c in _WSP:
            i += 1
        elif c == 0x28:  # "("
            depth = 0
            while i < n:
                c = s[i]
                if c == 0x5C:  # quoted-pair inside a comment
                    i += 2
                    continue
                if c == 0x28:
                    depth += 1
                elif c == 0x29:
                    depth -= 1
                    if depth == 0:
                        i += 1
                        break
                i += 1
        else:
            break
    return i


def _quoted(s: bytes, i: int) -> tuple[bytes, int]:
    """Read a quoted-string starting at ``s[i] == '"'``; returns (content, next index)."""
    out = bytearray()
    i += 1
    n = len(s)
    while i < n:
        c = s[i]
        if c == 0x5C and i + 1 < n:  # quoted-pair
            out.append(s[i + 1])
            i += 2
            continue
        if c == 0x22:
            return bytes(out), i + 1
        out.append(c)
        i += 1
    return bytes(out), n  # lenient: unterminated quoted-string runs to the end


def _token(s: bytes, i: int) -> tuple[bytes, int]:
    m = _TOKEN.match(s, i)
    if m is None:
        return b"", i
    return m.group(0), m.end()


def _raw_params(s: bytes, i: int) -> list[tuple[str, bytes]]:
    """Parse ``; a=b; c="d"`` from ``s[i:]`` into (lower-case name, raw value) pairs."""
    out: list[tuple[str, bytes]] = []
    n = len(s)
    while i < n and len(out) < _MAX_PARAMS:
        semi = s.find(b";", i)
        if semi < 0:
            break
        i = _skip_cfws(s, semi + 1)
        name, j = _token(s, i)
        j = _skip_cfws(s, j)
        if not name or j >= n or s[j] != 0x3D:  # "="
            i = j if j > semi else semi + 1
            continue
        j = _skip_cfws(s, j + 1)
        if j < n and s[j] == 0x22:
            value, j = _quoted(s, j)
        else:
            # Lenient: unquoted values may contain spaces and tspecials ("a b.pdf").
            stop = s.find(b";", j)
            stop = n if stop < 0 else stop
            value = s[j:stop].strip(_WSP)
            j = stop
        out.append((name.decode("ascii", "replace").lower(), value))
        i = j
    return out


def _decode_2231(raw: list[tuple[str, bytes]]) -> Params:
    """Merge RFC 2231 §3-§4 continuations and decode charset'lang'%XX values to Unicode.

    A plain ``name`` and an extended ``name*`` for the same name: the extended one wins.
    Sections are ordered by number; a missing section 0 or gaps are tolerated.
    """
    order: list[str] = []
    plain: dict[str, bytes] = {}
    sections: dict[str, dict[int, tuple[bool, bytes]]] = {}
    for name, value in raw:
        m = _2231_NAME.match(name)
        if m is None:
            if name not in plain and name not in sections:
                order.append(name)
            plain.setdefault(name, value)
            continue
        base = m.group(1)
        if m.group(2) is None:  # "name*": a single extended value
            number, extended = 0, True
        else:
            number, extended = int(m.group(2)), m.group(3) is not None
        if base not in plain and base not in sections:
            order.append(base)
        sections.setdefault(base, {}).setdefault(number, (extended, value))
    out: list[tuple[str, str]] = []
    for name in order:
        if name in sections:
            out.append((name, _join_sections(sections[name])))
        else:
            out.append((name, decode_text(plain[name], None)))
    return tuple(out)


def _join_sections(parts: dict[int, tuple[bool, bytes]]) -> str:
    charset: str | None = None
    chunks: list[bytes] = []
    for index, number in enumerate(sorted(parts)):
        extended, value = parts[number]
        if extended:
            if index == 0:
                pieces = value.split(b"'", 2)
                if len(pieces) == 3:
                    charset = pieces[0].decode("ascii", "replace") or None
                    value = pieces[2]
            chunks.append(unquote_to_bytes(value))
        else:
            chunks.append(value)
    return decode_text(b"".join(chunks), charset)


def parse_content_type(value: bytes | None, default: tuple[str, str]) -> tuple[str, str, Params]:
    """Content-Type (RFC 2045 §5.1) → (type, subtype, params), lower-case type names.

    RFC 2045 §5.2: absent means ``default`` (text/plain, or message/rfc822 in a digest);
    a syntactically invalid type/subtype is taken as text/plain. text/* gets
    charset=us-ascii when it has no charset parameter.

    A pure function of its arguments, so short values are remembered: a delivery parses
    the top-level Content-Type for the structure and again for the search fields, and
    part headers repeat from message to message.
    """
    if value is not None and len(value) <= _MEMO_BYTES and type(value) is bytes:
        return _content_type_memo(value, default)
    return _content_type(value, default)


def _content_type(value: bytes | None, default: tuple[str, str]) -> tuple[str, str, Params]:
    type_, subtype = default
    params: Params = ()
    if value is not None:
        i = _skip_cfws(value, 0)
        t, i = _token(value, i)
        i = _skip_cfws(value, i)
        st = b""
        if i < len(value) and value[i] == 0x2F:  # "/"
            st, i = _token(value, _skip_cfws(value, i + 1))
        if t and st:
            type_, subtype = t.decode("ascii").lower(), st.decode("ascii").lower()
        else:
            type_, subtype = "text", "plain"
        params = _decode_2231(_raw_params(value, i))
    if type_ == "text" and not any(k == "charset" for k, _ in params):
        params = (*params, ("charset", "us-ascii"))
    return type_, subtype, params


_content_type_memo = functools.lru_cache(maxsize=128)(_content_type)


def raw_boundary(value: bytes | None) -> bytes:
    """The multipart boundary exactly as the header has it (RFC 2046 §5.1.1), or b"".

    Taken from the raw parameter bytes, not the decoded text, so 8-bit boundaries match.
    """
    if value is None:
        return b""
    for name, raw in _raw_params(value, 0):
        if name == "boundary":
            return raw
    return b""


def parse_disposition(value: bytes | None) -> tuple[str, Params] | None:
    """Content-Disposition (RFC 2183 §2) → (lower-case type, params), None if absent.

    Remembered like `parse_content_type`.
    """
    if value is None:
        return None
    if len(value) <= _MEMO_BYTES and type(value) is bytes:
        return _disposition_memo(value)
    return _disposition(value)


def _disposition(value: bytes) -> tuple[str, Params] | None:
    i = _skip_cfws(value, 0)
    t, i = _token(value, i)
    if not t:
        return None
    return t.decode("ascii").lower(), _decode_2231(_raw_params(value, i))


_disposition_memo = functools.lru_cache(maxsize=128)(_disposition)


def parse_language(value: bytes | None) -> tuple[str, ...] | None:
    """Content-Language (RFC 3282 §2): comma-separated tags, comments dropped."""
    if value is None:
        return None
    tags: list[str] = []
    i, n = 0, len(value)
    while i < n:
        i = _skip_cfws(value, i)
        m = _LANGUAGE_TAG.match(value, i)
        if m is None:
            i += 1
            continue
        tags.append(m.group(0).decode("ascii", "replace"))
        i = m.end()
    return tuple(tags) or None


def parse_encoding(value: bytes | None) -> str:
    """Content-Transfer-Encoding (RFC 2045 §6.1), upper-case; default 7BIT."""
    if value is None:
        return "7BIT"
    token, _ = _token(value, _skip_cfws(value, 0))
    return token.decode("ascii").upper() if token else "7BIT"


def ascii_params(params: Params) -> Params:
    """Parameters fit for an IMAP4rev1 BODYSTRUCTURE (US-ASCII strings only).

    Values are stored decoded (Unicode); one that is not ASCII goes back on the wire in
    RFC 2231 §4 form, ``name*`` = ``utf-8''`` percent-encoded, which clients decode (this
    is also how Dovecot shows such parameters).
    """
    out: list[tuple[str, str]] = []
    for name, value in params:
        if value.isascii() and name.isascii():
            out.append((name, value))
        else:
            encoded = quote(value.encode("utf-8", "surrogatepass"), safe="")
            out.append((name.encode("ascii", "replace").decode() + "*", "utf-8''" + encoded))
    return tuple(out)
