"""The one place where storage errors become IMAP `NO [CODE]` responses."""

from __future__ import annotations

from buzon.imap.responses import Code
from buzon.imap.words import ResponseCode
from buzon.server.outcome import No
from buzon.storage import api

# RFC 5530 §3 and RFC 9051 §7.1 response codes for each protocol-neutral storage error.
_CODES: tuple[tuple[type[api.StorageError], ResponseCode | None], ...] = (
    (api.NotFound, ResponseCode.NONEXISTENT),
    (api.AlreadyExists, ResponseCode.ALREADYEXISTS),
    (api.HasChildren, ResponseCode.HASCHILDREN),
    (api.InvalidName, ResponseCode.CANNOT),
    (api.NoPermission, ResponseCode.NOPERM),
    (api.OverQuota, ResponseCode.OVERQUOTA),
    (api.TooBig, ResponseCode.TOOBIG),
    (api.ReadOnly, ResponseCode.CANNOT),
    (api.Temporary, ResponseCode.UNAVAILABLE),
    (api.TooMany, ResponseCode.LIMIT),
)


def storage_refusal(exc: api.StorageError, *, code: ResponseCode | None = None) -> No:
    """The NO for a storage error; `code` overrides the default (e.g. TRYCREATE)."""
    if code is None:
        code = next((c for cls, c in _CODES if isinstance(exc, cls)), ResponseCode.SERVERBUG)
    text = str(exc) or type(exc).__name__
    return No(text, Code(code) if code is not None else None)
