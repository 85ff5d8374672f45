"""Section numbers and ranges for FETCH BODY[...] (RFC 3501 §6.4.5)."""

from __future__ import annotations

from buzon.mime import (
    body_range,
    header_range,
    mime_header_range,
    parse,
    part_at,
    text_range,
)
from tests.mime.test_mime_parser import MIXED, NESTED, SIMPLE


def _slice(raw: bytes, r: tuple[int, int] | None) -> bytes | None:
    return None if r is None else raw[r[0] : r[1]]


def test_non_multipart_message_has_part_one() -> None:
    m = parse(SIMPLE)
    assert part_at(m, ()) is m.root
    assert part_at(m, (1,)) is m.root
    assert part_at(m, (2,)) is None
    assert part_at(m, (1, 1)) is None
    assert _slice(SIMPLE, body_range(m.root)) == b"Noon?\r\n-- \r\nAlice\r\n"
    assert _slice(SIMPLE, text_range(m)) == b"Noon?\r\n-- \r\nAlice\r\n"
    assert _slice(SIMPLE, header_range(m)) == SIMPLE[:173]


def test_multipart_numbers() -> None:
    m = parse(MIXED)
    pdf = part_at(m, (2,))
    assert pdf is not None
    assert pdf.subtype == "pdf"
    assert _slice(MIXED, body_range(pdf)) == b"QUJD"
    assert _slice(MIXED, mime_header_range(pdf)) == MIXED[131:346]
    assert header_range(pdf) is None
    assert text_range(pdf) is None
    assert part_at(m, (0,)) is None
    assert part_at(m, (3,)) is None


def test_message_rfc822_numbers_and_ranges() -> None:
    m = parse(NESTED)
    fwd = part_at(m, (2,))
    assert fwd is not None
    assert fwd.type == "message"
    assert _slice(NESTED, header_range(fwd)) == (
        b"Subject: hello\r\nFrom: Carol <carol@example.com>\r\n"
        b"Content-Type: multipart/alternative; boundary=i\r\n\r\n"
    )
    assert _slice(NESTED, text_range(fwd)) == NESTED[221:287]
    assert _slice(NESTED, body_range(fwd)) == NESTED[121:287]  # BODY[2]: the whole message
    assert _slice(NESTED, mime_header_range(fwd)) == b"Content-Type: message/rfc822\r\n\r\n"
    html = part_at(m, (2, 2))
    assert html is not None
    assert _slice(NESTED, body_range(html)) == b"<b>html</b>"
    assert part_at(m, (2, 3)) is None
    assert part_at(m, (2, 2, 1)) is None


def test_message_rfc822_with_simple_body_has_part_n_1() -> None:
    raw = b"Content-Type: message/rfc822\r\n\r\nSubject: in\r\n\r\ninner body\r\n"
    m = parse(raw)
    inner = part_at(m, (1, 1))
    assert inner is not None
    assert m.root.message is not None
    assert inner is m.root.message.root
    assert _slice(raw, body_range(inner)) == b"inner body\r\n"
    assert part_at(m, (1, 2)) is None
