"""`buzon serve --demo`: a user `demo` (password `demo`) with realistic sample mail, once."""

from __future__ import annotations

import base64
import datetime as dt
import logging

from buzon.auth import make_credentials
from buzon.config import Settings
from buzon.server.stores import argon2_parameters
from buzon.storage.api import AlreadyExists, AppendRequest, Store

log = logging.getLogger("buzon.demo")

DEMO_USER = "demo"
DEMO_PASSWORD = "demo"

_BASE = dt.datetime(2026, 11, 2, 9, 14, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))


def _date(days: int, hours: int = 0) -> dt.datetime:
    return _BASE + dt.timedelta(days=days, hours=hours)


def _rfc5322_date(when: dt.datetime) -> str:
    return when.strftime("%a, %d %b %Y %H:%M:%S %z")


def _message(headers: list[tuple[str, str]], body: str) -> bytes:
    lines = [f"{name}: {value}" for name, value in headers]
    text = "\r\n".join(lines) + "\r\n\r\n" + body.replace("\r\n", "\n").replace("\n", "\r\n")
    return text.encode("utf-8")


def _plain(
    n: int,
    sender: str,
    subject: str,
    body: str,
    *,
    when: dt.datetime,
    to: str = "Demo User <demo@example.org>",
    extra: list[tuple[str, str]] | None = None,
    charset: str = "us-ascii",
    cte: str = "7bit",
) -> bytes:
    headers = [
        ("Return-Path", "<" + sender.rsplit("<", maxsplit=1)[-1].rstrip(">") + ">"),
        ("From", sender),
        ("To", to),
        ("Subject", subject),
        ("Date", _rfc5322_date(when)),
        ("Message-ID", f"<demo-{n}@example.org>"),
        *(extra or []),
        ("MIME-Version", "1.0"),
        ("Content-Type", f"text/plain; charset={charset}; format=flowed"),
        ("Content-Transfer-Encoding", cte),
    ]
    return _message(headers, body)


def _alternative(n: int, when: dt.datetime) -> bytes:
    boundary = "=_alt_7f3a9c"
    body = (
        f"--{boundary}\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: quoted-printable\n\n"
        "Hola,\n\nEl informe trimestral est=C3=A1 listo. Las cifras de ventas subieron un 12 %\n"
        "respecto al trimestre anterior.\n\nSaludos,\nLuc=C3=ADa\n"
        f"--{boundary}\n"
        "Content-Type: text/html; charset=utf-8\n"
        "Content-Transfer-Encoding: quoted-printable\n\n"
        "<html><body><p>Hola,</p><p>El informe trimestral est=C3=A1 listo. Las cifras de=\n"
        " ventas subieron un <b>12 %</b> respecto al trimestre anterior.</p>\n"
        "<p>Saludos,<br>Luc=C3=ADa</p></body></html>\n"
        f"--{boundary}--\n"
    )
    headers = [
        ("From", "=?utf-8?q?Luc=C3=ADa_Fern=C3=A1ndez?= <lucia@example.com>"),
        ("To", "Demo User <demo@example.org>"),
        ("Cc", "equipo@example.com"),
        ("Subject", "=?utf-8?q?Informe_trimestral_=E2=80=94_listo?="),
        ("Date", _rfc5322_date(when)),
        ("Message-ID", f"<demo-{n}@example.com>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", f'multipart/alternative; boundary="{boundary}"'),
    ]
    return _message(headers, body)


def _with_attachment(n: int, when: dt.datetime) -> bytes:
    boundary = "----=_Part_0_1842"
    csv = b"region,q3,q4\nnorth,1200,1350\nsouth,980,1105\n"
    encoded = base64.encodebytes(csv).decode("ascii")
    body = (
        "This is a multi-part message in MIME format.\n"
        f"--{boundary}\n"
        "Content-Type: text/plain; charset=us-ascii\n\n"
        "Attached are the figures we discussed on Monday.\n\n-- \nMarta\n"
        f"--{boundary}\n"
        'Content-Type: text/csv; name="figures.csv"\n'
        "Content-Transfer-Encoding: base64\n"
        'Content-Disposition: attachment; filename="figures.csv"\n\n'
        f"{encoded}"
        f"--{boundary}--\n"
    )
    headers = [
        ("From", "Marta Ruiz <marta@example.net>"),
        ("To", "Demo User <demo@example.org>"),
        ("Subject", "Figures for the planning meeting"),
        ("Date", _rfc5322_date(when)),
        ("Message-ID", f"<demo-{n}@example.net>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", f'multipart/mixed; boundary="{boundary}"'),
    ]
    return _message(headers, body)


