"""The capability list, built from what is implemented and configured, per state.

RFC 9051 §7.2.2: the list depends on the session state and on TLS; a client must not rely
on capabilities it saw before STARTTLS or before authentication.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from buzon.imap.words import Capability, CapabilityWord, appendlimit_capability
from buzon.server.session import State

if TYPE_CHECKING:
    from buzon.server.connection import Connection

# Extensions a client may turn on with ENABLE (RFC 5161 §3.1); they arrive with the
# features that give them meaning.
ENABLEABLE: frozenset[str] = frozenset(
    {"CONDSTORE", "QRESYNC", "IMAP4rev2", "UTF8=ACCEPT", "UIDONLY"}
)

# Advertised in every state.
_ALWAYS: tuple[Capability, ...] = (
    Capability.IMAP4REV1,
    # RFC 9051 Appendix A: rev1 until the client sends ENABLE IMAP4rev2 (server/rev2.py).
    Capability.IMAP4REV2,
    Capability.LITERAL_PLUS,
    Capability.SASL_IR,
    Capability.ID,
    Capability.ENABLE,
)

# Advertised once authenticated.
_AUTHENTICATED: tuple[Capability, ...] = (
    Capability.NAMESPACE,
    Capability.CHILDREN,
    Capability.SPECIAL_USE,
    Capability.CREATE_SPECIAL_USE,
    Capability.STATUS_SIZE,
    Capability.IDLE,
    Capability.COMPRESS_DEFLATE,
    Capability.UNSELECT,
    # RFC 8437 §3: servers MAY advertise it only after authentication; we do.
    Capability.UNAUTHENTICATE,
    Capability.UIDPLUS,
    Capability.MOVE,
    Capability.MULTIAPPEND,
    Capability.BINARY,
    Capability.UTF8_ACCEPT,  # RFC 6855 §3: ENABLE it in the authenticated state
    Capability.CONDSTORE,
    Capability.QRESYNC,
    Capability.LIST_EXTENDED,
    Capability.LIST_STATUS,
    Capability.XLIST,
    Capability.METADATA,
    Capability.METADATA_SERVER,
    Capability.QUOTA,
    Capability.QUOTA_RES_STORAGE,
    Capability.QUOTA_RES_MESSAGE,
    Capability.QUOTA_RES_MAILBOX,
    Capability.QUOTASET,
    Capability.ESEARCH,
    Capability.SEARCHRES,
    Capability.PARTIAL,
    Capability.SORT,
    Capability.SORT_DISPLAY,
    Capability.THREAD_ORDEREDSUBJECT,
    Capability.THREAD_REFERENCES,
    Capability.WITHIN,
    Capability.NOTIFY,
    Capability.UIDONLY,
    Capability.MULTISEARCH,
    Capability.OBJECTID,  # RFC 8474
    Capability.SAVEDATE,  # RFC 8514
    Capability.PREVIEW,  # RFC 8970
    Capability.REPLACE,  # RFC 8508
    Capability.CATENATE,  # RFC 4469
    Capability.URLAUTH,  # RFC 4467
    Capability.ESORT,  # RFC 5267
)

# SASL mechanisms that send the password itself (RFC 4616 PLAIN, the LOGIN draft).
_PLAINTEXT_MECHANISMS: tuple[Capability, ...] = (Capability.AUTH_PLAIN, Capability.AUTH_LOGIN)


def plaintext_allowed(conn: Connection) -> bool:
    """Whether LOGIN and the plaintext SASL mechanisms are allowed on this connection."""
    return conn.session.plaintext_ok or conn.ctx.settings.auth.allow_plaintext


def for_session(conn: Connection) -> tuple[CapabilityWord, ...]:
    """The capabilities this connection has in its current state."""
    session = conn.session
    caps: list[CapabilityWord] = list(_ALWAYS)
    if session.state is State.NOT_AUTHENTICATED:
        if not session.secure and conn.ctx.tls is not None:
            caps.append(Capability.STARTTLS)
        # SCRAM never sends the password, so it is offered on any connection (RFC 7677).
        caps.append(Capability.AUTH_SCRAM_SHA_256)
        if conn.channel_bindings():
            caps.append(Capability.AUTH_SCRAM_SHA_256_PLUS)
        if plaintext_allowed(conn):
            caps.extend(_PLAINTEXT_MECHANISMS)
        else:
            # RFC 9051 §6.2.3: LOGIN is disabled until TLS is negotiated.
            caps.append(Capability.LOGINDISABLED)
    else:
        caps.extend(_AUTHENTICATED)
        caps.append(appendlimit_capability(conn.ctx.settings.limits.max_literal))
    return tuple(caps)
