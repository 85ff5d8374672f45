"""`buzon import` and `buzon export`: mbox files and Maildir trees in and out of an account.

Theory of operation
-------------------
Import streams: a source (an mbox file, or a Maildir folder) yields one message at a
time; messages go to the store in batches (`batch_messages` or `batch_bytes`, whichever
comes first), each batch one `Mailbox.import_messages` call and so one transaction,
which is what makes a thousand messages a second possible. With the batch the
transaction records a `Checkpoint`: for an mbox the byte offset just past the batch
(plus a digest of the file up to there, at most its first 64 kB, so that a different
file at the same path starts over), for a Maildir folder the key of the last file. A
re-run reads the checkpoint and skips what is already in, so an interrupted import
resumes without duplicates, and a finished one imports only what was added since.

Line ends: the store keeps CRLF (RFC 5322 §2.1); mbox and Maildir files use LF, so
import converts LF to CRLF and export converts back. A file whose lines end in LF (the
conventional form) therefore comes back byte for byte; one with CRLF comes back with LF.

Layout: a single mbox file goes to `--mailbox` (INBOX by default). A directory with
`cur/` or `new/` is a Maildir++ tree (with Dovecot's `subscriptions` file when present:
it decides which folders are subscribed). Any other directory is a tree of mbox files in
Thunderbird's layout: file `A` is mailbox A, `A.sbd/B` is A/B, `INBOX` is INBOX. Export
writes the same layouts; with `--mailbox` it writes just that mailbox as a single mbox
file or a single Maildir.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

from buzon.cli import maildir, mbox
from buzon.cli.progress import Progress
from buzon.mime import normalize_crlf
from buzon.storage.api import (
    INBOX,
    Account,
    AlreadyExists,
    AppendRequest,
    Checkpoint,
    InvalidName,
    Mailbox,
    MetaItem,
    NotFound,
    Store,
    Uid,
)
from buzon.storage.names import normalize_mailbox_name

FINGERPRINT_BYTES = 65536
SBD = ".sbd"
SKIP_FILES = (".msf", ".lock", ".dat")


@dataclass(frozen=True, slots=True)
class ImportOptions:
    mailbox: str | None = None
    batch_messages: int = 500
    batch_bytes: int = 8 << 20


@dataclass(frozen=True, slots=True)
class _Item:
    request: AppendRequest
    size: int  # bytes read from the source
    position: str  # checkpoint once this message is in
    uid: int = 0  # wanted UID, 0 for none


class TransferError(Exception):
    """The source or destination cannot be used (the message says why)."""


def lf(content: bytes) -> bytes:
    return content.replace(b"\r\n", b"\n")


def _target(prefix: str | None, name: str) -> str:
    if prefix is None:
        return name
    return prefix if name == INBOX else f"{prefix}/{name}"


async def _open_target(
    account: Account, name: str, progress: Progress, *, subscribe: bool = True
) -> Mailbox:
    name = normalize_mailbox_name(name)
    with contextlib.suppress(AlreadyExists):
        await account.create_mailbox(name)
    if subscribe:
        await account.subscribe(name)
    progress.folder(name)
    return await account.open_mailbox(name)


async def _pump(
    mailbox: Mailbox,
    source: str,
    items: Iterator[_Item],
    options: ImportOptions,
    progress: Progress,
    *,
    keep_uids: bool = False,
    uidnext: int | None = None,
) -> None:
    """Append `items` in batches, each with its checkpoint in the same transaction.

    Two batches are in flight: the store parses one while it writes the other
    (`import_messages` commits them in call order).
    """
    in_flight: asyncio.Task[None] | None = None

    async def send(batch: list[_Item], final: bool) -> None:
        checkpoint = Checkpoint(source, batch[-1].position) if batch else None
        await mailbox.import_messages(
            [i.request for i in batch],
            uids=[Uid(i.uid) for i in batch] if keep_uids else None,
            uidnext=Uid(uidnext) if final and keep_uids and uidnext else None,
            checkpoint=checkpoint,
        )
        progress.add(len(batch), sum(i.size for i in batch))

    async def submit(batch: list[_Item], final: bool) -> None:
        nonlocal in_flight
        task = asyncio.create_task(send(batch, final))
        await asyncio.sleep(0)  # let it take its place in the commit order
        previous, in_flight = in_flight, task
        if previous is not None:
            await previous

    try:
        batch: list[_Item] = []
        size = 0
        for item in items:
            batch.append(item)
            size += item.size
            if len(batch) >= options.batch_messages or size >= options.batch_bytes:
                await submit(batch, False)
                batch, size = [], 0
        if batch or (keep_uids and uidnext):
            await submit(batch, True)
        if in_flight is not None:
            await in_flight
    except BaseException:
        # The batch behind a failed one fails too (the store commits in order): collect it.
        if in_flight is not None:
            with contextlib.suppress(Exception):
                await in_flight
        raise


# --- mbox -----------------------------------------------------------------------------------


def _fingerprint(path: Path, offset: int) -> str:
    """A digest of the file's start, up to `offset`: unchanged when mail is appended."""
    with path.open("rb") as f:
        return hashlib.sha256(f.read(min(offset, FINGERPRINT_BYTES))).hexdigest()[:16]