def _samples() -> dict[str, list[AppendRequest]]:
    seen = frozenset({"\\Seen"})
    inbox = [
        AppendRequest(
            _plain(
                1,
                "Buzón <postmaster@example.org>",
                "Welcome to Buzon",
                "Welcome! This mailbox lives on your Buzon server.\n\n"
                "Folders, flags and searches are kept on the server, so every\n"
                "device you connect sees the same mail.\n",
                when=_date(0),
            ),
            seen,
            _date(0),
        ),
        AppendRequest(_alternative(2, _date(1, 2)), frozenset(), _date(1, 2)),
        AppendRequest(_with_attachment(3, _date(2, 5)), frozenset({"\\Flagged"}), _date(2, 5)),
        AppendRequest(
            _plain(
                4,
                "Tom Baker <tom@example.com>",
                "Re: Lunch on Friday?",
                "Friday works. The usual place at 12:30?\n\n> Are you free for lunch on Friday?\n",
                when=_date(3, 1),
                extra=[
                    ("In-Reply-To", "<demo-10@example.org>"),
                    ("References", "<demo-10@example.org>"),
                ],
            ),
            seen | {"\\Answered"},
            _date(3, 1),
        ),
        AppendRequest(
            _plain(
                5,
                "GitLab <noreply@gitlab.example.com>",
                "[buzon] Pipeline #4182 passed",
                "Pipeline #4182 for main passed in 4 minutes 12 seconds.\n",
                when=_date(4, 3),
            ),
            frozenset({"$Notification"}),
            _date(4, 3),
        ),
        AppendRequest(
            _plain(
                6,
                "Jürgen Weiß <juergen@example.de>",
                "=?iso-8859-1?q?Gr=FC=DFe_aus_M=FCnchen?=",
                "Hallo!\n\nViele Gr=FC=DFe aus M=FCnchen.\n",
                when=_date(5, 4),
                charset="iso-8859-1",
                cte="quoted-printable",
            ),
            frozenset(),
            _date(5, 4),
        ),
    ]
    sent = [
        AppendRequest(
            _plain(
                10,
                "Demo User <demo@example.org>",
                "Lunch on Friday?",
                "Are you free for lunch on Friday?\n",
                when=_date(2, 9),
                to="Tom Baker <tom@example.com>",
            ),
            seen,
            _date(2, 9),
        ),
    ]
    drafts = [
        AppendRequest(
            _plain(
                20,
                "Demo User <demo@example.org>",
                "Notes for the retrospective",
                "- what went well\n- what to change\n",
                when=_date(5, 6),
                to="team@example.com",
            ),
            frozenset({"\\Draft", "\\Seen"}),
            _date(5, 6),
        ),
    ]
    archive = [
        AppendRequest(
            _plain(
                30,
                "Ana Costa <ana@example.pt>",
                "Trip photos",
                "The photos from the trip are on the shared drive.\n",
                when=_date(-30),
            ),
            seen,
            _date(-30),
        ),
    ]
    return {"INBOX": inbox, "Sent": sent, "Drafts": drafts, "Archive": archive}


async def install_demo(store: Store, settings: Settings) -> None:
    """Create the demo account and its mail unless it already exists."""
    secret = make_credentials(DEMO_PASSWORD, argon2_params=argon2_parameters(settings)).to_secret()
    try:
        await store.create_user(DEMO_USER, secret)
    except AlreadyExists:
        log.info("demo user already exists; leaving its mail as it is")
        return
    account = await store.open_account(DEMO_USER)
    names = settings.mailboxes
    renames = {"Sent": names.sent, "Drafts": names.drafts, "Archive": names.archive}
    for folder, messages in _samples().items():
        mailbox = await account.open_mailbox(renames.get(folder, folder))
        await mailbox.append(messages)
    await account.create_mailbox("Projects/Buzon")
    await account.subscribe("Projects/Buzon")
    log.info("created the demo user %r (its password is in the README)", DEMO_USER)
