"""Fixtures for SEARCH, SORT and THREAD transcripts: messages with tricky encodings.

`inbox-search` (UIDs 1-5, internal dates 1-5 Nov 2026 10:00 UTC):
1. Subject "Café crème" in ISO-8859-1 Q words; From "Jörg Müller" in a UTF-8 B word;
   Date in -0500 late on 1 Nov (2 Nov in UTC); base64 UTF-8 body "Grüße aus Berlin";
   Cc bob; flagged \\Answered.
2. Subject "Re: [list] Café crème" (raw 8-bit UTF-8 header); From bob without a display
   name; quoted-printable windows-1252 body with curly quotes; \\Seen \\Flagged $Work;
   In-Reply-To message 1.
3. Subject "Привет" in a KOI8-R B word; HTML body; an attachment whose RFC 2231 file
   name is "résumé.pdf"; an X-Priority header; \\Draft; References 1 and 2.
4. No Date: header (its sent date is its internal date); plain "short" body; \\Deleted.
5. Subject "[Fwd: Café crème]"; a 2 KiB body; To carol; no flags.
"""

from __future__ import annotations

import datetime as dt

from buzon.storage.api import AppendRequest, Store


def _when(day: int) -> dt.datetime:
    return dt.datetime(2026, 11, day, 10, 0, 0, tzinfo=dt.UTC)


M1 = (
    b"From: =?utf-8?b?SsO2cmcgTcO8bGxlcg==?= <joerg@example.de>\r\n"
    b"To: Alice <alice@example.org>\r\n"
    b"Cc: bob@example.net\r\n"
    b"Subject: =?iso-8859-1?q?Caf=E9?= =?iso-8859-1?q?_cr=E8me?=\r\n"
    b"Date: Sun, 01 Nov 2026 23:30:00 -0500\r\n"
    b"Message-ID: <m1@example.org>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: base64\r\n"
    b"\r\n"
    b"R3LDvMOfZSBhdXMgQmVybGlu\r\n"
)

M2 = (
    b"From: bob@example.net\r\n"
    b"To: alice@example.org\r\n"
    b"Subject: Re: [list] Caf\xc3\xa9 cr\xc3\xa8me\r\n"
    b"Date: Mon, 02 Nov 2026 09:00:00 +0000\r\n"
    b"Message-ID: <m2@example.org>\r\n"
    b"In-Reply-To: <m1@example.org>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=windows-1252\r\n"
    b"Content-Transfer-Encoding: quoted-printable\r\n"
    b"\r\n"
    b"She said =93quoted=94 text, see=\r\n"
    b" you.\r\n"
)

M3 = (
    b"From: Ivan <ivan@example.ru>\r\n"
    b"To: alice@example.org\r\n"
    b"Subject: =?koi8-r?b?8NLJ18XU?=\r\n"
    b"Date: Tue, 03 Nov 2026 12:00:00 +0300\r\n"
    b"Message-ID: <m3@example.org>\r\n"
    b"References: <m1@example.org> <m2@example.org>\r\n"
    b"X-Priority: 1\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="b"\r\n'
    b"\r\n"
    b"--b\r\n"
    b"Content-Type: text/html; charset=utf-8\r\n"
    b"\r\n"
    b"<p>Hello <b>World</b></p>\r\n"
    b"--b\r\n"
    b"Content-Type: application/pdf\r\n"
    b"Content-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf\r\n"
    b"Content-Transfer-Encoding: base64\r\n"
    b"\r\n"
    b"JVBERg==\r\n"
    b"--b--\r\n"
)

M4 = b"From: Zed <zed@example.com>\r\nTo: alice@example.org\r\nSubject: no date\r\n\r\nshort\r\n"

M5 = (
    b"From: Ana <ana@example.pt>\r\n"
    b"To: Carol <carol@example.org>\r\n"
    b"Subject: [Fwd: Caf\xc3\xa9 cr\xc3\xa8me]\r\n"
    b"Date: Thu, 05 Nov 2026 08:00:00 +0000\r\n"
    b"Message-ID: <m5@example.org>\r\n"
    b"\r\n" + b"forwarded text\r\n" * 128
)


async def inbox_search(store: Store) -> None:
    inbox = await (await store.open_account("alice")).open_mailbox("INBOX")
    await inbox.append(
        [
            AppendRequest(M1, frozenset({"\\Answered"}), _when(1)),
            AppendRequest(M2, frozenset({"\\Seen", "\\Flagged", "$Work"}), _when(2)),
            AppendRequest(M3, frozenset({"\\Draft"}), _when(3)),
            AppendRequest(M4, frozenset({"\\Deleted"}), _when(4)),
            AppendRequest(M5, frozenset(), _when(5)),
        ]
    )


def _threaded(n: int, subject: str, day: int, refs: str = "", msgid: str | None = None) -> bytes:
    ident = msgid if msgid is not None else f"<t{n}@x>"
    head = f"From: u{n}@x\r\nSubject: {subject}\r\nDate: {day:02d} Nov 2026 10:00:00 +0000\r\n"
    if ident:
        head += f"Message-ID: {ident}\r\n"
    if refs:
        head += f"References: {refs}\r\n"
    return (head + "\r\nbody\r\n").encode()


# A small conversation for THREAD, in arrival order (UIDs 1-8):
THREAD_MESSAGES = [
    _threaded(1, "Plans", 1),  # 1
    _threaded(2, "Re: Plans", 2, "<t1@x>"),  # 2: reply to 1
    _threaded(3, "Lunch", 3),  # 3
    _threaded(4, "Re: Plans", 4, "<t1@x> <t2@x>"),  # 4: reply to 2
    _threaded(5, "Re: Lost", 5, "<gone@x>"),  # 5: parent missing
    _threaded(6, "Re: Lost", 6, "<gone@x>"),  # 6: sibling of 5 under a dummy
    _threaded(7, "Re: Lunch", 7),  # 7: no references, joins 3 by subject
    _threaded(8, "Plans", 8, "", "<t1@x>"),  # 8: duplicate Message-ID of 1
]


async def inbox_threads(store: Store) -> None:
    inbox = await (await store.open_account("alice")).open_mailbox("INBOX")
    await inbox.append(
        [AppendRequest(m, frozenset(), _when(i + 1)) for i, m in enumerate(THREAD_MESSAGES)]
    )
