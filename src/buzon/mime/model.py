"""The message model: frozen values describing a parsed message, and their serialization.

Theory of operation
-------------------
`parse` (in `parser.py`) runs once at delivery and produces a `ParsedMessage`: a tree of
`BodyPart`s whose offsets point into the raw message bytes, plus the ENVELOPE data of the
top-level message. Storage keeps `ParsedMessage.dumps()` next to the message and later
answers FETCH ENVELOPE / BODYSTRUCTURE / BODY[section] from `ParsedMessage.loads()` without
re-reading the message.

The serialization is a compact JSON array, versioned by its first element. Byte strings
are stored as Latin-1 text (one code point per byte), so every value round-trips exactly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

FORMAT_VERSION = 1

Params = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Address:
    """IMAP's address structure (RFC 3501 §7.4.2): raw, not RFC 2047-decoded.

    Group syntax: start of group is ``(None, None, group-name, None)``, end of group is
    ``(None, None, None, None)``. An address without a domain gets the host
    ``MISSING_DOMAIN`` (and one without a local part the mailbox ``MISSING_MAILBOX``), as
    Dovecot does, so that a NIL host always means group syntax.
    """

    name: bytes | None
    adl: bytes | None
    mailbox: bytes | None
    host: bytes | None


@dataclass(frozen=True, slots=True)
class Envelope:
    """ENVELOPE data (RFC 3501 §7.4.2): raw header values, unfolded, not 2047-decoded.

    Address fields are as found in the header (empty when absent); the rule that sender
    and reply-to default to from is applied by the IMAP layer.
    """

    date: bytes | None = None
    subject: bytes | None = None
    from_: tuple[Address, ...] = ()
    sender: tuple[Address, ...] = ()
    reply_to: tuple[Address, ...] = ()
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    bcc: tuple[Address, ...] = ()
    in_reply_to: bytes | None = None
    message_id: bytes | None = None


@dataclass(frozen=True, slots=True)
class BodyPart:
    """One MIME entity; offsets are absolute positions in the raw (outermost) message.

    The header is ``raw[header_start:body_start]`` including the blank line that ends it
    (if there is one); the body is ``raw[body_start:body_end]``. For a multipart the body
    includes preamble, delimiters and epilogue; ``parts`` are its children. A multipart
    with no recognisable body part gets one synthesized empty text/plain part (zero-length
    header and body at its ``body_start``), so that BODYSTRUCTURE is always well formed.

    ``message`` is the embedded message of a message/rfc822 or message/global part, and
    None for every other type. As in Dovecot, the body is parsed as a message even when it
    is transfer-encoded (a base64 one then has an empty header and the base64 text as its
    body), and past the nesting/part limits it is an empty message at ``body_start``: a
    message/rfc822 part can always be shown as IMAP's body-type-msg.

    ``lines`` (text/*, message/rfc822|global; None otherwise) is the number of LF bytes
    in the body, Dovecot's convention: a last line without a line end is not counted.
    """

    header_start: int
    body_start: int
    body_end: int
    type: str = "text"
    subtype: str = "plain"
    params: Params = (("charset", "us-ascii"),)
    id: bytes | None = None
    description: bytes | None = None
    encoding: str = "7BIT"
    size: int = 0
    lines: int | None = None
    md5: bytes | None = None
    disposition: tuple[str, Params] | None = None
    language: tuple[str, ...] | None = None
    location: bytes | None = None
    parts: tuple[BodyPart, ...] = ()
    message: ParsedMessage | None = None

    @property
    def is_multipart(self) -> bool:
        return self.type == "multipart"

    def param(self, name: str) -> str | None:
        """The value of the Content-Type parameter ``name`` (lower-case), or None."""
        for key, value in self.params:
            if key == name:
                return value
        return None


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    """A parsed message: its top-level entity and its envelope."""

    root: BodyPart
    envelope: Envelope

    def dumps(self) -> bytes:
        """Serialize compactly (versioned JSON) for the database."""
        doc = [FORMAT_VERSION, _dump_part(self.root), _dump_envelope(self.envelope)]
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    @classmethod
    def loads(cls, data: bytes) -> ParsedMessage:
        """Inverse of `dumps`; raises ValueError on data it cannot read."""
        try:
            doc = json.loads(data.decode("utf-8"))
            if not isinstance(doc, list) or len(doc) != 3 or doc[0] != FORMAT_VERSION:
                raise ValueError("unknown ParsedMessage serialization")
            return _load_message(doc)
        except (ValueError, TypeError, IndexError, KeyError, AttributeError) as exc:
            raise ValueError(f"corrupt ParsedMessage serialization: {exc}") from exc


def load_envelope(data: bytes) -> Envelope:
    """Only the envelope of a `ParsedMessage.dumps()` document: FETCH ENVELOPE needs no
    body structure, and building the part tree is most of the cost of `loads`."""
    try:
        doc = json.loads(data.decode("utf-8"))
        if not isinstance(doc, list) or len(doc) != 3 or doc[0] != FORMAT_VERSION:
            raise ValueError("unknown ParsedMessage serialization")
        return _load_envelope(doc[2])
    except (TypeError, IndexError, KeyError, AttributeError, UnicodeError) as exc:
        raise ValueError(f"corrupt ParsedMessage serialization: {exc}") from exc


# --- serialization -----------------------------------------------------------------------
# JSON values are typed loosely (`object`) and checked by construction: a corrupt document
# raises TypeError/ValueError, which `loads` reports as ValueError.

_Json = object


def _b(value: bytes | None) -> str | None:
    return None if value is None else value.decode("latin-1")


def _unb(value: _Json) -> bytes | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value.encode("latin-1")


def _str(value: _Json) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def _int(value: _Json) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("expected an integer")
    return value


def _list(value: _Json) -> list[_Json]:
    if not isinstance(value, list):
        raise TypeError("expected a list")
    return value


def _dump_params(params: Params) -> list[list[str]]:
    return [[k, v] for k, v in params]


def _load_params(value: _Json) -> Params:
    out = []
    for item in _list(value):
        pair = _list(item)
        if len(pair) != 2:
            raise TypeError("expected a pair")
        out.append((_str(pair[0]), _str(pair[1])))
    return tuple(out)


def _dump_address(a: Address) -> list[str | None]:
    return [_b(a.name), _b(a.adl), _b(a.mailbox), _b(a.host)]


def _load_addresses(value: _Json) -> tuple[Address, ...]:
    out = []
    for item in _list(value):
        f = _list(item)
        if len(f) != 4:
            raise TypeError("expected an address")
        out.append(Address(_unb(f[0]), _unb(f[1]), _unb(f[2]), _unb(f[3])))
    return tuple(out)


def _dump_envelope(e: Envelope) -> list[_Json]:
    addrs = (e.from_, e.sender, e.reply_to, e.to, e.cc, e.bcc)
    return [
        _b(e.date),
        _b(e.subject),
        *[[_dump_address(a) for a in group] for group in addrs],
        _b(e.in_reply_to),
        _b(e.message_id),
    ]


def _load_envelope(value: _Json) -> Envelope:
    f = _list(value)
    if len(f) != 10:
        raise TypeError("expected an envelope")
    return Envelope(
        date=_unb(f[0]),
        subject=_unb(f[1]),
        from_=_load_addresses(f[2]),
        sender=_load_addresses(f[3]),
        reply_to=_load_addresses(f[4]),
        to=_load_addresses(f[5]),
        cc=_load_addresses(f[6]),
        bcc=_load_addresses(f[7]),
        in_reply_to=_unb(f[8]),
        message_id=_unb(f[9]),
    )


def _dump_part(p: BodyPart) -> list[_Json]:
    disposition: _Json = None
    if p.disposition is not None:
        disposition = [p.disposition[0], _dump_params(p.disposition[1])]
    message: _Json = None
    if p.message is not None:
        message = [_dump_part(p.message.root), _dump_envelope(p.message.envelope)]
    return [
        p.header_start,
        p.body_start,
        p.body_end,
        p.type,
        p.subtype,
        _dump_params(p.params),
        _b(p.id),
        _b(p.description),
        p.encoding,
        p.size,
        p.lines,
        _b(p.md5),
        disposition,
        None if p.language is None else list(p.language),
        _b(p.location),
        [_dump_part(c) for c in p.parts],
        message,
    ]


def _load_part(value: _Json) -> BodyPart:
    f = _list(value)
    if len(f) != 17:
        raise TypeError("expected a body part")
    disposition = None
    if f[12] is not None:
        d = _list(f[12])
        if len(d) != 2:
            raise TypeError("expected a disposition")
        disposition = (_str(d[0]), _load_params(d[1]))
    message = None
    if f[16] is not None:
        m = _list(f[16])
        message = _load_message([FORMAT_VERSION, *m])
    return BodyPart(
        header_start=_int(f[0]),
        body_start=_int(f[1]),
        body_end=_int(f[2]),
        type=_str(f[3]),
        subtype=_str(f[4]),
        params=_load_params(f[5]),
        id=_unb(f[6]),
        description=_unb(f[7]),
        encoding=_str(f[8]),
        size=_int(f[9]),
        lines=None if f[10] is None else _int(f[10]),
        md5=_unb(f[11]),
        disposition=disposition,
        language=None if f[13] is None else tuple(_str(x) for x in _list(f[13])),
        location=_unb(f[14]),
        parts=tuple(_load_part(c) for c in _list(f[15])),
        message=message,
    )


def _load_message(doc: list[_Json]) -> ParsedMessage:
    if len(doc) != 3:
        raise TypeError("expected a message")
    return ParsedMessage(root=_load_part(doc[1]), envelope=_load_envelope(doc[2]))
