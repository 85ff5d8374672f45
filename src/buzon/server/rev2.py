"""IMAP4rev2 mode (RFC 9051) and UTF8=ACCEPT (RFC 6855): what ENABLE switches on.

Theory of operation
-------------------
The server advertises both IMAP4rev1 and IMAP4rev2, so a session speaks RFC 3501 until the
client sends `ENABLE IMAP4rev2` (RFC 9051 §7.2.2, Appendix A). The handlers ask `on()` at
the few places where Appendix E changes what the server says; everything else is the same
in both revisions. The differences this server implements, by Appendix E item:

- 4: SEARCH without RETURN is answered with ESEARCH, as `RETURN (ALL)` (`search_returns`).
- 10: SELECT/EXAMINE send an untagged LIST of the mailbox (`select_list`).
- 11, 12: no `OK [UNSEEN n]` and no `* n RECENT` on SELECT/EXAMINE, and no \\Recent flag:
  the session neither claims nor shows \\Recent (`cmd_select`, `selection.sync`).
- 16, 24: mailbox names, quoted strings and response text in UTF-8 (`utf8()`), as after
  ENABLE UTF8=ACCEPT; message headers with 8-bit octets may be APPENDed.
- 17: CHECK was removed from rev2. It is still accepted, as a NOOP: lenient in what we
  accept, since a client library may send it whatever revision it enabled.

Deprecated items a client asks for explicitly (LSUB, RFC822.*, STATUS RECENT, SEARCH
NEW/OLD/RECENT) keep working: Appendix A says such data is only returned when a client asks
for it. Items that need no switch are already rev1 behaviour here: CLOSED on a second
SELECT (9), UID in every unsolicited FETCH (21), STATUS DELETED and SIZE (3), COPYUID on
MOVE (7), TRYCREATE (8), the RFC 5530 response codes, BINARY and the folded-in extensions (2).

UTF8=ACCEPT (RFC 6855 §3) turns on the UTF-8 wire forms without the rest of rev2; its own
rules are a BAD for SEARCH CHARSET after it (§3) and a NO for an APPEND of a message with
8-bit header octets before it (§4).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from buzon.imap import commands as c
from buzon.imap.responses import ListData
from buzon.server.listing import ListRequest, list_mailboxes
from buzon.server.outcome import Bad, No
from buzon.storage.api import DELIMITER

if TYPE_CHECKING:
    from buzon.server.connection import Connection
    from buzon.server.session import Session

__all__ = [
    "IMAP4REV2",
    "UTF8_ACCEPT",
    "after_enable",
    "check_append",
    "check_search_charset",
    "eight_bit_headers",
    "on",
    "search_returns",
    "select_list",
    "utf8",
]

IMAP4REV2 = "IMAP4rev2"
UTF8_ACCEPT = "UTF8=ACCEPT"


def on(session: Session) -> bool:
    """Whether the client enabled IMAP4rev2 (RFC 9051 Appendix A)."""
    return IMAP4REV2 in session.enabled


def utf8(session: Session) -> bool:
    """Whether mailbox names and quoted strings travel as UTF-8.

    RFC 6855 §3 after ENABLE UTF8=ACCEPT; RFC 9051 Appendix A after ENABLE IMAP4rev2
    ("MUST NOT generate UTF-8-quoted strings unless the client has issued ENABLE IMAP4rev2").
    """
    return UTF8_ACCEPT in session.enabled or IMAP4REV2 in session.enabled


def after_enable(conn: Connection) -> None:
    """Apply what ENABLE changed to how the next commands are read."""
    conn.reader.utf8 = utf8(conn.session)


def search_returns(conn: Connection, cmd: c.Search) -> frozenset[c.SearchReturn] | None:
    """RFC 9051 §6.4.4: in rev2 a SEARCH without RETURN means RETURN (ALL) (ESEARCH)."""
    if cmd.returns is None and on(conn.session):
        return frozenset({c.SearchReturn.ALL})
    return cmd.returns


def check_search_charset(conn: Connection, charset: str | None) -> None:
    """RFC 6855 §3: after ENABLE UTF8=ACCEPT a SEARCH with CHARSET SHOULD get BAD."""
    if charset is not None and UTF8_ACCEPT in conn.session.enabled:
        raise Bad("SEARCH CHARSET is not allowed after ENABLE UTF8=ACCEPT")


def eight_bit_headers(message: bytes) -> bool:
    """Whether the header section of `message` has an octet above 0x7f."""
    end = message.find(b"\r\n\r\n")
    if end < 0:
        end = message.find(b"\n\n")
    header = message if end < 0 else message[:end]
    return not header.isascii()


def check_append(conn: Connection, message: c.AppendMessage) -> None:
    """RFC 6855 §4: 8-bit header octets need ENABLE UTF8=ACCEPT (or IMAP4rev2) first.

    "the server MUST reject, with a "NO" response, an "APPEND" command that includes any
    8-bit character in message header fields." RFC 9051 §5.1 and Appendix E item 16 allow
    UTF-8 headers in rev2, so ENABLE IMAP4rev2 lifts the rule too.
    """
    if utf8(conn.session) or not isinstance(message.content, bytes):
        return
    if eight_bit_headers(message.content):
        raise No("Message has 8-bit header fields; ENABLE UTF8=ACCEPT first")


async def select_list(conn: Connection, name: str) -> ListData | None:
    """RFC 9051 §6.3.2: the LIST response SELECT/EXAMINE sends, with accurate attributes."""
    account = conn.session.account
    assert account is not None
    mailboxes = await account.list_mailboxes()
    # The name itself is the pattern; a "*" or "%" in it may match more, hence the filter.
    request = ListRequest(reference="", patterns=(name,))
    for entry in list_mailboxes(mailboxes, (), request):
        if entry.name == name:
            return ListData(entry.attributes, DELIMITER, entry.name)
    return None
