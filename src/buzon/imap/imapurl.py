"""IMAP URLs (RFC 5092) naming a message or a part of one, with URLAUTH (RFC 4467 §3).

Theory of operation
-------------------
`parse` reads untrusted text (an APPEND CATENATE part, a GENURLAUTH or URLFETCH argument)
into an `ImapUrl` or raises `UrlError`; nothing else escapes (a fuzz test checks). Only
the message forms are read, which is all CATENATE and URLAUTH use (RFC 4469 §3, RFC 4467
§3): ``imap://user@host/mailbox;UIDVALIDITY=n/;UID=m/;SECTION=s/;PARTIAL=o.l`` followed by
``;EXPIRE=date;URLAUTH=access:MECH:token``. Mailbox lists and searches (``;TYPE=``, ``?``)
are refused.

Relative forms (RFC 4469 §3: the base is ``imap://user@server/`` or, when a mailbox is
selected, ``imap://user@server/mailbox``): a reference that starts with "/" keeps the
base's server, and one that starts with ";UID=" names a message of the base mailbox.

`ImapUrl.text()` writes the canonical spelling: "imap" and the parameter names in upper
case as RFC 5092 writes them, the host in lower case, every character outside the RFC 5092
safe set percent-encoded (mailbox names as UTF-8, RFC 5092 §3.2). `parse(u.text()) == u`
for every URL (a hypothesis property checks).

URLAUTH (RFC 4467 §3, §7): ``rump`` is the URL up to and including ``;URLAUTH=access``
exactly as the client wrote it; the INTERNAL mechanism's token is a MAC of that text, so
the verifier needs no canonicalisation of its own.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from dataclasses import dataclass, field, replace
from urllib.parse import quote, unquote_to_bytes

from buzon.imap.commands_values import BodySection, SectionText

__all__ = ["ImapUrl", "UrlError", "parse", "parse_section", "with_base"]


class UrlError(ValueError):
    """The text is not an IMAP message URL this server understands."""


# RFC 5092 §11 achar/bchar without the characters that delimit URL parts here.
_SAFE = string.ascii_letters + string.digits + "-._~!$'()*+,&=:@"
_PARAM = re.compile(r"(/?);([A-Za-z]+)=([^;/]*)")
_NUMBER = re.compile(r"[1-9][0-9]{0,9}")
_ACCESS = re.compile(r"(anonymous|authuser|(?:submit|user)\+[^:;/]+)", re.IGNORECASE)
_TOKEN = re.compile(r"[0-9A-Fa-f]{32,}")
_MECH = re.compile(r"[A-Za-z0-9_.-]+")
_MAX_NUMBER = 4294967295


@dataclass(frozen=True, slots=True)
class ImapUrl:
    """An IMAP message URL. `host` is None for a relative one not yet resolved.

    `access` is "anonymous", "authuser", "user+NAME" or "submit+NAME" (keyword in lower
    case, NAME decoded); `rump` is the text the URLAUTH token authenticates.
    """

    mailbox: str
    uid: int
    user: str | None = None
    host: str | None = None
    port: int | None = None
    uidvalidity: int | None = None
    section: str | None = None
    partial: tuple[int, int | None] | None = None
    expire: dt.datetime | None = None
    access: str | None = None
    mechanism: str | None = None
    token: str | None = None
    rump: str | None = field(default=None, compare=False)

    def text(self, *, with_token: bool = True) -> str:
        """The canonical spelling (see the module docstring)."""
        out = []
        if self.host is not None:
            out.append("imap://")
            if self.user is not None:
                out.append(quote(self.user, safe=_SAFE.replace("@", "").replace(":", "")) + "@")
            out.append(self.host.lower())
            if self.port is not None:
                out.append(f":{self.port}")
        out.append("/" + quote(self.mailbox, safe=_SAFE + "/"))
        if self.uidvalidity is not None:
            out.append(f";UIDVALIDITY={self.uidvalidity}")
        out.append(f"/;UID={self.uid}")
        if self.section is not None:
            out.append("/;SECTION=" + quote(self.section, safe=_SAFE))
        if self.partial is not None:
            origin, length = self.partial
            out.append(f"/;PARTIAL={origin}" + ("" if length is None else f".{length}"))
        if self.expire is not None:
            out.append(";EXPIRE=" + _format_date(self.expire))
        if self.access is not None:
            keyword, plus, name = self.access.partition("+")
            encoded = keyword + plus + quote(name, safe=_SAFE.replace(":", ""))
            out.append(";URLAUTH=" + encoded)
        if with_token and self.mechanism is not None and self.token is not None:
            out.append(f":{self.mechanism}:{self.token}")
        return "".join(out)

    def body_section(self) -> BodySection:
        """The ``;SECTION=`` as a FETCH section (the whole message when absent)."""
        return BodySection() if self.section is None else parse_section(self.section)


def _format_date(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _decode(text: str, what: str) -> str:
    try:
        return unquote_to_bytes(text).decode("utf-8")
    except UnicodeDecodeError:
        raise UrlError(f"{what} is not UTF-8") from None


def _number(text: str, what: str, *, zero: bool = False) -> int:
    if not (_NUMBER.fullmatch(text) or (zero and text == "0")):
        raise UrlError(f"bad {what}: {text!r}")
    value = int(text)
    if value > _MAX_NUMBER:
        raise UrlError(f"{what} out of range")
    return value


def _date(text: str) -> dt.datetime:
    """RFC 4467 §3: ``;EXPIRE=`` is an RFC 3339 date-time."""
    decoded = _decode(text, "EXPIRE")
    try:
        value = dt.datetime.fromisoformat(decoded.replace("z", "Z"))
    except ValueError:
        raise UrlError(f"bad EXPIRE date: {decoded!r}") from None
    if "T" not in decoded.upper() or value.tzinfo is None:
        raise UrlError("EXPIRE needs a full date-time with a time zone")
    return value.astimezone(dt.UTC)


def _server(authority: str) -> tuple[str | None, str, int | None]:
    user: str | None = None
    if "@" in authority:
        userinfo, _, authority = authority.rpartition("@")
        # RFC 5092 §3.2: ";AUTH=" names a SASL mechanism; it does not change what is named.
        user = _decode(userinfo.split(";", 1)[0], "user") or None
    host, colon, port_text = authority.partition(":")
    if not host or not re.fullmatch(r"[A-Za-z0-9.\-\[\]]+", host):
        raise UrlError("bad host")
    port = None
    if colon:
        if not port_text.isdigit() or len(port_text) > 5 or int(port_text) > 65535:
            raise UrlError("bad port")
        port = int(port_text)
    return user, host.lower(), port


def parse(text: str, base: ImapUrl | None = None) -> ImapUrl:
    """Parse an absolute IMAP message URL, or a relative one against `base`."""
    if any(ch in text for ch in " \t\r\n\x00") or len(text) > 8192:
        raise UrlError("URL contains white space or is too long")
    if text[:7].lower() == "imap://":
        authority, slash, path = text[7:].partition("/")
        user, host, port = _server(authority)
        if not slash:
            raise UrlError("URL names no message")
        return _path(text, path, user=user, host=host, port=port, base=None)
    if text.startswith("/"):
        if base is None:
            return _path(text, text[1:], user=None, host=None, port=None, base=None)
        return _path(text, text[1:], user=base.user, host=base.host, port=base.port, base=None)
    if text[:5].upper() == ";UID=" and base is not None:
        return _path(text, text, user=base.user, host=base.host, port=base.port, base=base)
    raise UrlError("not an IMAP URL this server can resolve")


def _path(
    text: str,
    path: str,
    *,
    user: str | None,
    host: str | None,
    port: int | None,
    base: ImapUrl | None,
) -> ImapUrl:
    if "?" in path or "#" in path:
        raise UrlError("searches and fragments name no single message")
    cut = path.find(";")
    if cut < 0:
        raise UrlError("URL names no message (;UID= missing)")
    mailbox_text, params = path[:cut], path[cut:]
    if base is not None:
        mailbox, uidvalidity = base.mailbox, base.uidvalidity
    else:
        if mailbox_text.endswith("/") and params[:5].upper() == ";UID=":
            mailbox_text, params = mailbox_text[:-1], "/" + params
        mailbox = _decode(mailbox_text, "mailbox name")
        if not mailbox:
            raise UrlError("URL names no mailbox")
        uidvalidity = None
    fields: dict[str, str] = {}
    order = ["UIDVALIDITY", "UID", "SECTION", "PARTIAL", "EXPIRE", "URLAUTH"]
    slashed = {"UID", "SECTION", "PARTIAL"}
    position = 0
    rump_end: int | None = None
    for match in _PARAM.finditer(params):
        if match.start() != position:
            raise UrlError(f"unexpected text in URL at {params[position : match.start()]!r}")
        position = match.end()
        name = match.group(2).upper()
        if (
            name not in order
            or name in fields
            or (fields and order.index(name) < max(order.index(n) for n in fields))
        ):
            raise UrlError(f"unexpected ;{name}=")
        if name == "UIDVALIDITY" and base is not None:
            raise UrlError("a relative ;UID= URL cannot carry ;UIDVALIDITY=")
        # RFC 5092 §11: UID, SECTION and PARTIAL each start a path segment ("/" before them,
        # except a relative ";UID=" at the very start), the others do not.
        wants_slash = name in slashed and not (base is not None and match.start() == 0)
        if bool(match.group(1)) != wants_slash:
            raise UrlError(f"misplaced '/' before ;{name}=")
        value = match.group(3)
        if name == "URLAUTH":
            access, _, rest = value.partition(":")
            rump_end = len(text) - len(params) + match.start(3) + len(access)
            value = value if rest else access
        fields[name] = value
    if position != len(params):
        raise UrlError(f"unexpected text in URL at {params[position:]!r}")
    if "UID" not in fields:
        raise UrlError("URL names no message (;UID= missing)")
    if "UIDVALIDITY" in fields:
        uidvalidity = _number(fields["UIDVALIDITY"], "UIDVALIDITY")
    section = _decode(fields["SECTION"], "SECTION") if "SECTION" in fields else None
    if section is not None:
        parse_section(section)  # refuse a bad section now, not when fetching
    partial: tuple[int, int | None] | None = None
    if "PARTIAL" in fields:
        origin, dot, length = fields["PARTIAL"].partition(".")
        partial = (
            _number(origin, "PARTIAL", zero=True),
            _number(length, "PARTIAL length") if dot else None,
        )
    expire = _date(fields["EXPIRE"]) if "EXPIRE" in fields else None
    if expire is not None and "URLAUTH" not in fields:
        raise UrlError(";EXPIRE= without ;URLAUTH=")
    access = mechanism = token = rump = None
    if "URLAUTH" in fields:
        access, mechanism, token = _urlauth(fields["URLAUTH"])
        assert rump_end is not None
        rump = text[:rump_end]
    return ImapUrl(
        mailbox=mailbox,
        uid=_number(fields["UID"], "UID"),
        user=user,
        host=host,
        port=port,
        uidvalidity=uidvalidity,
        section=section,
        partial=partial,
        expire=expire,
        access=access,
        mechanism=mechanism,
        token=token,
        rump=rump,
    )


def _urlauth(value: str) -> tuple[str, str | None, str | None]:
    """``access [":" mechanism ":" token]`` (RFC 4467 §3 iurlauth-rump, iua-verifier)."""
    access_text, colon, verifier = value.partition(":")
    if not _ACCESS.fullmatch(access_text):
        raise UrlError(f"bad URLAUTH access {access_text!r}")
    keyword, plus, name = access_text.partition("+")
    access = keyword.lower() + plus + _decode(name, "URLAUTH user")
    if plus and not access.partition("+")[2]:
        raise UrlError("URLAUTH access names no user")
    if not colon:
        return access, None, None
    mechanism, colon, token = verifier.partition(":")
    if not colon or not _MECH.fullmatch(mechanism) or not _TOKEN.fullmatch(token):
        raise UrlError("bad URLAUTH mechanism or token")
    return access, mechanism.upper(), token.lower()


_TEXTS = {t.value: t for t in SectionText}


def parse_section(text: str) -> BodySection:
    """A section-text of RFC 3501 §9 without brackets: ``1.2``, ``HEADER.FIELDS (TO)``."""
    upper = text.upper()
    head, _, fields_text = upper.partition(" ")
    part: list[int] = []
    pieces = head.split(".")
    while pieces and pieces[0].isdigit():
        number = _number(pieces.pop(0), "section part")
        part.append(number)
    word = ".".join(pieces)
    if not word:
        if fields_text:
            raise UrlError("bad section")
        return BodySection(tuple(part))
    kind = _TEXTS.get(word)
    if kind is None or (kind is SectionText.MIME and not part):
        raise UrlError(f"bad section {text!r}")
    fields: tuple[str, ...] = ()
    if kind in (SectionText.HEADER_FIELDS, SectionText.HEADER_FIELDS_NOT):
        if not (fields_text.startswith("(") and fields_text.endswith(")")):
            raise UrlError("HEADER.FIELDS needs a list of names")
        fields = tuple(fields_text[1:-1].split())
        if not fields or not all(re.fullmatch(r"[!-9;-~]+", f) for f in fields):
            raise UrlError("bad header field name")
    elif fields_text:
        raise UrlError(f"bad section {text!r}")
    return BodySection(tuple(part), kind, fields)


def with_base(url: ImapUrl, user: str, host: str) -> ImapUrl:
    """A relative URL made absolute for `user` on `host` (RFC 4469 §3 base URL)."""
    if url.host is not None:
        return url
    return replace(url, user=user, host=host)
