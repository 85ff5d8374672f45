"""POP3 replies: status lines with response codes, multi-line bodies, and the error type.

RFC 1939 §3: a reply is "+OK" or "-ERR", then text, CRLF; a multi-line reply ends with a
line holding a single ".". RFC 2449 §8 puts an extended response code in brackets right
after the status; RFC 3206 adds SYS/TEMP, SYS/PERM and AUTH.
"""

from __future__ import annotations

import enum

__all__ = ["END", "Err", "RespCode", "err_line", "ok_line"]

#: RFC 1939 §3: the termination octets of a multi-line response.
END = b".\r\n"


class RespCode(enum.StrEnum):
    """Extended response codes (RFC 2449 §8.1, RFC 3206 §4)."""

    IN_USE = "IN-USE"  # RFC 2449 §8.1.2: the maildrop cannot be had now
    LOGIN_DELAY = "LOGIN-DELAY"  # RFC 2449 §8.1.1 (unused: we have no login delay policy)
    SYS_TEMP = "SYS/TEMP"  # RFC 3206 §4: a transient system problem, try again later
    SYS_PERM = "SYS/PERM"  # RFC 3206 §4: a permanent system problem
    AUTH = "AUTH"  # RFC 3206 §5: the credentials, or how they were sent, are the problem


class Err(Exception):
    """A handler's refusal: becomes ``-ERR [code] text``."""

    def __init__(self, text: str, code: RespCode | None = None) -> None:
        super().__init__(text)
        self.text = text
        self.code = code


def ok_line(text: str = "") -> bytes:
    return f"+OK {text}\r\n".encode() if text else b"+OK\r\n"


def err_line(text: str, code: RespCode | None = None) -> bytes:
    prefix = f"[{code}] " if code is not None else ""
    return f"-ERR {prefix}{text}\r\n".encode()
