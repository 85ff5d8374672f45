"""The one command table: name, allowed states, sequence-number use, handler.

No reflection: each command dataclass of `buzon.imap.commands` maps to its spec here, and
this is the only list of which command is allowed in which state (STYLE.md, rule 6).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from buzon.imap import commands as c
from buzon.imap import commands_ext as cx
from buzon.server import (
    cmd_any,
    cmd_append,
    cmd_auth,
    cmd_fetch,
    cmd_idle,
    cmd_mailbox,
    cmd_metadata,
    cmd_notify,
    cmd_quota,
    cmd_replace,
    cmd_select,
    cmd_sort,
    cmd_store,
    cmd_unauthenticate,
    cmd_urlauth,
    multisearch,
    search,
)
from buzon.server.outcome import Ok
from buzon.server.session import ANY_STATE, AUTHENTICATED, NOT_AUTHENTICATED, SELECTED, State

if TYPE_CHECKING:
    from buzon.server.connection import Connection

C = TypeVar("C")
Handler = Callable[["Connection", Any], Awaitable[Ok]]


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """How the session treats one command."""

    name: str
    states: frozenset[State]
    handler: Handler
    # RFC 3501 §7.4.1: while a command that uses sequence numbers runs (FETCH, STORE,
    # SEARCH), no EXPUNGE may be sent.
    uses_msn: bool = False


def _spec(
    name: str,
    states: frozenset[State],
    handler: Callable[[Connection, C], Awaitable[Ok]],
    *,
    uses_msn: bool = False,
) -> CommandSpec:
    return CommandSpec(name, states, handler, uses_msn)


_ONLY_AUTHENTICATED = frozenset({State.AUTHENTICATED})

TABLE: dict[type, CommandSpec] = {
    # RFC 9051 §6.1: any state
    c.Capability: _spec("CAPABILITY", ANY_STATE, cmd_any.handle_capability),
    c.Noop: _spec("NOOP", ANY_STATE, cmd_any.handle_noop),
    c.Logout: _spec("LOGOUT", ANY_STATE, cmd_any.handle_logout),
    c.Id: _spec("ID", ANY_STATE, cmd_any.handle_id),
    # RFC 9051 §6.2: not authenticated
    c.StartTLS: _spec("STARTTLS", NOT_AUTHENTICATED, cmd_auth.handle_starttls),
    c.Login: _spec("LOGIN", NOT_AUTHENTICATED, cmd_auth.handle_login),
    c.Authenticate: _spec("AUTHENTICATE", NOT_AUTHENTICATED, cmd_auth.handle_authenticate),
    # RFC 5161 §3.1: ENABLE only in the authenticated state
    c.Enable: _spec("ENABLE", _ONLY_AUTHENTICATED, cmd_any.handle_enable),
    # RFC 9051 §6.3: authenticated (and selected)
    c.Create: _spec("CREATE", AUTHENTICATED, cmd_mailbox.handle_create),
    c.Delete: _spec("DELETE", AUTHENTICATED, cmd_mailbox.handle_delete),
    c.Rename: _spec("RENAME", AUTHENTICATED, cmd_mailbox.handle_rename),
    c.Subscribe: _spec("SUBSCRIBE", AUTHENTICATED, cmd_mailbox.handle_subscribe),
    c.Unsubscribe: _spec("UNSUBSCRIBE", AUTHENTICATED, cmd_mailbox.handle_unsubscribe),
    c.List: _spec("LIST", AUTHENTICATED, cmd_mailbox.handle_list),
    c.Lsub: _spec("LSUB", AUTHENTICATED, cmd_mailbox.handle_lsub),
    c.Xlist: _spec("XLIST", AUTHENTICATED, cmd_mailbox.handle_xlist),
    c.Namespace: _spec("NAMESPACE", AUTHENTICATED, cmd_mailbox.handle_namespace),
    c.Status: _spec("STATUS", AUTHENTICATED, cmd_mailbox.handle_status),
    c.Select: _spec("SELECT", AUTHENTICATED, cmd_select.handle_select),
    c.Examine: _spec("EXAMINE", AUTHENTICATED, cmd_select.handle_examine),
    c.Append: _spec("APPEND", AUTHENTICATED, cmd_append.handle_append),
    c.Idle: _spec("IDLE", AUTHENTICATED, cmd_idle.handle_idle),
    # RFC 8437 §3: authenticated and selected
    cx.Unauthenticate: _spec(
        "UNAUTHENTICATE", AUTHENTICATED, cmd_unauthenticate.handle_unauthenticate
    ),
    # RFC 9208 §4.1 QUOTA, RFC 5464 §4.2-§4.3 METADATA: authenticated (and selected)
    cx.GetQuota: _spec("GETQUOTA", AUTHENTICATED, cmd_quota.handle_getquota),
    cx.GetQuotaRoot: _spec("GETQUOTAROOT", AUTHENTICATED, cmd_quota.handle_getquotaroot),
    cx.SetQuota: _spec("SETQUOTA", AUTHENTICATED, cmd_quota.handle_setquota),
    cx.GetMetadata: _spec("GETMETADATA", AUTHENTICATED, cmd_metadata.handle_getmetadata),
    cx.SetMetadata: _spec("SETMETADATA", AUTHENTICATED, cmd_metadata.handle_setmetadata),
    # RFC 5465 §3.1: NOTIFY in the authenticated and selected states
    cx.Notify: _spec("NOTIFY", AUTHENTICATED, cmd_notify.handle_notify),
    # RFC 7377 §2.2: ESEARCH in the authenticated and selected states (the handler refuses
    # the selected-mailbox source without one)
    cx.Esearch: _spec("ESEARCH", AUTHENTICATED, multisearch.handle_esearch),
    # RFC 4467 §4.1, §6.1, §6.2: URLAUTH commands in the authenticated and selected states
    cx.GenUrlAuth: _spec("GENURLAUTH", AUTHENTICATED, cmd_urlauth.handle_genurlauth),
    cx.ResetKey: _spec("RESETKEY", AUTHENTICATED, cmd_urlauth.handle_resetkey),
    cx.UrlFetch: _spec("URLFETCH", AUTHENTICATED, cmd_urlauth.handle_urlfetch),
    # RFC 4978 §3: COMPRESS after authentication (Dovecot and most clients do it there)
    cx.Compress: _spec("COMPRESS", AUTHENTICATED, cmd_any.handle_compress),
    # RFC 9051 §6.4: selected
    c.Check: _spec("CHECK", SELECTED, cmd_select.handle_check),
    c.Close: _spec("CLOSE", SELECTED, cmd_select.handle_close),
    c.Unselect: _spec("UNSELECT", SELECTED, cmd_select.handle_unselect),
    c.Expunge: _spec("EXPUNGE", SELECTED, cmd_select.handle_expunge),
    c.Fetch: _spec("FETCH", SELECTED, cmd_fetch.handle_fetch, uses_msn=True),
    c.Store: _spec("STORE", SELECTED, cmd_store.handle_store, uses_msn=True),
    c.Copy: _spec("COPY", SELECTED, cmd_store.handle_copy),
    c.Move: _spec("MOVE", SELECTED, cmd_store.handle_move),
    # RFC 8508 §3.5: REPLACE only in the selected state (it may send EXPUNGE, like MOVE)
    cx.Replace: _spec("REPLACE", SELECTED, cmd_replace.handle_replace),
    c.Search: _spec("SEARCH", SELECTED, search.handle_search, uses_msn=True),
    cx.Sort: _spec("SORT", SELECTED, cmd_sort.handle_sort, uses_msn=True),
    cx.Thread: _spec("THREAD", SELECTED, cmd_sort.handle_thread, uses_msn=True),
}


def lookup(command: object) -> CommandSpec | None:
    """The spec of a parsed command, or None for one the server does not implement."""
    return TABLE.get(type(command))


def may_expunge(spec: CommandSpec, command: object) -> bool:
    """RFC 3501 §7.4.1: no EXPUNGE while answering FETCH, STORE or SEARCH by sequence
    number; the UID forms may carry them."""
    return not spec.uses_msn or bool(getattr(command, "uid", False))


def display_name(spec: CommandSpec, command: object) -> str:
    """The command's name as the client wrote it ("UID FETCH" for the UID form)."""
    return f"UID {spec.name}" if getattr(command, "uid", False) else spec.name
