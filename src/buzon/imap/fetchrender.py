"""ENVELOPE, BODY and BODYSTRUCTURE data of a FETCH response (RFC 3501 §7.4.2, RFC 9051 §7.5.2).

Theory of operation
-------------------
The MIME model (`buzon.mime`) is computed once at delivery; these functions only turn it
into the parenthesized lists of the FETCH response. They return the encoded value, ready for
``FetchRaw("ENVELOPE", data)`` / ``FetchRaw("BODYSTRUCTURE", data)``. Every string goes
through the encoder's ``encode_string`` / ``encode_nstring``, which picks a quoted string or
a literal; nothing here quotes by hand.

Case. RFC 3501 §7.4.2 (and RFC 9051 §7.5.2) show ``("TEXT" "PLAIN" ("CHARSET" "US-ASCII")
NIL NIL "7BIT" 2279 48)``: media type, subtype, parameter names, the encoding and the
multipart subtype in upper case, parameter values as the message gives them. We follow
the RFC examples (so do UW-IMAP, Cyrus and Gmail; Dovecot echoes the message's own case).
These names are case-insensitive tokens (RFC 2045 §5.1), so no information is lost.
Disposition types and their parameter names are upper-cased the same way; language tags
and every value are shown as given.

Non-ASCII parameter values. The model stores RFC 2231 values decoded (Unicode). A client
that has not enabled UTF-8 (RFC 6855 / IMAP4rev2) cannot receive them in a quoted string,
so they go back in RFC 2231 §4 form, ``"FILENAME*" "utf-8''%E2%82%AC.pdf"``, which is also
what Dovecot shows. With UTF-8 enabled the plain name and the UTF-8 value are sent as a
quoted string (RFC 9051 §4.3 allows UTF-8 there). RFC 9051 §7.5.2 suggests returning the
UTF-8 value under the name ``foo*``; clients read ``foo*`` values as RFC 2231
``charset'lang'value`` text, so that would break them, and we do not do it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from buzon.imap.encoder import QUOTED_MAX, encode_nstring, encode_string
from buzon.mime import Address, BodyPart, Envelope, ascii_params

__all__ = ["render_body", "render_envelope"]

Params = tuple[tuple[str, str], ...]

_NIL = b"NIL"
_MESSAGE_SUBTYPES = frozenset({"rfc822", "global"})  # RFC 9051 §7.5.2, RFC 6532 §3.7
# RFC 3501 §7.4.2 needs at least one body in a multipart; the parser guarantees one, but a
# model built by hand may not have it. Shown like the parser's synthesized empty part.
_EMPTY_PART = BodyPart(0, 0, 0, lines=0)


# Printable ASCII without '"' and '\\': such a value is its own quoted string.
_PLAIN = re.compile(rb"[\x20\x21\x23-\x5b\x5d-\x7e]*\Z")


def _nstring(value: bytes | None, utf8: bool) -> bytes:
    """`encode_nstring` with a shortcut for the plain values that most headers are."""
    if value is None:
        return _NIL
    if len(value) <= QUOTED_MAX and _PLAIN.match(value):
        return b'"' + value + b'"'
    return encode_nstring(value, utf8=utf8)


def render_envelope(env: Envelope, *, utf8: bool = False) -> bytes:
    """The ENVELOPE structure (RFC 3501 §7.4.2).

    ``(date subject from sender reply-to to cc bcc in-reply-to message-id)``. Absent
    Date/Subject/In-Reply-To/Message-ID are NIL, present-but-empty ones the empty string;
    empty address lists are NIL; Sender and Reply-To default to From.
    """
    # RFC 3501 §7.4.2: "If the Sender or Reply-To lines are absent ... or are present but
    # empty, the server sets the corresponding member ... to be the same value as the from".
    sender = env.sender or env.from_
    reply_to = env.reply_to or env.from_
    items = [
        _nstring(env.date, utf8),
        _nstring(env.subject, utf8),
        _addresses(env.from_, utf8),
        _addresses(sender, utf8),
        _addresses(reply_to, utf8),
        _addresses(env.to, utf8),
        _addresses(env.cc, utf8),
        _addresses(env.bcc, utf8),
        _nstring(env.in_reply_to, utf8),
        _nstring(env.message_id, utf8),
    ]
    return b"(" + b" ".join(items) + b")"


def _addresses(addrs: Sequence[Address], utf8: bool) -> bytes:
    """``((name adl mailbox host)...)`` or NIL (RFC 3501 §7.4.2: absent or empty is NIL).

    Group markers are in the model already: ``(NIL NIL "group" NIL)`` starts a group and
    ``(NIL NIL NIL NIL)`` ends it.
    """
    if not addrs:
        return _NIL
    out = [b"("]
    for a in addrs:
        fields = (a.name, a.adl, a.mailbox, a.host)
        out.append(b"(" + b" ".join(_nstring(f, utf8) for f in fields) + b")")
    out.append(b")")
    return b"".join(out)


def render_body(part: BodyPart, *, extended: bool, utf8: bool = False) -> bytes:
    """BODY (``extended=False``) or BODYSTRUCTURE (``extended=True``) of ``part``.

    RFC 3501 §7.4.2 / RFC 9051 §7.5.2. Extension data is never part of BODY; with
    BODYSTRUCTURE all four defined extension fields are always sent, NIL when absent.
    """
    out: list[bytes] = []
    _body(out, part, extended, utf8)
    return b"".join(out)


def _body(out: list[bytes], part: BodyPart, extended: bool, utf8: bool) -> None:
    if part.is_multipart:
        # body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart] (no SP between bodies)
        out.append(b"(")
        for child in part.parts or (_EMPTY_PART,):
            _body(out, child, extended, utf8)
        out.append(b" " + encode_string(part.subtype.upper()))
        if extended:
            # RFC 3501 §7.4.2: "body parameter parenthesized list", "body disposition",
            # "body language", "body location", in this order.
            out.append(b" " + _params(part.params, utf8))
            out.append(b" " + _extension_tail(part, utf8))
        out.append(b")")
        return
    fields = [
        encode_string(part.type.upper()),
        encode_string(part.subtype.upper()),
        _params(part.params, utf8),
        encode_nstring(part.id, utf8=utf8),
        encode_nstring(part.description, utf8=utf8),
        encode_string(part.encoding.upper()),
        str(max(part.size, 0)).encode("ascii"),
    ]
    if part.type == "message" and part.subtype in _MESSAGE_SUBTYPES and part.message is not None:
        # RFC 3501 §7.4.2: MESSAGE/RFC822 adds "the envelope structure, body structure, and
        # size in text lines of the encapsulated message". Without an embedded message in
        # the model it is shown as a basic part, as Dovecot does.
        out.append(b"(" + b" ".join(fields) + b" ")
        out.append(render_envelope(part.message.envelope, utf8=utf8))
        out.append(b" ")
        _body(out, part.message.root, extended, utf8)
        out.append(b" " + _lines(part))
    elif part.type == "text":
        # RFC 3501 §7.4.2: TEXT adds "the size of the body in text lines".
        out.append(b"(" + b" ".join(fields) + b" " + _lines(part))
    else:
        out.append(b"(" + b" ".join(fields))
    if extended:
        # Single-part extension data: md5 disposition language location (RFC 3501 §7.4.2).
        out.append(b" " + encode_nstring(part.md5, utf8=utf8))
        out.append(b" " + _extension_tail(part, utf8))
    out.append(b")")


def _lines(part: BodyPart) -> bytes:
    return str(max(part.lines or 0, 0)).encode("ascii")


def _extension_tail(part: BodyPart, utf8: bool) -> bytes:
    """``disposition language location``, shared by single parts and multiparts."""
    return b" ".join(
        (
            _disposition(part.disposition, utf8),
            _language(part.language, utf8),
            encode_nstring(part.location, utf8=utf8),
        )
    )


def _params(params: Params, utf8: bool) -> bytes:
    """body-fld-param: ``("NAME" "value" ...)`` or NIL when there are none."""
    if not params:
        return _NIL
    if not utf8:
        # RFC 2231 §4 form for non-ASCII values (see the module docstring).
        params = ascii_params(params)
    items: list[bytes] = []
    for name, value in params:
        items.append(encode_string(name.upper(), utf8=utf8))
        items.append(encode_string(value, utf8=utf8))
    return b"(" + b" ".join(items) + b")"


def _disposition(disposition: tuple[str, Params] | None, utf8: bool) -> bytes:
    """body-fld-dsp: ``("ATTACHMENT" ("FILENAME" "x.pdf"))`` or NIL (RFC 3501 §7.4.2)."""
    if disposition is None:
        return _NIL
    kind, params = disposition
    return b"(" + encode_string(kind.upper(), utf8=utf8) + b" " + _params(params, utf8) + b")"


def _language(language: tuple[str, ...] | None, utf8: bool) -> bytes:
    """body-fld-lang: NIL, one string, or a list of strings (RFC 3501 §9)."""
    if not language:
        return _NIL
    if len(language) == 1:
        return encode_string(language[0], utf8=utf8)
    return b"(" + b" ".join(encode_string(tag, utf8=utf8) for tag in language) + b")"
