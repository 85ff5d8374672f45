"""UIDONLY (RFC 9586) and multimailbox ESEARCH (RFC 7377): real clients and unit tables."""

from __future__ import annotations

import imaplib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from buzon.imap import commands as c
from buzon.imap import commands_ext as cx
from buzon.imap import searchkeys as k
from buzon.imap.commands_values import FetchAtt, SequenceSet, StoreOperation
from buzon.imap.responses import ExistsData, FetchData, FetchFlags, FetchUid, UidFetchData
from buzon.server import mailbox_filter, uidonly
from buzon.server.multisearch import lenient_msns
from buzon.server.selected import Exists, Expunged, Msn, SelectedMailbox, Vanished
from buzon.storage.api import Changes, ModSeq, Snapshot, Uid
from tests.server.fixtures_multi import mailboxes_search
from tests.server.harness import PASSWORD, ServerThread, server_settings

# --- real client ---------------------------------------------------------------------------


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    with ServerThread(server_settings(tmp_path / "data")) as running:
        store = running.store
        assert store is not None
        running.call(lambda: mailboxes_search(store))
        yield running


@pytest.fixture
def imap(server: ServerThread, monkeypatch: pytest.MonkeyPatch) -> Iterator[imaplib.IMAP4_SSL]:
    # imaplib sends only the commands it knows; ESEARCH is RFC 7377's.
    monkeypatch.setitem(imaplib.Commands, "ESEARCH", ("AUTH", "SELECTED"))
    client = imaplib.IMAP4_SSL(
        "127.0.0.1", server.imaps_port, ssl_context=server.client_tls_context()
    )
    client.login("alice", PASSWORD)
    try:
        yield client
    finally:
        client.logout()


def _esearch(imap: imaplib.IMAP4_SSL, *args: str) -> list[bytes]:
    typ, data = imap._simple_command("ESEARCH", *args)
    assert typ == "OK", data
    _, found = imap._untagged_response(typ, data, "ESEARCH")
    return [x for x in found if isinstance(x, bytes)]


def test_imaplib_multisearch_over_tls(imap: imaplib.IMAP4_SSL) -> None:
    assert b"MULTISEARCH" in imap.capability()[1][0].split()
    found = _esearch(imap, "IN", "(subtree", "Work)", "RETURN", "(COUNT)", "SUBJECT", "invoice")
    counts = {}
    for line in found:
        m = re.fullmatch(rb'\(TAG "[^"]+" MAILBOX (\S+) UIDVALIDITY \d+\) UID COUNT (\d+)', line)
        assert m is not None, line
        counts[m.group(1).decode()] = int(m.group(2))
    assert counts == {"Work": 1, "Work/Q1": 2, "Work/Q1/Old": 1}
    # Not selected: the default source "selected" is refused.
    with pytest.raises(imaplib.IMAP4.error, match="selected mailbox"):
        imap._simple_command("ESEARCH", "ALL")
    assert imap.state == "AUTH"  # the search did not select anything


def test_imaplib_uidonly(imap: imaplib.IMAP4_SSL, server: ServerThread) -> None:
    assert b"UIDONLY" in imap.capability()[1][0].split()
    typ, _ = imap.enable("UIDONLY")
    assert typ == "OK"
    assert imap.untagged_responses.pop("ENABLED") == [b"UIDONLY"]
    imap.select("INBOX")
    typ, _ = imap.uid("FETCH", "2:3", "(FLAGS)")
    assert typ == "OK"
    _, fetched = imap._untagged_response("OK", [None], "UIDFETCH")
    assert fetched == [b"2 (FLAGS (\\Recent \\Seen))", b"3 (FLAGS (\\Recent))"]
    with pytest.raises(imaplib.IMAP4.error, match="UIDREQUIRED"):
        imap.fetch("1", "(FLAGS)")
    # An expunge by another client arrives as VANISHED, never EXPUNGE.
    other = imaplib.IMAP4_SSL(
        "127.0.0.1", server.imaps_port, ssl_context=server.client_tls_context()
    )
    other.login("alice", PASSWORD)
    other.select("INBOX")
    other.store("1", "+FLAGS.SILENT", "(\\Deleted)")
    other.expunge()
    other.logout()
    imap.noop()
    _, vanished = imap._untagged_response("OK", [None], "VANISHED")
    assert vanished == [b"1"]
    assert imap.untagged_responses.get("EXPUNGE") is None


# --- unit tables --------------------------------------------------------------------------

