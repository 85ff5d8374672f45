"""The multimailbox ESEARCH command (RFC 7377, MULTISEARCH).

Theory of operation
-------------------
`ESEARCH [IN (filters)] [RETURN (...)] [CHARSET c] criteria` runs one search program in
each mailbox the source filters name and answers one `* ESEARCH (TAG "t" MAILBOX "m"
UIDVALIDITY n) UID ...` per mailbox that has matches (RFC 7377 §2.1): always UIDs, never
a response for a mailbox without matches, RETURN () or no RETURN meaning ALL.

Mailboxes are resolved by `mailbox_filter` (shared with NOTIFY): nonexistent or
non-selectable ones are skipped silently, so a client cannot tell a missing mailbox from
one it may not see (RFC 7377 §2.2, §5). Without IN the source is "selected".

The selected mailbox is searched through the session's view (what the client knows, "$",
\\Recent), as UID SEARCH would. Any other mailbox is searched through a read-only
snapshot view of it, so UID sets ("*") resolve against that mailbox; nothing is claimed or
changed there, and the selection is left alone (§2.1).

Decisions (RFC 7377 §2, §2.2):
- Message sequence numbers, "$" and RETURN (SAVE) only when "selected" is the sole source;
  otherwise BAD. Numbers beyond the end of the mailbox are not an error (§2): they match
  nothing.
- "selected" (given or by default) in the authenticated state is BAD; so is
  "selected-delayed".
- Mailboxes are searched one after another: the selected one first, then INBOX, then the
  rest by name. There is no limit on their number beyond what LIST shows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from buzon.imap import commands as c
from buzon.imap import commands_ext as cx
from buzon.imap import searchkeys as k
from buzon.imap.commands_values import SequenceSet
from buzon.imap.responses import ESearchData
from buzon.server import mailbox_filter, search, selection
from buzon.server.outcome import Bad, Ok
from buzon.server.selected import SelectedMailbox
from buzon.server.uidonly import has_msn
from buzon.storage.api import INBOX, Mailbox, MailboxInfo, ModSeq, NotFound, Uid

if TYPE_CHECKING:
    from buzon.server.connection import Connection

__all__ = ["handle_esearch", "lenient_msns"]

_SELECTED = "SELECTED"


def _uses_saved(key: k.SearchKey) -> bool:
    return any(
        isinstance(leaf, k.SequenceKey | k.UidKey) and leaf.sequence_set.saved
        for leaf in k.leaves(key)
    )


def lenient_msns(key: k.SearchKey, view: SelectedMailbox) -> k.SearchKey:
    """The key with sequence numbers turned into the UIDs they name in `view`.

    RFC 7377 §2: a range of message numbers beyond the end of the mailbox "MUST NOT be
    considered an error"; here it names no message.
    """
    match key:
        case k.SequenceKey(sequence_set=seqset) if not seqset.saved:
            uids = view.uids()
            count = len(uids)
            named = [
                uids[n - 1]
                for lo, hi in seqset.iter_ranges(count)
                for n in range(max(lo, 1), min(hi, count) + 1)
            ]
            if not named:
                return k.Not(k.All())
            return k.UidKey(SequenceSet.of(*(int(u) for u in named)))
        case k.Not(key=inner):
            return k.Not(lenient_msns(inner, view))
        case k.Or(left=left, right=right):
            return k.Or(lenient_msns(left, view), lenient_msns(right, view))
        case k.And(keys=keys):
            return k.And(tuple(lenient_msns(x, view) for x in keys))
    return key


def _check(conn: Connection, cmd: cx.Esearch, kinds: set[str]) -> None:
    """The RFC 7377 §2.2 rules that make the command BAD."""
    if "SELECTED-DELAYED" in kinds:
        raise Bad("selected-delayed is not a source for ESEARCH")  # §2.2, item 1
    if _SELECTED in kinds and conn.selection is None:
        raise Bad("ESEARCH on the selected mailbox needs a selected mailbox")
    if kinds != {_SELECTED}:
        if cmd.returns is not None and c.SearchReturn.SAVE in cmd.returns:
            raise Bad("RETURN (SAVE) needs the selected mailbox as the only source")
        if _uses_saved(cmd.key):
            raise Bad("$ needs the selected mailbox as the only source")
        if has_msn(cmd.key):
            raise Bad("Message numbers need the selected mailbox as the only source")


async def _targets(
    conn: Connection, sources: Sequence[cx.MailboxFilter]
) -> list[MailboxInfo | None]:
    """The mailboxes to search, in order; None stands for the selected mailbox."""
    account = conn.session.account
    assert account is not None
    sel = conn.selection
    selected_id = None if sel is None else sel.mailbox.info.mailbox_id
    out: list[MailboxInfo | None] = []
    if any(f.kind == _SELECTED for f in sources):
        out.append(None)
    others = [f for f in sources if f.kind != _SELECTED]
    if not others:
        return out
    subscribed: frozenset[str] = frozenset()
    if any(f.kind == "SUBSCRIBED" for f in others):
        subscribed = frozenset(await account.subscriptions())
    filters = [(f.kind, tuple(mailbox_filter.canonical(n) for n in f.mailboxes)) for f in others]
    infos = sorted(await account.list_mailboxes(), key=lambda m: (m.name != INBOX, m.name))
    for info in infos:
        if not info.selectable:
            continue
        if not any(mailbox_filter.matches(kd, ns, info.name, subscribed) for kd, ns in filters):
            continue
        if info.mailbox_id == selected_id:
            if None not in out:
                out.append(None)  # the session's view of it, searched once
            continue
        out.append(info)
    return out


async def _search(
    mailbox: Mailbox, view: SelectedMailbox, key: k.SearchKey
) -> tuple[list[Uid], list[ModSeq]]:
    """The UIDs in `view` matching `key`, ascending, with their modseqs."""
    query = search.to_query(lenient_msns(key, view), view, dt.datetime.now(dt.UTC))
    return search.known(view, await mailbox.search(query))


async def handle_esearch(conn: Connection, cmd: cx.Esearch) -> Ok:
    """RFC 7377 §2: search the mailboxes the source options name."""
    sources = cmd.sources or (cx.MailboxFilter(_SELECTED),)
    _check(conn, cmd, {f.kind for f in sources})
    search.check_charset(cmd.charset)  # RFC 7377 §2: NO [BADCHARSET]
    # RFC 7377 §2.1: no result option means ALL.
    wants = cmd.returns if cmd.returns is not None else frozenset({c.SearchReturn.ALL})
    with_modseq = search.uses_modseq(cmd.key)
    if with_modseq:
        # RFC 7162 §3.1.5: SEARCH MODSEQ is a CONDSTORE enabling command.
        conn.session.enabled.add(selection.CONDSTORE)
    account = conn.session.account
    assert account is not None
    for target in await _targets(conn, sources):
        if target is None:
            sel = conn.selection
            assert sel is not None
            mailbox, view = sel.mailbox, sel.view
        else:
            try:
                mailbox = await account.open_mailbox(target.name, read_only=True)
                snapshot = await mailbox.snapshot(claim_recent=False)
            except NotFound:
                continue  # deleted meanwhile: as if it had not existed
            view = SelectedMailbox(snapshot, read_only=True)
        uids, modseqs = await _search(mailbox, view, cmd.key)
        if target is None and c.SearchReturn.SAVE in wants:
            view.saved = search.saved_result(uids, wants)  # RFC 5182 §2.4
            if wants == {c.SearchReturn.SAVE}:
                continue  # RFC 5182 §2.4: SAVE alone suppresses the ESEARCH response
        if not uids:
            continue  # RFC 7377 §2.1: no response for a mailbox without matches
        items = search.result_items(uids, modseqs, wants, cmd.partial, with_modseq=with_modseq)
        await conn.send(
            ESearchData(
                cmd.tag, True, items, mailbox=mailbox.info.name, uidvalidity=view.uidvalidity
            )
        )
    return Ok()
