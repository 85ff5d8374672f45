"""UIDFETCH (RFC 9586 §3.3) and the multimailbox ESEARCH correlators (RFC 7377 §4)."""

from __future__ import annotations

import pytest

from buzon.imap.encoder import encode, encode_chunks
from buzon.imap.responses import (
    ESearchAll,
    ESearchCount,
    ESearchData,
    FetchFlags,
    FetchModSeq,
    FetchSection,
    Response,
    UidFetchData,
)


@pytest.mark.parametrize(
    ("response", "wire"),
    [
        (
            UidFetchData(25, (FetchFlags(("\\Seen",)),)),
            b"* 25 UIDFETCH (FLAGS (\\Seen))\r\n",
        ),
        (
            UidFetchData(4827313, (FetchFlags(()), FetchModSeq(12))),
            b"* 4827313 UIDFETCH (FLAGS () MODSEQ (12))\r\n",
        ),
        (
            ESearchData(
                "tag1", True, (ESearchAll([4001, 4003]),), mailbox="folder1", uidvalidity=1
            ),
            b'* ESEARCH (TAG "tag1" MAILBOX folder1 UIDVALIDITY 1) UID ALL 4001,4003\r\n',
        ),
        (
            ESearchData("t", True, (ESearchCount(2),), mailbox="Work/Q 1", uidvalidity=503),
            b'* ESEARCH (TAG "t" MAILBOX "Work/Q 1" UIDVALIDITY 503) UID COUNT 2\r\n',
        ),
        (
            ESearchData("t", True, (ESearchCount(1),), mailbox="inbox", uidvalidity=9),
            b'* ESEARCH (TAG "t" MAILBOX INBOX UIDVALIDITY 9) UID COUNT 1\r\n',
        ),
        (
            ESearchData("t", True, (ESearchCount(1),), mailbox="Entw\u00fcrfe", uidvalidity=9),
            b'* ESEARCH (TAG "t" MAILBOX Entw&APw-rfe UIDVALIDITY 9) UID COUNT 1\r\n',
        ),
    ],
)
def test_encode(response: Response, wire: bytes) -> None:
    assert encode(response) == wire


def test_uidfetch_streams_its_literal() -> None:
    body = b"x" * 200_000
    response = UidFetchData(7, (FetchSection("BODY[]", body),))
    streamed = b"".join(bytes(c) for c in encode_chunks(response, chunk_size=65536))
    assert streamed == encode(response)
    assert streamed.startswith(b"* 7 UIDFETCH (BODY[] {200000}\r\n")
