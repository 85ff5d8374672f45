"""Errors of the IMAP command reader.

`ProtocolViolation` is the only exception that may escape `CommandReader`.
`ParseError` is internal to the grammar: the reader turns it into a `BadCommand`
event that keeps the tag (pymap's "parse errors are values").
"""

from __future__ import annotations

__all__ = ["ParseError", "ProtocolViolation"]


class ProtocolViolation(Exception):
    """The byte stream cannot be framed any more; the connection must be closed."""


class ParseError(Exception):
    """A command is syntactically invalid; carries the BAD text and optional code."""

    def __init__(self, text: str, code: str | None = None, tag: str | None = None) -> None:
        super().__init__(text)
        self.text = text
        self.code = code
        self.tag = tag
