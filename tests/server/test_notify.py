"""NOTIFY (RFC 5465) beyond the transcripts: the pure pieces, and the overflow bounds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from buzon.imap import commands_ext as cx
from buzon.imap.reader import CommandReader, ReaderLimits
from buzon.imap.words import StatusItem
from buzon.server import notify
from buzon.server.notify import NameEvent, SelectedMode, event_items, name_events
from buzon.server.outcome import Bad, No
from buzon.storage.api import MailboxInfo
from tests.server.harness import LineClient, ServerThread, server_settings

M, U, V, S, H = (
    StatusItem.MESSAGES,
    StatusItem.UIDNEXT,
    StatusItem.UIDVALIDITY,
    StatusItem.UNSEEN,
    StatusItem.HIGHESTMODSEQ,
)


def _info(name: str, mid: str, *, selectable: bool = True) -> MailboxInfo:
    return MailboxInfo(name=name, mailbox_id=mid, selectable=selectable)


def _tree(*infos: MailboxInfo) -> dict[str, MailboxInfo]:
    return {i.mailbox_id: i for i in infos}


@pytest.mark.parametrize(
    ("old", "new", "events"),
    [
        # created, with its existing parent
        (
            _tree(_info("INBOX", "1"), _info("A", "2")),
            _tree(_info("INBOX", "1"), _info("A", "2"), _info("A/B", "3")),
            [NameEvent("A"), NameEvent("A/B")],
        ),
        # deleted: \NonExistent, and the parent
        (
            _tree(_info("A", "2"), _info("A/B", "3")),
            _tree(_info("A", "2")),
            [NameEvent("A"), NameEvent("A/B", gone=True)],
        ),
        # renamed: one event with OLDNAME, none for the children that moved along
        (
            _tree(_info("A", "2"), _info("A/B", "3")),
            _tree(_info("C", "2"), _info("C/B", "3")),
            [NameEvent("C", old_name="A")],
        ),
        # deleted with children: a placeholder (a new row) under the same name
        (
            _tree(_info("A", "2"), _info("A/B", "3")),
            _tree(_info("A", "4", selectable=False), _info("A/B", "3")),
            [NameEvent("A")],
        ),
        # RENAME INBOX: the new INBOX is no event, the renamed one is
        (
            _tree(_info("INBOX", "1")),
            _tree(_info("INBOX", "5"), _info("Old", "1")),
            [NameEvent("Old", old_name="INBOX")],
        ),
        (_tree(_info("INBOX", "1")), _tree(_info("INBOX", "1")), []),
    ],
)
def test_name_events(
    old: dict[str, MailboxInfo], new: dict[str, MailboxInfo], events: list[NameEvent]
) -> None:
    assert name_events(old, new) == events


@pytest.mark.parametrize(
    ("last", "now", "flags", "condstore", "items"),
    [
        (None, (0, 1, 9, 0, 1), False, False, (M, U, V, S)),
        ((0, 1, 9, 0, 1), (1, 2, 9, 1, 2), False, True, (M, U, V, S, H)),
        ((2, 3, 9, 1, 4), (1, 3, 9, 1, 5), False, False, (M, U, V, S)),  # expunge
        ((1, 2, 9, 1, 2), (1, 2, 8, 1, 2), True, False, (M, U, V, S)),  # new UIDVALIDITY
        ((1, 2, 9, 1, 2), (1, 2, 9, 0, 3), False, False, ()),  # flags not asked for
        ((1, 2, 9, 1, 2), (1, 2, 9, 0, 3), True, False, (V, S)),
        ((1, 2, 9, 1, 2), (1, 2, 9, 1, 3), True, False, ()),  # no UNSEEN move, no CONDSTORE
        ((1, 2, 9, 1, 2), (1, 2, 9, 1, 3), True, True, (V, H)),
        ((1, 2, 9, 1, 2), (1, 2, 9, 1, 2), True, True, ()),
    ],
)
def test_event_items(
    last: tuple[int, int, int, int, int] | None,
    now: tuple[int, int, int, int, int],
    flags: bool,
    condstore: bool,
    items: tuple[StatusItem, ...],
) -> None:
    assert event_items(last, now, flags, condstore=condstore) == items


def _notify(line: bytes) -> cx.Notify:
    reader = CommandReader(ReaderLimits())
    reader.receive_data(line + b"\r\n")
    command = reader.next_event()
    assert isinstance(command, cx.Notify), command
    return command


def test_plan_reads_the_groups() -> None:
    plan = notify.compile_plan(
        _notify(
            b"t NOTIFY SET (selected-delayed (MessageNew (UID FLAGS) MessageExpunge))"
            b" (subtree (Lists inbox) (MessageNew MessageExpunge FlagChange))"
            b" (personal (MailboxName)) (subscribed NONE)"
        )
    )
    assert plan.selected is SelectedMode.DELAYED
    assert len(plan.fetch_items) == 2
    assert [w.kind for w in plan.watches] == ["SUBTREE", "PERSONAL"]
    assert plan.watches[0].names == ("Lists", "INBOX")
    assert plan.message_interest("Lists/Lemonade", frozenset()) == (True, True)
    assert plan.message_interest("Listsx", frozenset()) == (False, False)
    assert plan.mailbox_names
    assert not plan.uses_subscriptions


@pytest.mark.parametrize(
    ("line", "error"),
    [
        (b"t NOTIFY SET (personal (MessageExpunge))", Bad),
        (b"t NOTIFY SET (inboxes (MessageNew MessageExpunge AnnotationChange))", No),
        (b"t NOTIFY SET (selected (SubscriptionChange))", Bad),
        (b"t NOTIFY SET (selected (MessageNew (RFC822) MessageExpunge))", Bad),
    ],
)
def test_plan_refusals(line: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        notify.compile_plan(_notify(line))


def test_plan_takes_object_ids_savedate_and_preview() -> None:
    """RFC 8474, RFC 8514, RFC 8970 items are plain FETCH items for MessageNew."""
    line = (
        b"t NOTIFY SET (selected (MessageNew (EMAILID THREADID SAVEDATE PREVIEW) MessageExpunge))"
    )
    plan = notify.compile_plan(_notify(line))
    assert [str(getattr(i, "value", "PREVIEW")) for i in plan.fetch_items] == [
        "EMAILID",
        "THREADID",
        "SAVEDATE",
        "PREVIEW",
    ]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    with ServerThread(server_settings(tmp_path / "data")) as running:
        yield running


def _client(server: ServerThread) -> LineClient:
    client = LineClient(server.imap_port)
    client.line()
    client.send(b"l LOGIN alice secret\r\n")
    while not client.line().startswith(b"l OK"):
        pass
    return client


def _until_tagged(client: LineClient, tag: bytes) -> list[bytes]:
    lines = [client.line()]
    while not lines[-1].startswith(tag + b" "):
        lines.append(client.line())
    return lines


def test_too_many_mailboxes_is_notificationoverflow(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RFC 5465 §3.1: a NOTIFY too expensive to serve is NO [NOTIFICATIONOVERFLOW]."""
    monkeypatch.setattr(notify, "MAX_WATCHED", 3)
    client = _client(server)
    try:
        client.send(b"a1 NOTIFY SET (personal (MessageNew MessageExpunge))\r\n")
        last = _until_tagged(client, b"a1")[-1]
        assert last.startswith(b"a1 NO [NOTIFICATIONOVERFLOW] ")
        client.send(b"a2 NOTIFY SET (mailboxes (Drafts Sent) (MessageNew MessageExpunge))\r\n")
        assert _until_tagged(client, b"a2") == [b"a2 OK NOTIFY completed"]
    finally:
        client.close()