def _mbox_items(path: Path, start: int) -> Iterator[_Item]:
    whole: str | None = None  # the fingerprint once past FINGERPRINT_BYTES
    with path.open("rb") as f:
        previous = start
        for message in mbox.read_mbox(f, start):
            content = message.content
            if message.end < FINGERPRINT_BYTES:
                fingerprint = _fingerprint(path, message.end)
            else:
                whole = whole or _fingerprint(path, FINGERPRINT_BYTES)
                fingerprint = whole
            yield _Item(
                AppendRequest(
                    normalize_crlf(content),
                    mbox.flags_from_headers(content),
                    message.internal_date,
                ),
                message.end - previous,
                f"{message.end} {fingerprint}",
            )
            previous = message.end


async def _resume_offset(account: Account, source: str, path: Path) -> int:
    saved = await account.import_position(source)
    if saved is None:
        return 0
    offset_text, _, saved_print = saved.partition(" ")
    offset = int(offset_text)
    if offset > path.stat().st_size or saved_print != _fingerprint(path, offset):
        print(f"buzon: {path} changed since the last import; reading it all", file=sys.stderr)
        return 0
    with path.open("rb") as f:
        f.seek(offset)
        head = f.read(5)
    return offset if head in (b"", b"From ") else 0


async def _import_mbox(
    account: Account, path: Path, name: str, options: ImportOptions, progress: Progress
) -> None:
    source = f"mbox:{path.resolve()}"
    start = await _resume_offset(account, source, path)
    progress.skipped_bytes(start)
    mailbox = await _open_target(account, name, progress)
    await _pump(mailbox, source, _mbox_items(path, start), options, progress)


