"""A deterministic generator of realistic mail for the benchmarks.

Theory of operation
-------------------
`message(seed, index)` builds message number `index` from its own `random.Random`, seeded
from `(seed, index)`, so any message can be rebuilt alone and both servers get the same
bytes without the corpus ever being kept in memory or on disk. Every message has a unique
Message-ID, so a content-addressed store cannot deduplicate the corpus.

The mix, by message count: about 55% plain text, 25% multipart/alternative (text and
HTML), 20% multipart/mixed with one or two base64 attachments. Bodies are sized so that most
messages are 2-20 KB, about 8% are 20-100 KB and about 3% carry a 100 KB-1 MB attachment.
Subjects and names use several charsets, RFC 2047 encoded where not ASCII; about a third of
the messages answer an earlier one (In-Reply-To and References); dates spread over three
years, in date order. Line ends are CRLF (RFC 5322 §2.1).
"""

from __future__ import annotations

import base64
import datetime as dt
import random
from dataclasses import dataclass

_PROSE = (
    "the of and to in is that for it as was with be by on not he this are or his from at "
    "which but have an they you were her she there one all we their been has will would "
    "meeting report budget quarter release server mailbox invoice schedule project draft "
    "review patch deploy backup migration customer support ticket weekend holiday travel "
    "agenda minutes coffee lunch document attached please thanks regards update status"
)
_WORDS = tuple(_PROSE.split())

# (display name, charset for RFC 2047, or None for ASCII)
_PEOPLE: tuple[tuple[str, str | None], ...] = (
    ("Alice Martin", None),
    ("Bob Smith", None),
    ("José Núñez", "utf-8"),
    ("Zoë Müller", "iso-8859-1"),
    ("Łukasz Wróbel", "iso-8859-2"),
    ("Дмитрий Иванов", "koi8-r"),
    ("田中 太郎", "iso-2022-jp"),
    ("Søren Kierkegaard", "utf-8"),
    ("Carol White", None),
    ("Émilie Dubois", "windows-1252"),
)
_DOMAINS = ("example.com", "example.org", "mail.example.net", "lists.example.edu")
# Non-ASCII subject fragments and the charset their header uses.
_SUBJECTS: tuple[tuple[str, str], ...] = (
    ("Réunion de l'équipe", "iso-8859-1"),
    ("Übersicht für nächste Woche", "utf-8"),
    ("Отчёт за квартал", "koi8-r"),
    ("会議の議事録", "iso-2022-jp"),
    ("Zażółć gęślą jaźń", "iso-8859-2"),
    ("Presupuesto año próximo", "windows-1252"),
)
_ATTACHMENTS = (
    ("application/pdf", "report.pdf"),
    ("image/jpeg", "photo.jpg"),
    ("application/zip", "archive.zip"),
    ("image/png", "diagram.png"),
)
_START = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
_SPAN_SECONDS = 3 * 365 * 24 * 3600


@dataclass(frozen=True, slots=True)
class BenchMessage:
    """One generated message: its bytes (CRLF), IMAP flags and internal date."""

    content: bytes
    flags: frozenset[str]
    internal_date: dt.datetime


def _encoded_word(text: str, charset: str) -> str:
    """RFC 2047 §4.1 B-encoding of `text` in `charset` (one word; short texts only)."""
    raw = text.encode(charset)
    return f"=?{charset}?B?{base64.b64encode(raw).decode('ascii')}?="


def _address(rng: random.Random) -> str:
    name, charset = rng.choice(_PEOPLE)
    local = f"user{rng.randrange(500)}"
    display = name if charset is None else _encoded_word(name, charset)
    return f"{display} <{local}@{rng.choice(_DOMAINS)}>"


def _text(rng: random.Random, size: int) -> str:
    """About `size` bytes of wrapped ASCII prose, CRLF line ends."""
    lines: list[str] = []
    total = 0
    while total < size:
        line = " ".join(rng.choices(_WORDS, k=rng.randrange(6, 13)))
        lines.append(line)
        total += len(line) + 2
    return "\r\n".join(lines) + "\r\n"


