"""POP3 on the same store as IMAP (RFC 1939, RFC 2449, RFC 5034, STLS of RFC 2595).

`protocol` is the sans-I/O reader and state table, `maildrop` the session's numbered view of
the INBOX, `handlers` the commands, `service` the listeners and the connection loop.
"""

from __future__ import annotations

from buzon.pop3.service import Pop3Context, Pop3Endpoint, Pop3Server

__all__ = ["Pop3Context", "Pop3Endpoint", "Pop3Server"]
