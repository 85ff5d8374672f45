"""FETCH and UID FETCH (RFC 9051 §6.4.5, RFC 3516 BINARY, RFC 7162 CHANGEDSINCE/VANISHED).

Metadata comes from one `fetch_meta` query per chunk of messages; message files are opened
only when a body section is asked for (ARCHITECTURE.md, "Batch per command").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

from buzon.imap import commands as c
from buzon.imap.commands_values import (
    FetchAtt,
    FetchBinary,
    FetchBody,
    FetchPreview,
)
from buzon.imap.commands_values import FetchBinarySize as WantBinarySize
from buzon.imap.commands_values import FetchItem as Wanted
from buzon.imap.fetchrender import render_body, render_envelope
from buzon.imap.responses import (
    Code,
    FetchBinarySize,
    FetchData,
    FetchEmailId,
    FetchFlags,
    FetchInternalDate,
    FetchItem,
    FetchModSeq,
    FetchRaw,
    FetchSaveDate,
    FetchSection,
    FetchSize,
    FetchThreadId,
    FetchUid,
    Response,
    VanishedData,
)
from buzon.imap.responses import FetchPreview as PreviewData
from buzon.imap.sections import (
    apply_partial,
    binary_bytes,
    binary_size,
    header_section,
    response_name,
    rfc822_section,
    section_bytes,
)
from buzon.imap.words import ResponseCode
from buzon.mime import ParsedMessage
from buzon.server import fetchbodies, fetchenvelope, fetchflags, fetchwhole, rev2, selection
from buzon.server.cmd_select import resolve
from buzon.server.fetchwhole import header_item, sets_seen, whole
from buzon.server.outcome import Bad, No, Ok
from buzon.storage.api import FlagOp, Mailbox, MessageMeta, MetaItem, ModSeq, Uid

if TYPE_CHECKING:
    from buzon.server.connection import Connection

SEEN = "\\Seen"
# Message bytes whose responses are written together (fewer, larger writes).
_HOLD_BYTES = 256 * 1024
# Messages handled per storage round trip: bounds memory for FETCH 1:* on a big mailbox.
_CHUNK = 500
# Items answered from the metadata row alone, without the stored MIME structure.
_META_ONLY = frozenset(
    {
        FetchAtt.UID,
        FetchAtt.FLAGS,
        FetchAtt.INTERNALDATE,
        FetchAtt.RFC822_SIZE,
        FetchAtt.MODSEQ,
        FetchAtt.RFC822,
        FetchAtt.EMAILID,
        FetchAtt.THREADID,
        FetchAtt.SAVEDATE,
        FetchPreview(),
        FetchPreview(lazy=True),
    }
)
_EXPUNGED_MEANWHILE = "Some messages were expunged by another session"
# Items read from `fetch_meta` as they are (RFC 8474 §5.3, RFC 8514 §4.2, RFC 8970 §3).
_STORED = {
    FetchAtt.EMAILID: MetaItem.EMAILID,
    FetchAtt.THREADID: MetaItem.THREADID,
    FetchAtt.SAVEDATE: MetaItem.SAVE_DATE,
    FetchPreview(): MetaItem.PREVIEW,
    FetchPreview(lazy=True): MetaItem.PREVIEW,
}


def _needs_content(item: Wanted) -> bool:
    return isinstance(item, FetchBody | FetchBinary | WantBinarySize) or item in {
        FetchAtt.RFC822,
        FetchAtt.RFC822_HEADER,
        FetchAtt.RFC822_TEXT,
    }


async def handle_fetch(conn: Connection, cmd: c.Fetch) -> Ok:
    """RFC 9051 §6.4.5 and §6.4.9 (UID FETCH)."""
    sel = conn.selection
    assert sel is not None
    view = sel.view
    items: list[Wanted] = list(cmd.items)
    if cmd.uid and FetchAtt.UID not in items:
        # RFC 9051 §6.4.9: UID FETCH responses always carry the UID.
        items.insert(0, FetchAtt.UID)
    if cmd.changedsince is not None or FetchAtt.MODSEQ in items:
        # RFC 7162 §3.1: both are CONDSTORE enabling.
        conn.session.enabled.add(selection.CONDSTORE)
        if FetchAtt.MODSEQ not in items:
            items.append(FetchAtt.MODSEQ)
    if cmd.vanished and not (
        cmd.uid and cmd.changedsince is not None and selection.qresync_on(conn)
    ):
        # RFC 7162 §3.2.6: VANISHED needs UID FETCH, CHANGEDSINCE and ENABLE QRESYNC.
        raise Bad("VANISHED needs UID FETCH with CHANGEDSINCE after ENABLE QRESYNC")
    uids = resolve(view, cmd.sequence_set, uid=cmd.uid)
    if cmd.vanished and cmd.changedsince is not None:
        changes = await sel.mailbox.changes_since(ModSeq(cmd.changedsince))
        largest = changes.uidnext - 1
        gone = [u for u in changes.expunged if cmd.sequence_set.contains(u, largest)]
        if gone:
            await conn.send(VanishedData(gone, earlier=True))
    simple = fetchflags.line_items(conn, items)
    if simple is not None:
        if await fetchflags.fetch_flags(conn, simple, uids, cmd.changedsince):
            raise No(_EXPUNGED_MEANWHILE, Code(ResponseCode.EXPUNGEISSUED))
        return Ok()
    listing = fetchenvelope.envelope_items(conn, items)
    if listing is not None:
        if await fetchenvelope.fetch_envelopes(conn, listing, uids, cmd.changedsince):
            raise No(_EXPUNGED_MEANWHILE, Code(ResponseCode.EXPUNGEISSUED))
        return Ok()
    lines = fetchwhole.whole_items(conn, items)
    if lines is not None:
        if await fetchwhole.fetch_whole(conn, lines, uids, cmd.changedsince):
            raise No(_EXPUNGED_MEANWHILE, Code(ResponseCode.EXPUNGEISSUED))
        return Ok()

    meta_items: set[MetaItem] = {_STORED[item] for item in items if item in _STORED}
    # RFC 8970 §4.1: only PREVIEW without LAZY must compute what is not stored yet.
    preview_now = FetchPreview() in items
    if FetchAtt.INTERNALDATE in items:
        meta_items.add(MetaItem.INTERNAL_DATE)
    if FetchAtt.RFC822_SIZE in items:
        meta_items.add(MetaItem.SIZE)
    content = any(_needs_content(item) for item in items)
    # A message list (header fields with flags and numbers): from the stored headers,
    # neither the messages nor their structure read (issue: metadata without files).
    headers_only = content and all(header_item(i) for i in items if _needs_content(i))
    needs_structure = [
        item
        for item in items
        if item not in _META_ONLY and not whole(item) and not (headers_only and header_item(item))
    ]
    if needs_structure == [FetchAtt.ENVELOPE]:
        # Only the envelope: the storage skips building the MIME part tree.
        meta_items.add(MetaItem.ENVELOPE)
    elif needs_structure:
        meta_items.add(MetaItem.STRUCTURE)
    if content and not headers_only:
        meta_items.add(MetaItem.SIZE)  # to read the bodies in batches of bounded size
    wanted = frozenset(meta_items)
    mark_seen = not view.read_only and any(sets_seen(item) for item in items)
    utf8 = rev2.utf8(conn.session)

    missing = False
    only_uid = all(item is FetchAtt.UID for item in items)
    for start in range(0, len(uids), _CHUNK):
        chunk = uids[start : start + _CHUNK]
        metas = await sel.mailbox.fetch_meta(chunk, wanted)
        if preview_now:
            metas = await _fill_previews(sel.mailbox, metas)
        newly_seen: set[Uid] = set()
        if mark_seen:
            metas, newly_seen = await _mark_seen(conn, metas)
        found = {meta.uid: meta for meta in metas}
        wanted_uids = [
            uid
            for uid in chunk
            if uid in found and (cmd.changedsince is None or found[uid].modseq > cmd.changedsince)
        ]
        heads = await sel.mailbox.read_headers(wanted_uids) if headers_only else {}
        bodies = content and not headers_only
        contents = fetchbodies.Contents(
            sel.mailbox, [(uid, found[uid].size or 0) for uid in wanted_uids] if bodies else []
        )
        try:
            out: list[Response] = []
            held = 0  # message bytes behind the responses in `out`
            for uid in chunk:
                msn = view.msn_of(uid)
                meta = found.get(uid)
                if msn is None:
                    continue
                if meta is None:
                    # Expunged by another session and not yet announced (RFC 2180 §4.1): the
                    # UID is still known; anything else is gone with the message.
                    if only_uid:
                        out.append(FetchData(msn, (FetchUid(uid),)))
                    else:
                        missing = True
                    continue
                if cmd.changedsince is not None and meta.modseq <= cmd.changedsince:
                    continue
                head = heads.get(uid)
                raw = await contents.get(uid) if bodies else b""
                if raw is None or (headers_only and head is None):
                    missing = True  # expunged between the two queries
                    continue
                answer = _answer(conn, items, meta, raw, head, utf8=utf8)
                if uid in newly_seen and FetchAtt.FLAGS not in items:
                    # RFC 9051 §6.4.5: the implicitly set \Seen is reported.
                    answer.append(FetchFlags(tuple(sorted(view.shown_flags(uid, meta.flags)))))
                out.append(FetchData(msn, tuple(answer)))
                held += len(raw)
                if held >= _HOLD_BYTES:
                    # Bodies go out a few at a time: memory stays bounded.
                    await conn.send_all(out)
                    out.clear()
                    held = 0
            await conn.send_all(out)
        finally:
            contents.close()
    if missing:
        # RFC 2180 §4.1.2, RFC 5530: some messages were expunged by another session.
        raise No(_EXPUNGED_MEANWHILE, Code(ResponseCode.EXPUNGEISSUED))
    return Ok()


async def _mark_seen(
    conn: Connection, metas: Sequence[MessageMeta]
) -> tuple[list[MessageMeta], set[Uid]]:
    """Set \\Seen on the unseen ones; return the metas with their new flags and modseqs."""
    sel = conn.selection
    assert sel is not None
    unseen = [m.uid for m in metas if SEEN not in m.flags]
    if not unseen:
        return list(metas), set()
    result = await sel.mailbox.store_flags(unseen, FlagOp.ADD, frozenset({SEEN}))
    sel.view.note_flags(result.updated)
    changed = {mf.uid: mf for mf in result.updated}
    updated = []
    for meta in metas:
        mf = changed.get(meta.uid)
        if mf is None:
            updated.append(meta)
        else:
            updated.append(dataclasses.replace(meta, flags=mf.flags, modseq=mf.modseq))
    return updated, set(changed)


async def _fill_previews(mailbox: Mailbox, metas: list[MessageMeta]) -> list[MessageMeta]:
    """Previews of messages stored before previews existed, computed now (RFC 8970 §3.2:
    NIL only with LAZY)."""
    missing = [m.uid for m in metas if m.preview is None]
    if not missing:
        return metas
    found = await mailbox.previews(missing)
    return [
        dataclasses.replace(m, preview=found.get(m.uid, "")) if m.preview is None else m
        for m in metas
    ]


def _answer(
    conn: Connection,
    items: Sequence[Wanted],
    meta: MessageMeta,
    raw: bytes,
    head: tuple[bytes, bool] | None,
    *,
    utf8: bool,
) -> list[FetchItem]:
    """The items of one message; `head` (its stored header, `Mailbox.read_headers`)
    stands in for `raw` and the structure when only header sections are asked."""
    sel = conn.selection
    assert sel is not None
    structure = meta.structure
    out: list[FetchItem] = []
    for item in items:
        match item:
            case FetchAtt.UID:
                out.append(FetchUid(meta.uid))
            case FetchAtt.FLAGS:
                out.append(FetchFlags(tuple(sorted(sel.view.shown_flags(meta.uid, meta.flags)))))
            case FetchAtt.INTERNALDATE:
                assert meta.internal_date is not None
                out.append(FetchInternalDate(meta.internal_date))
            case FetchAtt.RFC822_SIZE:
                assert meta.size is not None
                out.append(FetchSize(meta.size))
            case FetchAtt.MODSEQ:
                out.append(FetchModSeq(meta.modseq))
            case FetchAtt.EMAILID:
                assert meta.emailid is not None
                out.append(FetchEmailId(meta.emailid))
            case FetchAtt.THREADID:
                out.append(FetchThreadId(meta.threadid))
            case FetchAtt.SAVEDATE:
                out.append(FetchSaveDate(meta.save_date))
            case FetchPreview():
                out.append(PreviewData(meta.preview))
            case FetchAtt.ENVELOPE:
                envelope = meta.envelope or _s(structure).envelope
                out.append(FetchRaw("ENVELOPE", render_envelope(envelope, utf8=utf8)))
            case FetchAtt.BODY:
                out.append(
                    FetchRaw("BODY", render_body(_s(structure).root, extended=False, utf8=utf8))
                )
            case FetchAtt.BODYSTRUCTURE:
                out.append(
                    FetchRaw(
                        "BODYSTRUCTURE", render_body(_s(structure).root, extended=True, utf8=utf8)
                    )
                )
            case FetchAtt.RFC822:
                out.append(FetchSection("RFC822", raw))
            case FetchAtt.RFC822_HEADER if head is not None:
                out.append(FetchSection(item.value, header_section(*head, rfc822_section(item))))
            case FetchAtt.RFC822_HEADER | FetchAtt.RFC822_TEXT:
                data = section_bytes(raw, _s(structure), rfc822_section(item))
                out.append(FetchSection(item.value, data))
            case FetchBody(partial=partial) if whole(item):
                # BODY[]: the message as stored, no structure needed (RFC 9051 §6.4.5).
                data = apply_partial(raw, partial)
                out.append(FetchSection(response_name(item, utf8=utf8), data))
            case FetchBody(section=section, partial=partial) if head is not None:
                data = header_section(*head, section, partial=partial)
                out.append(FetchSection(response_name(item, utf8=utf8), data))
            case FetchBody(section=section, partial=partial):
                data = section_bytes(raw, _s(structure), section, partial=partial)
                out.append(FetchSection(response_name(item, utf8=utf8), data))
            case FetchBinary(part=part, partial=partial):
                decoded = binary_bytes(raw, _s(structure), part)
                if decoded is None:
                    # RFC 3516 §4.3: a transfer encoding the server cannot decode.
                    raise No("Unknown Content-Transfer-Encoding", Code(ResponseCode.UNKNOWN_CTE))
                out.append(
                    FetchSection(
                        response_name(item, utf8=utf8), apply_partial(decoded, partial), binary=True
                    )
                )
            case WantBinarySize(part=part):
                size = binary_size(raw, _s(structure), part)
                if size is None:
                    raise No("Unknown Content-Transfer-Encoding", Code(ResponseCode.UNKNOWN_CTE))
                out.append(FetchBinarySize(".".join(map(str, part)), size))
    return out


def _s(structure: ParsedMessage | None) -> ParsedMessage:
    assert structure is not None, "STRUCTURE was asked of fetch_meta"
    return structure
