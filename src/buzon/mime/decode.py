"""Decoding: transfer encodings (RFC 2045 §6, for BINARY), encoded words (RFC 2047), CRLF.

All functions are lenient and never raise; large inputs are handled with bytes methods and
`binascii`, never with a Python loop per byte.
"""

from __future__ import annotations

import binascii
import functools
import re

from buzon.mime.charsets import decode_text, guess_decode

_B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_NOT_B64 = bytes(c for c in range(256) if c not in _B64_ALPHABET and c != ord("="))
_QP_TRAILING_WSP = re.compile(rb"[ \t]+(?=\r?\n|\Z)")
_IDENTITY = frozenset({"7BIT", "8BIT", "BINARY"})
_ENCODED_WORD = re.compile(rb"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
_WSP = b" \t\r\n"
# Header values up to this many bytes are remembered (see `decode_header`).
_MEMO_BYTES = 1024


def decode_base64(data: bytes) -> bytes:
    """Base64 (RFC 2045 §6.8), lenient: ignores characters outside the alphabet (line
    breaks, spaces, junk), tolerates missing padding, a truncated last quantum and
    concatenated padded blocks."""
    cleaned = data.translate(None, _NOT_B64)
    chunks = cleaned.split(b"=") if b"=" in cleaned else [cleaned]
    out = []
    for chunk in chunks:
        rest = len(chunk) % 4
        # A lone trailing character carries no whole byte: drop it; otherwise pad.
        quantum = chunk[:-1] if rest == 1 else chunk + b"=" * ((4 - rest) % 4)
        if quantum:
            out.append(binascii.a2b_base64(quantum))
    return b"".join(out)


def decode_quoted_printable(data: bytes) -> bytes:
    """Quoted-printable (RFC 2045 §6.7), lenient.

    Trailing white space on a line is dropped first (rule 3: it may be transport padding,
    which also makes "=  CRLF" a soft line break). Soft breaks "=CRLF" and "=LF" are
    removed. A "=" not followed by two hex digits is kept literally, lower-case hex is
    accepted (RFC 2045 §6.7 suggests exactly this robustness).
    """
    if b" " in data or b"\t" in data:
        data = _QP_TRAILING_WSP.sub(b"", data)
    return binascii.a2b_qp(data)


def decode_transfer(body: bytes, encoding: str) -> bytes | None:
    """Undo a Content-Transfer-Encoding for FETCH BINARY (RFC 3516 §4.2).

    7bit/8bit/binary are identity; None means an unknown encoding ([UNKNOWN-CTE]).
    """
    enc = encoding.strip().upper()
    if enc in _IDENTITY or not enc:
        return body
    if enc == "BASE64":
        return decode_base64(body)
    if enc == "QUOTED-PRINTABLE":
        return decode_quoted_printable(body)
    return None


def _decode_word(kind: bytes, text: bytes) -> bytes:
    if kind in b"bB":
        return decode_base64(text)
    # RFC 2047 §4.2: "_" is a space; binascii's header mode does exactly that.
    return binascii.a2b_qp(text, header=True)


def decode_header(raw: bytes) -> str:
    """A header value as Unicode: unfolded, RFC 2047 words decoded, surrounding WSP stripped.

    Lenient, as mail readers are: encoded words are recognised even when not separated
    from adjacent text, Q text may contain spaces, adjacent words in one charset are
    joined before decoding (a multi-byte character split across words survives), and the
    white space between adjacent encoded words is dropped (RFC 2047 §6.2). Unknown
    charsets and raw 8-bit text are taken as UTF-8, else cp1252/latin-1.

    A pure function of the bytes, so short values are remembered: one delivery decodes
    the same value several times (the Subject for the envelope and for the search
    fields, each display name for the header line and for the sort keys).
    """
    if len(raw) <= _MEMO_BYTES and type(raw) is bytes:
        return _decode_header_memo(raw)
    return _decode_header(raw)


def _decode_header(raw: bytes) -> str:
    # Unfolding removes the CR LF before WSP (RFC 5322 §2.2.3); every other CR or LF goes
    # too, so all of them are simply removed.
    value = raw.replace(b"\r", b"").replace(b"\n", b"").strip(_WSP)
    if b"=?" not in value:
        return guess_decode(value)
    out: list[str] = []
    pending = bytearray()
    pending_charset: str | None = None
    pos = 0
    after_word = False

    def flush() -> None:
        nonlocal pending_charset
        if pending:
            out.append(decode_text(bytes(pending), pending_charset))
            pending.clear()
        pending_charset = None

    for m in _ENCODED_WORD.finditer(value):
        gap = value[pos : m.start()]
        if gap and not (after_word and not gap.strip(_WSP)):
            flush()
            out.append(guess_decode(gap))
        charset = m.group(1).decode("ascii", "replace")
        if pending_charset is not None and charset.lower() != pending_charset.lower():
            flush()
        pending.extend(_decode_word(m.group(2), m.group(3)))
        pending_charset = charset
        pos, after_word = m.end(), True
    flush()
    if pos < len(value):
        out.append(guess_decode(value[pos:]))
    return "".join(out)


_decode_header_memo = functools.lru_cache(maxsize=512)(_decode_header)


def normalize_crlf(raw: bytes) -> bytes:
    """Make every line end CRLF: bare LF and lone CR become CRLF (RFC 5322 §2.1).

    Returns ``raw`` itself (no copy) when it is already canonical.
    """
    if b"\r" not in raw:  # the common case (mbox, Maildir): one pass that copies
        return raw.replace(b"\n", b"\r\n") if b"\n" in raw else raw
    if raw.count(b"\r\n") == raw.count(b"\n") == raw.count(b"\r"):
        return raw
    return raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")
