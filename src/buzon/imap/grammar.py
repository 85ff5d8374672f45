"""Grammar entry point: a command frame to a typed command (RFC 9051 §9).

`parse_frame` reads the tag and the command name and dispatches to the parser
of that command; each parser consumes the whole line or raises `ParseError`,
to which the tag is attached here. Command families live in grammar_*.py.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

from buzon.imap import commands as c
from buzon.imap.commands_ext import ExtCommand
from buzon.imap.errors import ParseError
from buzon.imap.framing import Frame, read_tag
from buzon.imap.grammar_base import Parser
from buzon.imap.grammar_ext import EXT_COMMANDS, EXT_UID_COMMANDS
from buzon.imap.grammar_fetch import parse_fetch, parse_store
from buzon.imap.grammar_mailbox import (
    parse_append,
    parse_create,
    parse_examine,
    parse_list,
    parse_lsub,
    parse_select,
    parse_status,
    parse_xlist,
)
from buzon.imap.grammar_search import parse_search

__all__ = ["KNOWN_COMMANDS", "Command", "parse_frame"]

CoreCommand = (
    c.Capability
    | c.Noop
    | c.Logout
    | c.StartTLS
    | c.Authenticate
    | c.Login
    | c.Select
    | c.Examine
    | c.Create
    | c.Delete
    | c.Rename
    | c.Subscribe
    | c.Unsubscribe
    | c.List
    | c.Lsub
    | c.Xlist
    | c.Namespace
    | c.Status
    | c.Append
    | c.Idle
    | c.Check
    | c.Close
    | c.Unselect
    | c.Expunge
    | c.Search
    | c.Fetch
    | c.Store
    | c.Copy
    | c.Move
    | c.Enable
    | c.Id
)
Command = CoreCommand | ExtCommand

_Simple = Callable[[Parser, str], Command]
_WithUid = Callable[[Parser, str, bool], Command]


def _no_args(cls: Callable[[str], Command]) -> _Simple:
    def parse(p: Parser, tag: str) -> Command:
        p.end()
        return cls(tag)

    return parse


def _authenticate(p: Parser, tag: str) -> c.Authenticate:
    """AUTHENTICATE SP auth-type [SP (base64 / "=")] (RFC 9051 §6.2.2, RFC 4959 §3)."""
    p.sp("after AUTHENTICATE")
    mech = p.atom("(SASL mechanism)").upper()
    initial: bytes | None = None
    if p.try_sp():
        if p.try_char(b"="):
            initial = b""
        else:
            start = p.pos
            p.atom("(initial response)")
            raw = p.line[start : p.pos]
            try:
                initial = base64.b64decode(raw, validate=True)
            except binascii.Error:
                p.error("Invalid base64 in SASL initial response")
    p.end()
    return c.Authenticate(tag, mech, initial)


def _login(p: Parser, tag: str) -> c.Login:
    p.sp("after LOGIN")
    user = p.astring_text("User name")
    p.sp("after user name")
    password = p.astring_text("Password")
    p.end()
    return c.Login(tag, user, password)


def _one_mailbox(cls: Callable[[str, str], Command], name: str) -> _Simple:
    def parse(p: Parser, tag: str) -> Command:
        p.sp(f"after {name}")
        mailbox = p.mailbox()
        p.end()
        return cls(tag, mailbox)

    return parse


def _rename(p: Parser, tag: str) -> c.Rename:
    p.sp("after RENAME")
    old = p.mailbox()
    p.sp("after mailbox")
    new = p.mailbox()
    p.end()
    return c.Rename(tag, old, new)


def _enable(p: Parser, tag: str) -> c.Enable:
    """enable = "ENABLE" 1*(SP capability) (RFC 5161 §4)."""
    caps: list[str] = []
    while p.try_sp():
        cap = p.atom("(capability)").upper()
        if cap not in caps:
            caps.append(cap)
    if not caps:
        p.error("Expected SP and capability after ENABLE")
    p.end()
    return c.Enable(tag, tuple(caps))


def _id(p: Parser, tag: str) -> c.Id:
    """id = "ID" SP id-params-list; limits of RFC 2971 §3.3."""
    p.sp("after ID")
    if p.try_word("NIL"):
        p.end()
        return c.Id(tag, None)
    p.open_paren("to start ID parameters")
    params: list[tuple[str, str | None]] = []
    if not p.try_char(b")"):  # lenient: "()" is sent by some clients
        while True:
            key = p.text(p.string(), "ID field")
            p.sp("after ID field")
            raw = p.nstring()
            value = None if raw is None else p.text(raw, "ID value")
            if len(key.encode()) > 30:
                p.error("ID field name longer than 30 octets")
            if value is not None and len(value.encode()) > 1024:
                p.error("ID value longer than 1024 octets")
            params.append((key, value))
            if len(params) > 30:
                p.error("More than 30 ID field-value pairs")
            if p.try_char(b")"):
                break
            p.sp("between ID parameters")
    p.end()
    return c.Id(tag, tuple(params))


def _copy_like(cls: Callable[..., Command], name: str) -> _WithUid:
    def parse(p: Parser, tag: str, uid: bool) -> Command:
        p.sp(f"after {name}")
        seq = p.sequence_set()
        p.sp("after sequence set")
        mailbox = p.mailbox()
        p.end()
        result: Command = cls(tag, seq, mailbox, uid)
        return result

    return parse


def _expunge(p: Parser, tag: str) -> c.Expunge:
    p.end()
    return c.Expunge(tag)


def _uid_expunge(p: Parser, tag: str, uid: bool) -> c.Expunge:
    """uid-expunge = "EXPUNGE" SP sequence-set (RFC 4315 §3, RFC 9051 §6.4.9)."""
    p.sp("after UID EXPUNGE")
    uids = p.sequence_set()
    p.end()
    return c.Expunge(tag, True, uids)


_COMMANDS: dict[str, _Simple] = {
    "CAPABILITY": _no_args(c.Capability),
    "NOOP": _no_args(c.Noop),
    "LOGOUT": _no_args(c.Logout),
    "STARTTLS": _no_args(c.StartTLS),
    "AUTHENTICATE": _authenticate,
    "LOGIN": _login,
    "SELECT": parse_select,
    "EXAMINE": parse_examine,
    "CREATE": parse_create,
    "DELETE": _one_mailbox(c.Delete, "DELETE"),
    "RENAME": _rename,
    "SUBSCRIBE": _one_mailbox(c.Subscribe, "SUBSCRIBE"),
    "UNSUBSCRIBE": _one_mailbox(c.Unsubscribe, "UNSUBSCRIBE"),
    "LIST": parse_list,
    "LSUB": parse_lsub,
    "XLIST": parse_xlist,
    "NAMESPACE": _no_args(c.Namespace),
    "STATUS": parse_status,
    "APPEND": parse_append,
    "IDLE": _no_args(c.Idle),
    "CHECK": _no_args(c.Check),
    "CLOSE": _no_args(c.Close),
    "UNSELECT": _no_args(c.Unselect),
    "EXPUNGE": _expunge,
    "ENABLE": _enable,
    "ID": _id,
}
_UID_COMMANDS: dict[str, _WithUid] = {
    "FETCH": parse_fetch,
    "STORE": parse_store,
    "SEARCH": parse_search,
    "COPY": _copy_like(c.Copy, "COPY"),
    "MOVE": _copy_like(c.Move, "MOVE"),
}
_COMMANDS.update(EXT_COMMANDS)
_UID_COMMANDS.update(EXT_UID_COMMANDS)
KNOWN_COMMANDS = frozenset(_COMMANDS) | frozenset(_UID_COMMANDS) | {"UID"}
"""Command names the grammar parses (the first word after the tag)."""


def parse_frame(frame: Frame, *, utf8: bool, max_depth: int) -> Command:
    """Parse one complete command; raise ParseError (with `tag` set when readable)."""
    p = Parser(frame.line, frame.literals, utf8=utf8, max_depth=max_depth)
    tag = read_tag(frame.line)
    if tag is None:
        bare = read_tag(frame.line + b" ")
        if bare is not None and len(bare) == len(frame.line):
            raise ParseError("Expected SP and command name after tag", tag=bare)
        raise ParseError("Invalid tag")
    p.pos = len(tag) + 1
    try:
        name = p.name("(command name)")
        if name == "UID":
            p.sp("after UID")
            sub = p.name("(UID command)")
            if sub == "EXPUNGE":
                return _uid_expunge(p, tag, True)
            uid_parser = _UID_COMMANDS.get(sub)
            if uid_parser is None:
                raise ParseError(f"Unknown UID command {sub!r}")
            return uid_parser(p, tag, True)
        simple = _COMMANDS.get(name)
        if simple is not None:
            return simple(p, tag)
        seq_parser = _UID_COMMANDS.get(name)
        if seq_parser is not None:
            return seq_parser(p, tag, False)
        raise ParseError("Unknown command")
    except ParseError as exc:
        exc.tag = tag
        raise