ALL = SequenceSet.of((1, 5))
KEY = k.And((k.FlagKey("\\Seen"), k.SequenceKey(SequenceSet.of(1))))


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (c.Fetch("t", ALL, (FetchAtt.FLAGS,)), True),
        (c.Fetch("t", ALL, (FetchAtt.FLAGS,), uid=True), False),
        (c.Store("t", ALL, StoreOperation.ADD, ()), True),
        (c.Copy("t", ALL, "Drafts"), True),
        (c.Move("t", ALL, "Drafts", uid=True), False),
        (c.Search("t", k.All()), True),
        (c.Search("t", k.All(), uid=True), False),
        (c.Search("t", KEY, uid=True), True),
        (c.Search("t", k.SequenceKey(SequenceSet(saved=True)), uid=True), False),
        (cx.Esearch("t", k.Not(KEY)), True),
        (cx.Esearch("t", k.Or(k.All(), k.UidKey(ALL))), False),
        (c.Expunge("t"), False),
        (c.Noop("t"), False),
    ],
)
def test_uses_msn(command: object, expected: bool) -> None:
    assert uidonly.uses_msn(command) is expected


def test_render_moves_the_uid_into_the_number() -> None:
    fetch = FetchData(3, (FetchUid(42), FetchFlags(("\\Seen",))))
    assert uidonly.render(fetch) == UidFetchData(42, (FetchFlags(("\\Seen",)),))
    assert uidonly.render(ExistsData(3)) == ExistsData(3)
    no_uid = FetchData(3, (FetchFlags(()),))
    assert uidonly.render(no_uid) is no_uid


SUBSCRIBED = frozenset({"Work/Q1"})


@pytest.mark.parametrize(
    ("kind", "names", "name", "expected"),
    [
        ("PERSONAL", (), "Work/Q1", True),
        ("PERSONAL", (), "Other Users/bob", False),
        ("INBOXES", (), "INBOX", True),
        ("SUBSCRIBED", (), "Work/Q1", True),
        ("SUBSCRIBED", (), "Work", False),
        ("SUBTREE", ("Work",), "Work/Q1/Old", True),
        ("SUBTREE", ("Work",), "Workshop", False),
        ("SUBTREE-ONE", ("Work",), "Work", True),
        ("SUBTREE-ONE", ("Work",), "Work/Q1", True),
        ("SUBTREE-ONE", ("Work",), "Work/Q1/Old", False),
        ("MAILBOXES", ("Work",), "Work", True),
        ("MAILBOXES", ("Work",), "Work/Q1", False),
        ("MAILBOXES", ("Wo*",), "Work", False),
    ],
)
def test_mailbox_filter(kind: str, names: tuple[str, ...], name: str, expected: bool) -> None:
    assert mailbox_filter.matches(kind, names, name, SUBSCRIBED) is expected


def test_canonical_inbox() -> None:
    assert mailbox_filter.canonical("inbox") == "INBOX"


def _view(*uids: int) -> SelectedMailbox:
    snapshot = Snapshot(
        uids=tuple(Uid(u) for u in uids),
        uidnext=Uid(max(uids, default=0) + 1),
        uidvalidity=7,
        highest_modseq=ModSeq(1),
        keywords=frozenset(),
        first_unseen=None,
        recent=(),
    )
    return SelectedMailbox(snapshot, read_only=True)


def test_lenient_msns_clips_to_the_mailbox() -> None:
    view = _view(10, 20, 30)
    assert lenient_msns(k.SequenceKey(SequenceSet.of((2, 100))), view) == k.UidKey(
        SequenceSet.of(20, 30)
    )
    assert lenient_msns(k.SequenceKey(SequenceSet.of((4, 9))), view) == k.Not(k.All())
    inner = k.Or(k.All(), k.SequenceKey(SequenceSet.of(1)))
    assert lenient_msns(k.Not(inner), view) == k.Not(k.Or(k.All(), k.UidKey(SequenceSet.of(10))))
    saved = k.SequenceKey(SequenceSet(saved=True))
    assert lenient_msns(saved, view) is saved


def test_drain_reports_vanished_without_modseq() -> None:
    """UIDONLY (RFC 9586 §3.4): VANISHED instead of EXPUNGE, flags without MODSEQ."""
    view = _view(1, 2, 3)
    view.apply(Changes(ModSeq(3), (), (Uid(2),), Uid(5)))
    assert view.drain(allow_expunge=True, condstore=False, qresync=False, vanished=True) == [
        Vanished((Uid(2),))
    ]
    view = _view(1, 2, 3)
    view.apply(Changes(ModSeq(3), (), (Uid(2),), Uid(5)))
    assert view.drain(allow_expunge=True, condstore=False, qresync=False) == [Expunged(Msn(2))]
    assert Exists(2) != Exists(3)  # the dataclasses compare by value
