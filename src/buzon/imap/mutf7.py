"""Modified UTF-7 for mailbox names (RFC 3501 §5.1.3, RFC 9051 §5.1.3).

Printable US-ASCII except "&" stands for itself, "&" is written "&-", and every
other run of characters is UTF-16BE encoded in base64 with "," instead of "/",
without "=" padding, between "&" and "-".

`decode` accepts only the canonical form: the one `encode` produces. That makes
the wire form and the Unicode name a bijection, so two spellings can never name
the same mailbox.
"""

from __future__ import annotations

import binascii

__all__ = ["decode", "encode"]

_B64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,")


def _is_direct(ch: str) -> bool:
    """RFC 3501 §5.1.3: 0x20-0x25 and 0x27-0x7e represent themselves."""
    o = ord(ch)
    return 0x20 <= o <= 0x7E and o != 0x26


def _b64encode(text: str) -> str:
    try:
        raw = text.encode("utf-16-be")
    except UnicodeEncodeError as exc:
        raise ValueError(f"cannot encode lone surrogate in mailbox name: {exc}") from exc
    return binascii.b2a_base64(raw, newline=False).decode("ascii").rstrip("=").replace("/", ",")


def encode(name: str) -> str:
    """Encode a Unicode mailbox name as modified UTF-7."""
    out: list[str] = []
    pending: list[str] = []
    for ch in name:
        if _is_direct(ch):
            if pending:
                out.append("&" + _b64encode("".join(pending)) + "-")
                pending.clear()
            out.append(ch)
        elif ch == "&":
            if pending:
                out.append("&" + _b64encode("".join(pending)) + "-")
                pending.clear()
            out.append("&-")
        else:
            pending.append(ch)
    if pending:
        out.append("&" + _b64encode("".join(pending)) + "-")
    return "".join(out)


def _decode_run(run: str, pos: int) -> str:
    """Decode one base64 run (without the "&" and "-") at wire offset `pos`."""
    for ch in run:
        if ch not in _B64_ALPHABET:
            raise ValueError(
                f"invalid modified UTF-7 at offset {pos}: {ch!r} is not modified base64"
            )
    nbits = 6 * len(run)
    nunits = nbits // 16
    spare = nbits - 16 * nunits
    if nunits == 0 or spare >= 6:
        raise ValueError(
            f"invalid modified UTF-7 at offset {pos}: base64 run of {len(run)} characters "
            "is not a whole number of UTF-16 units"
        )
    padded = run.replace(",", "/") + "=" * (-len(run) % 4)
    try:
        raw = binascii.a2b_base64(padded.encode("ascii"), strict_mode=True)
    except binascii.Error as exc:
        raise ValueError(f"invalid modified UTF-7 at offset {pos}: {exc}") from exc
    # The final base64 character carries `spare` padding bits which MUST be zero;
    # otherwise two wire forms would decode to the same name.
    last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".index(
        padded.rstrip("=")[-1]
    )
    if spare and last & ((1 << spare) - 1):
        raise ValueError(f"invalid modified UTF-7 at offset {pos}: non-zero padding bits")
    raw = raw[: 2 * nunits]
    try:
        text = raw.decode("utf-16-be")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"invalid modified UTF-7 at offset {pos}: bad UTF-16 (unpaired surrogate)"
        ) from exc
    for ch in text:
        if _is_direct(ch) or ch == "&":
            raise ValueError(
                f"invalid modified UTF-7 at offset {pos}: printable ASCII {ch!r} "
                "must not be base64 encoded"
            )
    return text


def decode(wire: str) -> str:
    """Decode a modified UTF-7 mailbox name; raise ValueError if not canonical."""
    out: list[str] = []
    i = 0
    n = len(wire)
    prev_was_run = False
    while i < n:
        ch = wire[i]
        if ch == "&":
            end = wire.find("-", i + 1)
            if end < 0:
                raise ValueError(f"invalid modified UTF-7 at offset {i}: unterminated '&' shift")
            if end == i + 1:
                out.append("&")
                prev_was_run = False
            else:
                if prev_was_run:
                    # "&AOk-&AOk-" is a non-canonical spelling of "&AOkA6Q-".
                    raise ValueError(
                        f"invalid modified UTF-7 at offset {i}: adjacent base64 runs must be merged"
                    )
                out.append(_decode_run(wire[i + 1 : end], i + 1))
                prev_was_run = True
            i = end + 1
            continue
        if not _is_direct(ch):
            raise ValueError(f"invalid modified UTF-7 at offset {i}: {ch!r} must be base64 encoded")
        out.append(ch)
        prev_was_run = False
        i += 1
    return "".join(out)