def _body_size(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.89:
        return rng.randrange(1500, 19000)
    return rng.randrange(19000, 95000)


def _base64_lines(data: bytes) -> str:
    encoded = base64.b64encode(data).decode("ascii")
    return "\r\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76)) + "\r\n"


def message_id(seed: int, index: int) -> str:
    """The Message-ID of message `index`, so replies can point at it."""
    return f"<{seed}.{index}.bench@example.com>"


def message(seed: int, index: int) -> BenchMessage:
    """Message number `index` (0-based) of the corpus with this `seed`."""
    rng = random.Random(seed * 1_000_003 + index)
    date = _START + dt.timedelta(seconds=index * 900 + rng.randrange(900))
    date = date.replace(microsecond=0)
    if date > _START + dt.timedelta(seconds=_SPAN_SECONDS):
        date = _START + dt.timedelta(seconds=_SPAN_SECONDS - rng.randrange(86400))
    offset = dt.timezone(dt.timedelta(hours=rng.choice((-5, 0, 1, 2, 9))))
    headers = [
        f"Return-Path: <bounce{rng.randrange(100)}@{rng.choice(_DOMAINS)}>",
        f"Received: from mx{rng.randrange(9)}.example.net"
        f" (mx.example.net [192.0.2.{rng.randrange(255)}])"
        f"\r\n\tby mail.example.com with ESMTPS id {rng.getrandbits(48):012x}"
        f"\r\n\tfor <bench@example.com>; {date.astimezone(offset):%a, %d %b %Y %H:%M:%S %z}",
        f"Date: {date.astimezone(offset):%a, %d %b %Y %H:%M:%S %z}",
        f"From: {_address(rng)}",
        f"To: {_address(rng)}" + (f", {_address(rng)}" if rng.random() < 0.3 else ""),
    ]
    if rng.random() < 0.25:
        headers.append(f"Cc: {_address(rng)}")
    if rng.random() < 0.4:
        text, charset = rng.choice(_SUBJECTS)
        subject = f"{_encoded_word(text, charset)} #{index}"
    else:
        subject = " ".join(rng.choices(_WORDS, k=rng.randrange(3, 9))).capitalize()
        subject = f"{subject} #{index}"
    if index > 10 and rng.random() < 0.33:
        parent = rng.randrange(max(0, index - 200), index)
        subject = "Re: " + subject
        refs = " ".join(message_id(seed, max(0, parent - k * 7)) for k in range(2, -1, -1))
        headers.append(f"In-Reply-To: {message_id(seed, parent)}")
        headers.append(f"References: {refs}")
    headers.append(f"Subject: {subject}")
    headers.append(f"Message-ID: {message_id(seed, index)}")
    headers.append("MIME-Version: 1.0")

    kind = rng.random()
    size = _body_size(rng)
    boundary = f"=_bench_{rng.getrandbits(64):016x}"
    if kind < 0.55:
        headers.append("Content-Type: text/plain; charset=utf-8; format=flowed")
        headers.append("Content-Transfer-Encoding: 7bit")
        body = _text(rng, size)
    elif kind < 0.80:
        plain = _text(rng, size // 2)
        html = "<html><body><p>" + plain.replace("\r\n", "</p>\r\n<p>") + "</p></body></html>\r\n"
        headers.append(f'Content-Type: multipart/alternative; boundary="{boundary}"')
        body = (
            f"--{boundary}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n{plain}"
            f"--{boundary}\r\nContent-Type: text/html; charset=us-ascii\r\n\r\n{html}"
            f"--{boundary}--\r\n"
        )
    else:
        headers.append(f'Content-Type: multipart/mixed; boundary="{boundary}"')
        parts = [
            f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            + _text(rng, size // 3)
        ]
        # About 3% of all messages (15% of these) carry a 100 KB-1 MB attachment.
        big = rng.random() < 0.15
        for _ in range(1 if big else rng.choice((1, 1, 2))):
            ctype, name = rng.choice(_ATTACHMENTS)
            raw = rng.randbytes(
                rng.randrange(75_000, 750_000) if big else rng.randrange(500, size // 2 + 600)
            )
            parts.append(
                f"--{boundary}\r\nContent-Type: {ctype}; name={name}\r\n"
                f"Content-Disposition: attachment; filename={name}\r\n"
                f"Content-Transfer-Encoding: base64\r\n\r\n{_base64_lines(raw)}"
            )
        body = "".join(parts) + f"--{boundary}--\r\n"
    content = ("\r\n".join(headers) + "\r\n\r\n" + body).encode("ascii")

    flags: set[str] = set()
    if rng.random() < 0.8:
        flags.add("\\Seen")
    if rng.random() < 0.05:
        flags.add("\\Flagged")
    if rng.random() < 0.15:
        flags.add("\\Answered")
    if rng.random() < 0.02:
        flags.add("$Label1")
    return BenchMessage(content, frozenset(flags), date)
