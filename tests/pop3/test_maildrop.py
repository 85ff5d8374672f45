"""The POP3 snapshot view, UIDL format, dot-stuffing and TOP, as tables."""

from __future__ import annotations

import pytest

from buzon.pop3.maildrop import Maildrop, dot_stuff, top_of, uidl
from buzon.storage.api import Uid


def _drop() -> Maildrop:
    return Maildrop.of(1234, [(Uid(7), 70), (Uid(3), 30), (Uid(9), 90)])


def test_numbered_in_uid_order() -> None:
    drop = _drop()
    assert [(e.msg, e.uid, e.size) for e in drop.entries] == [(1, 3, 30), (2, 7, 70), (3, 9, 90)]
    assert drop.stat() == (3, 190)


@pytest.mark.parametrize(("msg", "uid"), [(0, None), (1, 3), (3, 9), (4, None), (-1, None)])
def test_get(msg: int, uid: int | None) -> None:
    entry = _drop().get(msg)
    assert (entry.uid if entry else None) == uid


def test_mark_reset_and_update_sets() -> None:
    drop = _drop()
    assert drop.mark(2)
    assert not drop.mark(2)
    assert not drop.mark(4)
    assert drop.get(2) is None
    assert drop.stat() == (2, 120)
    assert [e.msg for e in drop.live()] == [1, 3]
    drop.retrieved.update({Uid(7), Uid(9)})
    assert drop.deleted_uids() == (7,)
    assert drop.seen_uids() == (9,)
    drop.reset()
    assert drop.stat() == (3, 190)
    assert drop.deleted_uids() == ()
    assert drop.seen_uids() == (7, 9)


def test_uidl_is_dovecots_default_format() -> None:
    assert uidl(Uid(1), 1234) == "00000001000004D2"
    assert uidl(Uid(0xABCDEF01), 0xFFFFFFFF) == "ABCDEF01FFFFFFFF"
    value = uidl(Uid(42), 77)
    assert 1 <= len(value) <= 70  # RFC 1939 §7
    assert all(0x21 <= ord(ch) <= 0x7E for ch in value)


@pytest.mark.parametrize(
    ("data", "stuffed"),
    [
        (b"", b""),
        (b"a\r\n", b"a\r\n"),
        (b".a\r\n", b"..a\r\n"),
        (b"a\r\n.\r\n..b\r\n", b"a\r\n..\r\n...b\r\n"),
        (b"no final line end", b"no final line end\r\n"),
        (b"a.b\r\n. c", b"a.b\r\n.. c\r\n"),
    ],
)
def test_dot_stuff(data: bytes, stuffed: bytes) -> None:
    assert dot_stuff(data) == stuffed


MESSAGE = b"A: 1\r\nB: 2\r\n\r\none\r\ntwo\r\nthree\r\n"


@pytest.mark.parametrize(
    ("data", "lines", "top"),
    [
        (MESSAGE, 0, b"A: 1\r\nB: 2\r\n\r\n"),
        (MESSAGE, 1, b"A: 1\r\nB: 2\r\n\r\none\r\n"),
        (MESSAGE, 3, MESSAGE),
        (MESSAGE, 99, MESSAGE),
        (b"A: 1\r\n", 5, b"A: 1\r\n"),  # no body
        (b"\r\nbody\r\nmore\r\n", 1, b"\r\nbody\r\n"),  # no header
        (b"A: 1\r\n\r\nlast line without end", 5, b"A: 1\r\n\r\nlast line without end"),
    ],
)
def test_top_of(data: bytes, lines: int, top: bytes) -> None:
    assert top_of(data, lines) == top
