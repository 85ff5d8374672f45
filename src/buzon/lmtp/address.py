"""Paths and parameters of MAIL FROM and RCPT TO (RFC 5321 §4.1.2, §4.1.1.2-3).

`parse_path` reads `<local@domain>` (a source route `<@a,@b:local@domain>` is accepted and
ignored, RFC 5321 §4.1.2 and Appendix C), `<>` for MAIL's null reverse-path, and the quoted
local parts of RFC 5321 §4.1.2 (`"john doe"@example.org`, with backslash escapes). It is
tolerant where real clients are sloppy (a space after the colon) and strict where the
answer matters: a path without angle brackets, an unbalanced quote or a control character
is a syntax error. Non-ASCII is read as UTF-8; whether it is allowed depends on the
SMTPUTF8 parameter that follows the path (RFC 6531 §3.4), so the caller decides that with
`Address.is_ascii`.
"""

from __future__ import annotations

from dataclasses import dataclass


class AddressError(ValueError):
    """The path or a parameter cannot be read."""


@dataclass(frozen=True, slots=True)
class Address:
    """A mailbox `local@domain`; `domain` is "" for RCPT TO:<postmaster> (RFC 5321 §4.5.1)."""

    local: str
    domain: str

    @property
    def is_ascii(self) -> bool:
        return self.local.isascii() and self.domain.isascii()

    def __str__(self) -> str:
        local = self.local
        if not local or any(c in local for c in ' "\\(),:;<>@[]'):
            escaped = local.replace("\\", "\\\\").replace('"', '\\"')
            local = f'"{escaped}"'
        return f"{local}@{self.domain}" if self.domain else local


@dataclass(frozen=True, slots=True)
class PathArgs:
    """What follows `FROM:` or `TO:`: the path (None for `<>`) and the ESMTP parameters."""

    address: Address | None
    params: tuple[tuple[str, str | None], ...]  # (upper-cased keyword, value)


def parse_path_args(text: str, *, allow_null: bool) -> PathArgs:
    """Read `<path> [SP param=value]...`; raise `AddressError`."""
    text = text.lstrip(" ")
    if not text.startswith("<"):
        raise AddressError("the path must be in angle brackets")
    end = _closing_bracket(text)
    inner = text[1:end]
    rest = text[end + 1 :]
    if rest and not rest.startswith(" "):
        raise AddressError("junk after the path")
    params = _params(rest)
    if inner == "":
        if not allow_null:
            raise AddressError("an empty path is not allowed here")
        return PathArgs(None, params)
    return PathArgs(_mailbox(inner), params)


def _closing_bracket(text: str) -> int:
    """Index of the '>' that closes the path, skipping quoted strings."""
    quoted = False
    i = 1
    while i < len(text):
        c = text[i]
        if quoted and c == "\\":
            i += 2
            continue
        if c == '"':
            quoted = not quoted
        elif c == ">" and not quoted:
            return i
        i += 1
    raise AddressError("unterminated path")


def _mailbox(inner: str) -> Address:
    if inner.startswith("@"):
        # RFC 5321 §4.1.2: A-d-l ":" Mailbox; the source route is ignored (Appendix C).
        colon = inner.find(":")
        if colon < 0:
            raise AddressError("source route without ':'")
        inner = inner[colon + 1 :]
    if inner.startswith('"'):
        local, end = _quoted(inner)
        rest = inner[end:]
    else:
        at = inner.rfind("@")
        local, rest = (inner, "") if at < 0 else (inner[:at], inner[at:])
        if not local or any(ord(c) < 33 or c in '"\\<>()[],;:@' for c in local):
            raise AddressError("invalid local part")
    if not rest:
        return Address(local, "")  # <postmaster>; the caller decides
    if not rest.startswith("@") or len(rest) < 2:
        raise AddressError("invalid domain")
    domain = rest[1:]
    if any(ord(c) < 33 or c in '"\\<>()@,;:' for c in domain):
        raise AddressError("invalid domain")
    return Address(local, domain)


def _quoted(text: str) -> tuple[str, int]:
    """The unescaped content of the quoted string at the start of `text`, and its end."""
    out: list[str] = []
    i = 1
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if c == '"':
            if not out:
                raise AddressError("empty quoted local part")
            return "".join(out), i + 1
        if ord(c) < 32 or c == "\x7f":
            raise AddressError("control character in the local part")
        out.append(c)
        i += 1
    raise AddressError("unterminated quoted local part")


def _params(text: str) -> tuple[tuple[str, str | None], ...]:
    """RFC 5321 §4.1.2 Mail-parameters: esmtp-keyword ["=" esmtp-value], space separated."""
    out: list[tuple[str, str | None]] = []
    for word in text.split(" "):
        if not word:
            continue
        keyword, eq, value = word.partition("=")
        if not keyword or not all(c.isascii() and (c.isalnum() or c == "-") for c in keyword):
            raise AddressError(f"invalid parameter {word!r}")
        if eq and (not value or any(ord(c) < 33 or c == "=" for c in value)):
            raise AddressError(f"invalid parameter value {word!r}")
        out.append((keyword.upper(), value if eq else None))
    return tuple(out)
