"""LMTP replies: a three-digit code, an enhanced status code and text, encoded in one place.

RFC 2034 §4: every reply but the greeting and the answer to LHLO carries an enhanced status
code (RFC 3463 class.subject.detail) after the basic code. The constants below are the
replies the state machine and the delivery code give; text that depends on the request
(an address, a size) is made by the small functions at the end.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Extension(enum.Enum):
    """The service extensions advertised in the LHLO reply (RFC 2033 §4.1)."""

    PIPELINING = "PIPELINING"  # RFC 2920; RFC 2033 §5 makes it mandatory for LMTP
    ENHANCEDSTATUSCODES = "ENHANCEDSTATUSCODES"  # RFC 2034; mandatory too
    EIGHTBITMIME = "8BITMIME"  # RFC 6152
    SIZE = "SIZE"  # RFC 1870
    CHUNKING = "CHUNKING"  # RFC 3030
    SMTPUTF8 = "SMTPUTF8"  # RFC 6531
    STARTTLS = "STARTTLS"  # RFC 3207


@dataclass(frozen=True, slots=True)
class Reply:
    """One reply; several `lines` make a multi-line reply ("250-a", "250 b")."""

    code: int
    status: str  # enhanced status code "2.1.5", or "" (greeting, LHLO)
    lines: tuple[str, ...]

    @property
    def positive(self) -> bool:
        return 200 <= self.code < 400

    @property
    def text(self) -> str:
        return " ".join(self.lines)

    def encode(self) -> bytes:
        out: list[bytes] = []
        last = len(self.lines) - 1
        prefix = f"{self.status} " if self.status else ""
        for i, line in enumerate(self.lines):
            sep = " " if i == last else "-"
            out.append(f"{self.code}{sep}{prefix}{line}\r\n".encode())
        return b"".join(out)


def reply(code: int, status: str, text: str) -> Reply:
    return Reply(code, status, (text,))


# --- session --------------------------------------------------------------------------
OK = reply(250, "2.0.0", "OK")
RESET = reply(250, "2.0.0", "Reset")
BYE = reply(221, "2.0.0", "Bye")
READY_FOR_TLS = reply(220, "2.0.0", "Ready to start TLS")
START_INPUT = reply(354, "", "Start mail input; end with <CRLF>.<CRLF>")
SENDER_OK = reply(250, "2.1.0", "Sender OK")
RECIPIENT_OK = reply(250, "2.1.5", "Recipient OK")
DELIVERED = reply(250, "2.0.0", "Delivered")

# --- errors of the client ----------------------------------------------------------------
UNKNOWN_COMMAND = reply(500, "5.5.1", "Unknown command")
NOT_IMPLEMENTED = reply(502, "5.5.1", "Command not implemented")
USE_LHLO = reply(500, "5.5.1", "This is LMTP: use LHLO")
LINE_TOO_LONG = reply(500, "5.5.2", "Line too long")
SYNTAX = reply(501, "5.5.2", "Syntax error")
BAD_ARGUMENTS = reply(501, "5.5.4", "Invalid command arguments")
UNKNOWN_PARAMETER = reply(555, "5.5.4", "Unsupported parameter")
NEED_LHLO = reply(503, "5.5.1", "Send LHLO first")
NESTED_MAIL = reply(503, "5.5.1", "Sender already given")
NEED_MAIL = reply(503, "5.5.1", "Send MAIL first")
NEED_RCPT = reply(503, "5.5.1", "No valid recipients")
DATA_AFTER_BDAT = reply(503, "5.5.1", "DATA and BDAT cannot be mixed")
BDAT_FAILED = reply(503, "5.5.1", "Transaction failed: send RSET")
ALREADY_TLS = reply(503, "5.5.1", "TLS already active")
NO_TLS = reply(502, "5.5.1", "STARTTLS not available")
TOO_MANY_RECIPIENTS = reply(452, "4.5.3", "Too many recipients")
TOO_BIG = reply(552, "5.3.4", "Message too big")
NON_ASCII_SENDER = reply(550, "5.6.7", "Non-ASCII address needs SMTPUTF8")
NON_ASCII_RECIPIENT = reply(553, "5.6.7", "Non-ASCII address needs SMTPUTF8")
TOO_MANY_ERRORS = reply(421, "4.7.0", "Too many errors, closing connection")
TIMEOUT = reply(421, "4.4.2", "Idle for too long, closing connection")
SHUTTING_DOWN = reply(421, "4.3.2", "Service shutting down")
BUSY = reply(421, "4.3.2", "Too many connections, try later")

# --- delivery (one per recipient after DATA, RFC 2033 §4.2) --------------------------------
NO_SUCH_USER = reply(550, "5.1.1", "No such user here")
OVER_QUOTA = reply(552, "5.2.2", "Mailbox full")
TEMPORARY = reply(451, "4.3.0", "Temporary failure, try again later")
EMPTY_MESSAGE = reply(554, "5.6.0", "Empty message")


def greeting(hostname: str) -> Reply:
    # RFC 2033 §4.1 / RFC 5321 §4.2: the greeting names the service; no enhanced code.
    return Reply(220, "", (f"{hostname} LMTP Buzon ready",))


def received(count: int) -> Reply:
    # RFC 3030 §2: a 250 reply to every BDAT chunk accepted.
    return reply(250, "2.0.0", f"{count} octets received")
