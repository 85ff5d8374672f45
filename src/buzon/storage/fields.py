"""What SEARCH, SORT and THREAD need of a message, computed once at delivery.

Theory of operation
-------------------
`compute(raw, parsed)` runs when a message's content is first stored (and again only when
an operator rebuilds the index). It produces `MessageFields`: the folded text that
substring searches test (`query.fold`: case-folded, white space collapsed) and the sort and
threading keys. Nothing here is re-derived at search time.

- `headers`: one line per top-level header field, ``name:value`` with the lower-case name
  and the decoded, folded value (RFC 2047 words decoded; Content-Type and
  Content-Disposition also carry their RFC 2231-decoded parameters; address fields carry
  each address as "display name" and "mailbox@host", separated by TAB so that a match
  never spans two alternatives).
- `body`: the decoded text of every text/* part (transfer encoding undone, charset
  converted, HTML stripped of tags) and the decoded file names of the other parts.
- the sort keys of RFC 5256 and RFC 5957, folded for comparison: the base subject (§2.1),
  the first From/To/Cc addr-mailbox, the display names; the sent date (§2.2) both as an
  instant (UTC) and as the header's own day for SENTBEFORE/SENTON/SENTSINCE (RFC 9051
  §6.4.4 disregards time and zone); message ids for threading (RFC 5256 REFERENCES).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from dataclasses import dataclass

from buzon.mime import Address, ParsedMessage, addresses_text, body_text, decode_header
from buzon.mime.address import parse_addresses
from buzon.mime.headers import iter_fields, unfold
from buzon.mime.params import parse_content_type, parse_disposition
from buzon.storage.query import fold

__all__ = ["MessageFields", "base_subject", "compute", "message_ids"]

ADDRESS_FIELDS = frozenset(
    {"from", "to", "cc", "bcc", "sender", "reply-to", "resent-from", "resent-to", "resent-cc"}
)
_PARAM_FIELDS = frozenset({"content-type", "content-disposition"})
ALT = "\t"  # between alternatives of one header line (never inside a folded value)


@dataclass(frozen=True, slots=True)
class MessageFields:
    headers: str
    body: str
    sent: dt.datetime | None  # UTC; None when the Date: header cannot be read
    sent_day: dt.date | None
    base_subject: str
    is_reply: bool
    from_mailbox: str
    from_display: str
    to_mailbox: str
    to_display: str
    cc_mailbox: str
    message_id: str | None
    references: tuple[str, ...]


# --- RFC 5256 §2.1 base subject --------------------------------------------------------------

_BLOB = r"\[[^\[\]]*\] *"
# subj-leader = (*subj-blob subj-refwd) / WSP; subj-refwd = ("re" / ("fw" ["d"])) *WSP
# [subj-blob] ":"
_LEADER = re.compile(rf"(?:{_BLOB})*(?:re|fwd?) *(?:{_BLOB})?:|\s", re.IGNORECASE)
_BLOB_RE = re.compile(_BLOB)
_WS_RUN = re.compile(r"[ \t\r\n]+")


def base_subject(subject: str) -> tuple[str, bool]:
    """RFC 5256 §2.1: (base subject, whether it was a reply or forward), not yet folded.

    "Reply or forward" is RFC 5256's: extraction removed a subj-refwd, a "(fwd)" trailer,
    or a subj-fwd-hdr/subj-fwd-trl pair.
    """
    s = _WS_RUN.sub(" ", subject)  # (1) tabs and continuations to space, runs to one
    reply = False
    while True:
        # (2) remove subj-trailer ("(fwd)" / WSP) repeatedly
        while True:
            if s.endswith(" "):
                s = s[:-1]
            elif s[-5:].lower() == "(fwd)":
                s = s[:-5]
                reply = True
            else:
                break
        while True:  # (5) repeat (3) and (4)
            changed = False
            # (3) remove subj-leader prefixes
            while (m := _LEADER.match(s)) is not None and m.end() > 0:
                if m.group() != " ":
                    reply = True
                s = s[m.end() :]
                changed = True
            # (4) a subj-blob prefix goes if a non-empty subj-base remains
            m = _BLOB_RE.match(s)
            if m is not None and s[m.end() :].strip(" "):
                s = s[m.end() :]
                changed = True
            if not changed:
                break
        # (6) [fwd: ... ] around the whole subject
        if s[:5].lower() == "[fwd:" and s.endswith("]"):
            s = s[5:-1]
            reply = True
            continue
        return s, reply


# --- message ids (RFC 5256 REFERENCES) --------------------------------------------------------

_MSG_ID = re.compile(rb"<([^<>]*)>")
_ID_NOISE = re.compile(rb'["\\\s]')


def message_ids(value: bytes | None) -> list[str]:
    """The msg-ids of a header value, normalised: quoting and white space removed.

    RFC 5256 §BASE.6.4.THREAD: <"01KF8JCEOCBS0045PS"@xxx.yyy.com> and
    <01KF8JCEOCBS0045PS@xxx.yyy.com> are the same Message ID. Comparison stays
    case-sensitive. An id without "@" is not valid.
    """
    if not value:
        return []
    out: list[str] = []
    for m in _MSG_ID.finditer(value):
        ident = _ID_NOISE.sub(b"", m.group(1))
        if b"@" in ident and not ident.startswith(b"@") and not ident.endswith(b"@"):
            out.append(ident.decode("utf-8", "replace"))
    return out


# --- computing ---------------------------------------------------------------------------------


def _sent(value: bytes | None) -> tuple[dt.datetime | None, dt.date | None]:
    """RFC 5256 §2.2: the Date: header in UTC, and its own day (RFC 9051 §6.4.4)."""
    if not value:
        return None, None
    text = decode_header(value)
    try:
        parts = email.utils.parsedate_tz(text)
    except (ValueError, IndexError, TypeError):
        return None, None
    if parts is None:
        return None, None
    year, month, day, hour, minute, second = parts[:6]
    try:
        day_only = dt.date(year, month, day)
        local = dt.datetime(year, month, day, hour, minute, min(second, 59), tzinfo=dt.UTC)
    except (ValueError, OverflowError):
        return None, None
    offset = parts[9] or 0  # an invalid zone counts as UTC (RFC 5256 §2.2)
    try:
        return local - dt.timedelta(seconds=offset), day_only
    except OverflowError:
        return None, day_only


def _first(addrs: tuple[Address, ...]) -> tuple[str, str]:
    """(addr-mailbox, display) of the first address (RFC 5256 §3, RFC 5957 §3)."""
    for a in addrs:
        if a.host is None:
            continue  # group syntax
        pairs = addresses_text([a])
        if not pairs:
            continue
        name, address = pairs[0]
        mailbox = (a.mailbox or b"").decode("utf-8", "replace")
        # RFC 5957 §3: no display name: use the address (mailbox@host) instead.
        display = name.strip() or address
        return fold(mailbox), fold(display)
    return "", ""


def _field_line(name: str, raw: bytes) -> str:
    value = unfold(raw.partition(b":")[2])
    alternatives = [decode_header(value)]
    if name in ADDRESS_FIELDS:
        for display, address in addresses_text(parse_addresses(value)):
            if display:
                alternatives.append(display)
            alternatives.append(address)
    elif name == "content-type":
        _, _, params = parse_content_type(value, ("text", "plain"))
        alternatives.extend(f"{k}={v}" for k, v in params)
    elif name == "content-disposition":
        disposition = parse_disposition(value)
        if disposition is not None:
            alternatives.extend(f"{k}={v}" for k, v in disposition[1])
    return name + ":" + _fold_alternatives(alternatives)


_SEP = "\x00"  # not white space, its own case fold, and no other character folds to it


def _fold_alternatives(alternatives: list[str]) -> str:
    """``ALT.join(fold(a) for a in alternatives)``, with one `fold` call for the line.

    Folding is per character except for white space runs, and a run never crosses a
    non-space separator, so folding the joined text folds each alternative alone.
    """
    joined = _SEP.join(alternatives)
    if joined.count(_SEP) != len(alternatives) - 1:  # a value holds NUL itself
        return ALT.join(fold(a) for a in alternatives)
    return fold(joined).replace(_SEP, ALT)


def _file_names(parsed: ParsedMessage) -> list[str]:
    names: list[str] = []
    stack = [parsed.root]
    while stack:
        part = stack.pop()
        stack.extend(part.parts)
        if part.message is not None:
            stack.append(part.message.root)
        if part.type in ("text", "multipart"):
            continue
        for params in (part.params, part.disposition[1] if part.disposition else ()):
            for key, value in params:
                if key in ("name", "filename") and value:
                    names.append(value)
    return names


def compute(raw: bytes, parsed: ParsedMessage) -> MessageFields:
    """The search and sort fields of one message (run at delivery, off the event loop)."""
    header = raw[parsed.root.header_start : parsed.root.body_start]
    lines: list[str] = []
    references_field: bytes | None = None
    for name, field in iter_fields(header):
        if name is None:
            continue
        if name == b"references" and references_field is None:
            references_field = field
        lines.append(_field_line(name.decode("latin-1"), field))
    text = body_text(raw, parsed)
    names = _file_names(parsed)
    body = fold("\n".join([text, *names]) if names else text)
    env = parsed.envelope
    subject = decode_header(env.subject) if env.subject else ""
    base, reply = base_subject(subject)
    sent, sent_day = _sent(env.date)
    from_mailbox, from_display = _first(env.from_)
    to_mailbox, to_display = _first(env.to)
    cc_mailbox, _ = _first(env.cc)
    ids = message_ids(env.message_id)
    references = message_ids(
        None if references_field is None else unfold(references_field.partition(b":")[2])
    )
    if not references:
        references = message_ids(env.in_reply_to)[:1]
    return MessageFields(
        headers="\n".join(lines),
        body=body,
        sent=sent,
        sent_day=sent_day,
        base_subject=fold(base),
        is_reply=reply,
        from_mailbox=from_mailbox,
        from_display=from_display,
        to_mailbox=to_mailbox,
        to_display=to_display,
        cc_mailbox=cc_mailbox,
        message_id=ids[0] if ids else None,
        references=tuple(references),
    )


def header_values(headers: str, field: str) -> list[str]:
    """The folded values of `field` (lower-case name) in a `MessageFields.headers` text."""
    prefix = field + ":"
    return [line[len(prefix) :] for line in headers.split("\n") if line.startswith(prefix)]