def _mbox_tree(root: Path) -> Iterator[tuple[Path, str]]:
    """(file, mailbox name) of a Thunderbird-style mbox tree, parents first."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        rel = Path(dirpath).relative_to(root)
        parents = [p.removesuffix(SBD) for p in rel.parts]
        for file in sorted(filenames):
            if file.startswith(".") or file.endswith(SKIP_FILES):
                continue
            yield Path(dirpath) / file, "/".join([*parents, file])


# --- Maildir ----------------------------------------------------------------------------


def _maildir_items(folder: maildir.MaildirFolder, after: str | None) -> Iterator[_Item]:
    for entry in folder.entries:
        if after is not None and entry.key <= after:
            continue
        content = entry.path.read_bytes()
        yield _Item(
            AppendRequest(normalize_crlf(content), entry.flags, entry.internal_date),
            len(content),
            entry.key,
            entry.uid or 0,
        )


async def _import_maildir(
    account: Account, root: Path, options: ImportOptions, progress: Progress
) -> None:
    """Folders, messages, and (from Dovecot's `subscriptions` file) subscriptions.

    With a `subscriptions` file the subscribed folders are those it lists (a listed name
    without a folder too, as IMAP allows); without one every imported folder is subscribed.
    """
    subscribed = maildir.read_subscriptions(root)
    if subscribed is not None:
        for name in subscribed:
            with contextlib.suppress(InvalidName):
                await account.subscribe(_target(options.mailbox, name))
    for folder in maildir.read_tree(root):
        source = f"maildir:{folder.path.resolve()}"
        after = await account.import_position(source)
        target = _target(options.mailbox, folder.name)
        mailbox = await _open_target(account, target, progress, subscribe=subscribed is None)
        keep = False
        if folder.uidvalidity:
            await mailbox.adopt_uidvalidity(folder.uidvalidity)
            keep = (await mailbox.status()).uidvalidity == folder.uidvalidity
        if after is not None:
            done = [e for e in folder.entries if e.key <= after]
            progress.skipped += len(done)
            progress.skipped_bytes(sum(e.size for e in done))
        items = _maildir_items(folder, after)
        await _pump(
            mailbox, source, items, options, progress, keep_uids=keep, uidnext=folder.uidnext
        )


def source_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(
        (Path(d) / f).stat().st_size
        for d, _, files in os.walk(path)
        for f in files
        if not f.startswith(("dovecot", "."))
    )


async def import_path(
    store: Store, user: str, path: Path, options: ImportOptions, progress: Progress
) -> None:
    """Import an mbox file, an mbox tree or a Maildir++ tree into `user`'s account."""
    account = await store.open_account(user)
    if path.is_file():
        await _import_mbox(account, path, options.mailbox or INBOX, options, progress)
    elif path.is_dir() and maildir.is_maildir(path):
        await _import_maildir(account, path, options, progress)
    elif path.is_dir():
        for file, name in _mbox_tree(path):
            await _import_mbox(account, file, _target(options.mailbox, name), options, progress)
    else:
        raise TransferError(f"{path}: no such file or directory")


# --- export -------------------------------------------------------------------------------

_EXPORT_META = frozenset({MetaItem.INTERNAL_DATE})
_CHUNK = 1000


async def _each(mailbox: Mailbox) -> AsyncIterator[maildir.OutMessage]:
    """Every message of a mailbox in UID order, LF line ends, metadata 1,000 at a time."""
    uids = (await mailbox.snapshot(claim_recent=False)).uids
    for i in range(0, len(uids), _CHUNK):
        for meta in await mailbox.fetch_meta(uids[i : i + _CHUNK], _EXPORT_META):
            assert meta.internal_date is not None
            try:
                content = await mailbox.read_message(meta.uid)
            except NotFound:  # expunged meanwhile
                continue
            yield maildir.OutMessage(
                meta.uid, lf(content), meta.flags, meta.internal_date, len(content)
            )


def mbox_file_name(name: str) -> Path:
    """Thunderbird's layout: A/B/C is A.sbd/B.sbd/C."""
    parts = name.split("/")
    return Path(*[p + SBD for p in parts[:-1]], parts[-1])


async def _export_mbox(mailbox: Mailbox, file: Path, progress: Progress) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    with file.open("wb") as out:
        async for message in _each(mailbox):
            content = mbox.with_flag_headers(message.content, message.flags)
            progress.add(1, mbox.write_message(out, content, message.internal_date))


async def _export_maildir(
    mailbox: Mailbox, directory: Path, progress: Progress, *, subfolder: bool
) -> None:
    snapshot = await mailbox.snapshot(claim_recent=False)
    writer = maildir.FolderWriter(
        directory,
        subfolder=subfolder,
        keywords=sorted(snapshot.keywords),
        uidvalidity=snapshot.uidvalidity,
        uidnext=snapshot.uidnext,
    )
    if writer.dropped:
        print(
            f"buzon: {mailbox.info.name}: Maildir keeps 26 keywords per folder;"
            f" not written: {' '.join(writer.dropped)}",
            file=sys.stderr,
        )
    async for message in _each(mailbox):
        progress.add(1, writer.add(message))
    writer.close()


async def export_account(
    store: Store, user: str, path: Path, *, fmt: str, name: str | None, progress: Progress
) -> None:
    """Write `user`'s mailboxes (or only `name`) to `path` as mbox or Maildir."""
    if path.is_file() or (path.is_dir() and any(path.iterdir())):
        raise TransferError(f"{path} exists and is not an empty directory")
    account = await store.open_account(user)
    if name is not None:
        names = [normalize_mailbox_name(name)]
    else:
        names = [m.name for m in await account.list_mailboxes() if m.selectable]
    progress.total_messages = sum([(await account.mailbox_status(n)).messages for n in names])
    for mailbox_name in names:
        mailbox = await account.open_mailbox(mailbox_name, read_only=True)
        progress.folder(mailbox_name)
        if fmt == "mbox":
            file = path if name is not None else path / mbox_file_name(mailbox_name)
            await _export_mbox(mailbox, file, progress)
        else:
            root = name is not None or mailbox_name == INBOX
            try:
                directory = path if root else path / maildir.directory_name(mailbox_name)
            except ValueError as exc:
                print(f"buzon: {exc}; skipped", file=sys.stderr)
                continue
            await _export_maildir(mailbox, directory, progress, subfolder=not root)
