"""Charset names to Python codecs, and forgiving decoding of bytes to text."""

from __future__ import annotations

import codecs
import functools

# Names seen in mail that Python does not know, or knows as a narrower set than senders
# actually use (decoding with the superset is always at least as good).
_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "euc-cn": "gb18030",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "euc-kr": "cp949",
    "iso-8859-8-i": "iso-8859-8",
    "iso-8859-6-i": "iso-8859-6",
    "x-mac-roman": "mac-roman",
    "macintosh": "mac-roman",
    "shift-jis": "cp932",
    "shift_jis": "cp932",
    "x-sjis": "cp932",
    "windows-31j": "cp932",
    "iso-8859-1": "cp1252",  # RFC-lying senders use 0x80-0x9f as cp1252; harmless otherwise
    "us-ascii": "",  # 8-bit bytes under a us-ascii label: usually UTF-8, so guess
    "ascii": "",
    "utf8": "utf-8",
    "x-unknown": "",
    "unknown-8bit": "",
    "unknown": "",
    "default": "",
}
# Python "text encodings" that are not charsets: never apply them to message data.
_REFUSED = {"unicode_escape", "raw_unicode_escape", "punycode", "idna", "undefined"}


def codec_for(charset: str | None) -> str | None:
    """The Python codec name for a MIME charset label, or None when unknown/unusable."""
    if not charset:
        return None
    if len(charset) <= 64:  # labels repeat from message to message: remember them
        return _codec_memo(charset)
    return _codec(charset)


def _codec(charset: str) -> str | None:
    name = charset.strip().strip('"').lower()
    name = name.split("*", 1)[0]  # RFC 2231 §5: charset*language
    name = _ALIASES.get(name, name)
    if not name:
        return None
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError, TypeError):
        return None
    if info.name in _REFUSED or not getattr(info, "_is_text_encoding", True):
        return None
    return info.name


_codec_memo = functools.lru_cache(maxsize=256)(_codec)


def decode_text(data: bytes, charset: str | None) -> str:
    """Decode with the named charset; unknown charset or none: UTF-8, else cp1252/latin-1.

    Never raises: undecodable bytes become U+FFFD under a known charset.
    """
    codec = codec_for(charset)
    if codec is not None:
        try:
            return data.decode(codec, "replace")
        except Exception:  # some codecs raise odd errors on odd input
            pass
    return guess_decode(data)


def guess_decode(data: bytes) -> str:
    """Bytes of unknown charset: ASCII/UTF-8 if valid, otherwise cp1252 (then latin-1)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")
