"""An in-process change bus.

`LocalBus` delivers notices to callbacks registered in this process. Backends call
`publish` on the event loop after their transaction committed; callbacks run
synchronously inside `publish` and should only queue work (wake an IDLE session, set an
event), then pull `Mailbox.changes_since`.

Across processes: another process (the CLI delivering mail, a second server) commits to
the same SQLite file without passing through this bus. `storage/sqlite/watch.py` watches
`PRAGMA data_version` and publishes here for the mailboxes whose `highest_modseq` moved
(the server opens its store with `watch=True`). To stay quiet about this process's own
changes it asks `published_modseq`, the last modseq published per mailbox.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from buzon.storage.api import ChangeNotice, MailboxChanged, MetadataChanged

log = logging.getLogger(__name__)

Callback = Callable[[ChangeNotice], None]


class LocalSubscription:
    """A registration on a `LocalBus`; `cancel` is idempotent."""

    __slots__ = ("_account", "_bus", "_callback")

    def __init__(self, bus: LocalBus, account: str, callback: Callback) -> None:
        self._bus = bus
        self._account = account
        self._callback = callback

    def cancel(self) -> None:
        self._bus._remove(self._account, self)

    def _deliver(self, notice: ChangeNotice) -> None:
        self._callback(notice)


class LocalBus:
    """`ChangeBus` for one process; call `publish` on the event loop."""

    def __init__(self) -> None:
        # Per account, its subscriptions in order (a dict: one account may have thousands
        # of sessions, each cancelled in O(1)).
        self._subs: dict[str, dict[LocalSubscription, None]] = {}
        self._published: dict[str, int] = {}  # mailbox id -> last modseq published

    def subscribe(self, account: str, callback: Callback) -> LocalSubscription:
        sub = LocalSubscription(self, account, callback)
        self._subs.setdefault(account, {})[sub] = None
        return sub

    def publish(self, notice: ChangeNotice) -> None:
        """Deliver `notice` to every subscriber of its account; a failing callback is logged."""
        if isinstance(notice, MailboxChanged):
            last = self._published.get(notice.mailbox_id, 0)
            self._published[notice.mailbox_id] = max(last, notice.modseq)
        if isinstance(notice, MetadataChanged) and notice.everyone:
            subs = [s for each in self._subs.values() for s in each]  # a server /shared entry
        else:
            subs = list(self._subs.get(notice.account, ()))
        for sub in subs:
            try:
                sub._deliver(notice)
            except Exception:
                log.exception("change bus subscriber failed")

    def accounts(self) -> frozenset[str]:
        """The accounts that have at least one subscriber."""
        return frozenset(self._subs)

    def published_modseq(self, mailbox_id: str) -> int:
        """The highest modseq published for the mailbox so far (0: none)."""
        return self._published.get(mailbox_id, 0)

    def subscriber_count(self, account: str) -> int:
        return len(self._subs.get(account, ()))

    def _remove(self, account: str, sub: LocalSubscription) -> None:
        subs = self._subs.get(account)
        if subs is None or sub not in subs:
            return  # cancelled before
        del subs[sub]
        if not subs:
            del self._subs[account]
