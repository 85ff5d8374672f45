"""An in-process change bus.

`LocalBus` delivers notices to callbacks registered in this process. Backends call
`publish` on the event loop after their transaction committed; callbacks run
synchronously inside `publish` and should only queue work (wake an IDLE session, set an
event), then pull `Mailbox.changes_since`.

Across processes: another process (the CLI delivering mail, a second server) commits to
the same SQLite file without passing through this bus. A cross-process bus for SQLite
would watch `PRAGMA data_version` on a reader connection (it changes when another
connection commits) or a notification file/socket touched after commit, and then publish
`MailboxChanged` for the mailboxes whose `highest_modseq` moved. It is not built yet: a
session still sees such changes at its next command that pulls `changes_since`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from buzon.storage.api import ChangeNotice

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
        self._subs: dict[str, list[LocalSubscription]] = {}

    def subscribe(self, account: str, callback: Callback) -> LocalSubscription:
        sub = LocalSubscription(self, account, callback)
        self._subs.setdefault(account, []).append(sub)
        return sub

    def publish(self, notice: ChangeNotice) -> None:
        """Deliver `notice` to every subscriber of its account; a failing callback is logged."""
        for sub in list(self._subs.get(notice.account, ())):
            try:
                sub._deliver(notice)
            except Exception:
                log.exception("change bus subscriber failed")

    def subscriber_count(self, account: str) -> int:
        return len(self._subs.get(account, ()))

    def _remove(self, account: str, sub: LocalSubscription) -> None:
        subs = self._subs.get(account)
        if subs is None:
            return
        try:
            subs.remove(sub)
        except ValueError:
            return
        if not subs:
            del self._subs[account]
