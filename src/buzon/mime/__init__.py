"""The message model: a tolerant RFC 5322/2045 parser with byte offsets.

`parse` runs once at delivery; everything FETCH, SEARCH and SORT need is then read from the
stored `ParsedMessage` (see `model.py`) and byte ranges of the raw message (`sections.py`).
This package imports nothing else of Buzón.
"""

from __future__ import annotations

from buzon.mime.decode import decode_header, decode_transfer, normalize_crlf
from buzon.mime.headers import select_header_fields
from buzon.mime.model import Address, BodyPart, Envelope, ParsedMessage, load_envelope
from buzon.mime.params import ascii_params
from buzon.mime.parser import count_lines, parse
from buzon.mime.sections import body_range, header_range, mime_header_range, part_at, text_range
from buzon.mime.text import addresses_text, body_text

__all__ = [
    "Address",
    "BodyPart",
    "Envelope",
    "ParsedMessage",
    "addresses_text",
    "ascii_params",
    "body_range",
    "body_text",
    "count_lines",
    "decode_header",
    "decode_transfer",
    "header_range",
    "load_envelope",
    "mime_header_range",
    "normalize_crlf",
    "parse",
    "part_at",
    "select_header_fields",
    "text_range",
]