def test_too_many_pending_events_turns_notify_off(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RFC 5465 §5.8: untagged OK [NOTIFICATIONOVERFLOW], then as after NOTIFY NONE.

    Events are pushed between commands, so the backlog must come from one commit: a MOVE
    changes two mailboxes at once, more than the lowered limit of one.
    """
    monkeypatch.setattr(notify, "MAX_PENDING", 1)
    a, b = _client(server), _client(server)
    try:
        b.send(b"b1 APPEND INBOX {1+}\r\nx\r\nb2 SELECT INBOX\r\n")
        _until_tagged(b, b"b2")
        a.send(b"a1 NOTIFY SET (personal (MessageNew MessageExpunge))\r\n")
        assert _until_tagged(a, b"a1") == [b"a1 OK NOTIFY completed"]
        b.send(b"b3 MOVE 1 Drafts\r\n")
        _until_tagged(b, b"b3")
        assert a.line().startswith(b"* OK [NOTIFICATIONOVERFLOW] ")
        a.send(b"a2 NOOP\r\n")
        assert _until_tagged(a, b"a2") == [b"a2 OK NOOP completed"]
        b.send(b"b9 APPEND Drafts {1+}\r\nx\r\n")
        _until_tagged(b, b"b9")
        a.send(b"a3 NOOP\r\n")
        assert _until_tagged(a, b"a3") == [b"a3 OK NOOP completed"]
    finally:
        a.close()
        b.close()
