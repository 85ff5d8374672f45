"""`buzon migrate`: pull a whole account from another IMAP server.

Theory of operation
-------------------
A plain IMAP client (imaplib, over TLS) logs in to the source, lists its folders with
their hierarchy delimiter (RFC 9051 §6.3.9; names in modified UTF-7, RFC 9051 §5.1.3),
mapped to "/", and its subscriptions (LSUB, RFC 3501 §6.3.9), which replace the
target's. Each selectable folder is opened with EXAMINE, read-only so that nothing changes
at the source (no \\Recent taken, no \\Seen set: bodies are fetched with BODY.PEEK[],
RFC 9051 §6.4.5). First the metadata of all messages past the checkpoint (`UID FETCH
n:* (UID FLAGS INTERNALDATE RFC822.SIZE)`), then the bodies in batches bounded by count
and size; each batch is one `Mailbox.import_messages` with its checkpoint
(`<uidvalidity> <last uid>`, per source folder) in the same transaction, so an
interrupted migration resumes where it stopped.

Special-use folders (RFC 6154): the source's LIST (with RETURN (SPECIAL-USE) where it
announces SPECIAL-USE and LIST-EXTENDED, RFC 6154 §2 and RFC 5258) gives the attributes.
A target account already has its own special folders, and each use should be on one
folder. So for a source folder with a use, in this order: (1) when a target folder of
that name exists, nothing changes (both keep their own attributes); (2) when the target's
folder with that use has another name and never held a message nor has children, it is
renamed to the source's name, so "Sent Items" keeps its name and becomes \\Sent, and no
empty "Sent" is left; (3) when no target folder has the use, the folder is created with
it; (4) otherwise (the target's folder is in use) the source folder is copied under its
own name without the attribute.

Where the target mailbox never held a message, it takes the source's UIDVALIDITY
(`Mailbox.adopt_uidvalidity`) and the messages keep their UIDs and the folder its
UIDNEXT, so that clients keep their caches. Otherwise messages get new UIDs. A folder
whose UIDVALIDITY changed since the checkpoint is skipped with an error: its UIDs no
longer say what was copied.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import imaplib
import re
import ssl
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from buzon.cli.progress import Progress
from buzon.cli.transfer import TransferError
from buzon.imap import mutf7
from buzon.storage.api import (
    INBOX,
    Account,
    AlreadyExists,
    AppendRequest,
    Checkpoint,
    Mailbox,
    Store,
    Uid,
)
from buzon.storage.names import normalize_mailbox_name

BATCH_MESSAGES = 200
BATCH_BYTES = 8 << 20

_LIST = re.compile(rb'^\((?P<attrs>[^)]*)\) (?P<delim>"(?:[^"\\]|\\.)*"|NIL) ?(?P<name>.*)$', re.I)
_UID = re.compile(rb"\bUID (\d+)", re.I)
_FLAGS = re.compile(rb"\bFLAGS \(([^)]*)\)", re.I)
_DATE = re.compile(rb'\bINTERNALDATE "([^"]+)"', re.I)
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)", re.I)
_MESSAGES = re.compile(rb"\bMESSAGES (\d+)", re.I)
_CODE = re.compile(rb"\[(UIDVALIDITY|UIDNEXT) (\d+)\]", re.I)
# RFC 6154 §2 and RFC 8457 \Important, by their lower-case spelling.
SPECIAL_USES = {
    u.lower(): u
    for u in (
        "\\All",
        "\\Archive",
        "\\Drafts",
        "\\Flagged",
        "\\Important",
        "\\Junk",
        "\\Sent",
        "\\Trash",
    )
}


@dataclass(frozen=True, slots=True)
class Source:
    """Where to migrate from: `imaps://login@host[:port]` (or imap:// with STARTTLS)."""

    login: str
    host: str
    port: int
    implicit_tls: bool

    @classmethod
    def parse(cls, url: str) -> Source:
        parts = urlsplit(url)
        if parts.scheme not in ("imaps", "imap") or not parts.hostname or not parts.username:
            raise TransferError(f"{url!r}: expected imaps://login@host[:port]")
        tls = parts.scheme == "imaps"
        port = parts.port or (993 if tls else 143)
        return cls(unquote(parts.username), parts.hostname, port, tls)

    def key(self, folder: str) -> str:
        return f"imap://{self.login}@{self.host}:{self.port}/{folder}"


@dataclass(frozen=True, slots=True)
class RemoteFolder:
    name: str  # Buzón spelling, "/" separated
    wire: str  # as the source spells it (modified UTF-7, its delimiter)
    selectable: bool
    special_use: frozenset[str] = frozenset()  # canonical spelling, e.g. "\\Sent"


@dataclass(frozen=True, slots=True)
class RemoteMessage:
    uid: int
    flags: frozenset[str]
    internal_date: dt.datetime | None
    size: int


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unquote(raw: bytes) -> bytes:
    if raw.startswith(b'"') and raw.endswith(b'"') and len(raw) >= 2:
        return re.sub(rb"\\(.)", rb"\1", raw[1:-1])
    return raw


def _items(data: list[object]) -> Iterator[bytes]:
    """imaplib's untagged data as whole lines, literals spliced in."""
    pending = b""
    for item in data:
        if isinstance(item, tuple):
            pending += item[0] + item[1]
        elif isinstance(item, bytes):
            yield pending + item
            pending = b""
    if pending:
        yield pending


def parse_list(data: list[object]) -> list[tuple[frozenset[str], str, str]]:
    """(attributes, delimiter, wire name) of LIST or LSUB replies."""
    out: list[tuple[frozenset[str], str, str]] = []
    for item in data:
        literal: bytes | None = None
        if isinstance(item, tuple):
            line, literal = item[0], item[1]
        elif isinstance(item, bytes):
            line = item
        else:
            continue
        m = _LIST.match(line)
        if m is None:
            continue
        delim = "" if m["delim"].upper() == b"NIL" else _unquote(m["delim"]).decode()
        raw = literal if literal is not None else _unquote(m["name"].strip())
        attrs = frozenset(a.lower() for a in m["attrs"].decode().split())
        out.append((attrs, delim, raw.decode("utf-8", "replace")))
    return out


def local_name(wire: str, delim: str) -> str:
    parts = wire.split(delim) if delim else [wire]
    decoded = []
    for part in parts:
        try:
            decoded.append(mutf7.decode(part))
        except ValueError:
            decoded.append(part)
    return normalize_mailbox_name("/".join(decoded))


def parse_date(text: str) -> dt.datetime | None:
    """RFC 9051 date-time: `27-Nov-2026 16:23:09 +0000` (day may be space-padded)."""
    try:
        return dt.datetime.strptime(text.strip(), "%d-%b-%Y %H:%M:%S %z")
    except ValueError:
        return None


def parse_meta(data: list[object]) -> list[RemoteMessage]:
    out: list[RemoteMessage] = []
    for line in _items(data):
        uid, flags, date, size = (r.search(line) for r in (_UID, _FLAGS, _DATE, _SIZE))
        if uid is None or flags is None or size is None:
            continue  # an unsolicited FETCH
        names = frozenset(
            f for f in flags[1].decode("utf-8", "replace").split() if f.lower() != "\\recent"
        )
        when = parse_date(date[1].decode()) if date else None
        out.append(RemoteMessage(int(uid[1]), names, when, int(size[1])))
    return out


def parse_bodies(data: list[object]) -> dict[int, bytes]:
    """UID → BODY[] bytes; the UID may come before or after the literal."""
    out: dict[int, bytes] = {}
    body: bytes | None = None
    prefix = b""
    for item in data:
        if isinstance(item, tuple):
            prefix, body = item[0], item[1]
            m = _UID.search(prefix)
            if m is not None:
                out[int(m[1])] = body
                body = None
        elif isinstance(item, bytes) and body is not None:
            m = _UID.search(item)
            if m is not None:
                out[int(m[1])] = body
            body = None
    return out


class Client:
    """The few IMAP commands a migration needs, on imaplib."""

    def __init__(self, source: Source, context: ssl.SSLContext) -> None:
        if source.implicit_tls:
            self.imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                source.host, source.port, ssl_context=context
            )
        else:
            self.imap = imaplib.IMAP4(source.host, source.port)
            self.imap.starttls(context)

    def check(self, result: tuple[str, list[object]], what: str) -> list[object]:
        status, data = result
        if status != "OK":
            raise TransferError(f"source server refused {what}: {data!r}")
        return data

    def login(self, login: str, password: str) -> None:
        try:
            self.imap.login(login, password)
        except imaplib.IMAP4.error as exc:
            raise TransferError(f"login refused by the source server: {exc}") from None

    def folders(self) -> list[RemoteFolder]:
        caps = {c.upper() for c in self.imap.capabilities}
        if {"SPECIAL-USE", "LIST-EXTENDED"} <= caps:
            # RFC 6154 §2: the attributes are only promised with RETURN (SPECIAL-USE).
            typ, dat = self.imap._simple_command("LIST", '""', '"*"', "RETURN (SPECIAL-USE)")
            data = self.check(self.imap._untagged_response(typ, dat, "LIST"), "LIST")
        else:
            data = self.check(self.imap.list('""', "*"), "LIST")  # type: ignore[arg-type]
        out = []
        for attrs, delim, wire in parse_list(data):
            selectable = not attrs & {"\\noselect", "\\nonexistent"}
            uses = frozenset(SPECIAL_USES[a] for a in attrs if a in SPECIAL_USES)
            out.append(RemoteFolder(local_name(wire, delim), wire, selectable, uses))
        return sorted(out, key=lambda f: f.name)

    def subscriptions(self) -> list[str]:
        data = self.check(self.imap.lsub('""', "*"), "LSUB")
        return [local_name(wire, delim) for _, delim, wire in parse_list(data)]

    def count(self, wire: str) -> int:
        """STATUS MESSAGES (RFC 9051 §6.3.11), for the progress estimate; 0 if refused."""
        status, data = self.imap.status(quote(wire), "(MESSAGES)")
        found = _MESSAGES.search(b" ".join(d for d in data if isinstance(d, bytes)))
        return int(found[1]) if status == "OK" and found else 0

    def examine(self, wire: str) -> tuple[int, int, int]:
        """(messages, UIDVALIDITY, UIDNEXT) of a folder opened read-only."""
        status, data = self.imap.select(quote(wire), readonly=True)
        if status != "OK":
            raise TransferError(f"cannot open {wire!r} at the source: {data!r}")
        codes: dict[str, int] = {}
        for key in ("OK",):
            for item in self.imap.untagged_responses.get(key, []):
                if isinstance(item, bytes):
                    for name, value in _CODE.findall(item):
                        codes[name.decode().upper()] = int(value)
        for key in ("UIDVALIDITY", "UIDNEXT"):
            for item in self.imap.untagged_responses.get(key, []):
                if isinstance(item, bytes) and item.isdigit():
                    codes[key] = int(item)
        exists = int(data[0]) if data and isinstance(data[0], bytes) else 0
        return exists, codes.get("UIDVALIDITY", 0), codes.get("UIDNEXT", 0)

    def metadata(self, after: int) -> list[RemoteMessage]:
        data = self.check(
            self.imap.uid("FETCH", f"{after + 1}:*", "(UID FLAGS INTERNALDATE RFC822.SIZE)"),
            "UID FETCH",
        )
        # "n:*" with n past the last UID still names the last message: filter.
        return [m for m in parse_meta(data) if m.uid > after]

    def bodies(self, uids: list[int]) -> dict[int, bytes]:
        uid_set = ",".join(str(u) for u in uids)
        data = self.check(self.imap.uid("FETCH", uid_set, "(UID BODY.PEEK[])"), "UID FETCH")
        return parse_bodies(data)

    def logout(self) -> None:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            self.imap.logout()


def _batches(messages: list[RemoteMessage]) -> Iterator[list[RemoteMessage]]:
    batch: list[RemoteMessage] = []
    size = 0
    for m in messages:
        if batch and (len(batch) >= BATCH_MESSAGES or size + m.size > BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(m)
        size += m.size
    if batch:
        yield batch


async def _target(account: Account, name: str) -> Mailbox:
    with contextlib.suppress(AlreadyExists):
        await account.create_mailbox(name)
    return await account.open_mailbox(name)


async def place_special_folders(account: Account, folders: list[RemoteFolder]) -> None:
    """Give the source's special uses to the target (rules in the module docstring)."""
    for folder in folders:
        if not folder.special_use or folder.name == INBOX:
            continue
        local = {m.name: m for m in await account.list_mailboxes()}
        if folder.name in local:
            continue  # (1)
        holders = {m.name for m in local.values() if m.special_use & folder.special_use}
        if len(holders) == 1:
            holder = holders.pop()
            status = await account.mailbox_status(holder)
            children = any(n.startswith(holder + "/") for n in local)
            if status.messages == 0 and status.uidnext == 1 and not children:
                await account.rename_mailbox(holder, folder.name)  # (2)
            continue  # (4) when in use
        if not holders:
            await account.create_mailbox(folder.name, special_use=folder.special_use)  # (3)


async def _migrate_folder(
    client: Client, account: Account, source: Source, folder: RemoteFolder, progress: Progress
) -> None:
    _, uidvalidity, uidnext = client.examine(folder.wire)
    key = source.key(folder.wire)
    after = 0
    saved = await account.import_position(key)
    if saved is not None:
        saved_validity, _, saved_uid = saved.partition(" ")
        if int(saved_validity) != uidvalidity:
            raise TransferError(
                f"{folder.name}: the source's UIDVALIDITY changed since the last run;"
                " its messages cannot be matched (skipped)"
            )
        after = int(saved_uid)
    mailbox = await _target(account, folder.name)
    progress.folder(folder.name)
    keep = False
    if uidvalidity:
        await mailbox.adopt_uidvalidity(uidvalidity)
        keep = (await mailbox.status()).uidvalidity == uidvalidity
    messages = client.metadata(after)
    for batch in _batches(messages):
        bodies = client.bodies([m.uid for m in batch])
        requests = []
        uids = []
        size = 0
        for m in batch:
            body = bodies.get(m.uid)
            if body is None:
                continue  # expunged at the source meanwhile
            requests.append(AppendRequest(body, m.flags, m.internal_date))
            uids.append(Uid(m.uid))
            size += len(body)
        await mailbox.import_messages(
            requests,
            uids=uids if keep else None,
            checkpoint=Checkpoint(key, f"{uidvalidity} {batch[-1].uid}"),
        )
        progress.add(len(requests), size)
    last = messages[-1].uid if messages else after
    await mailbox.import_messages(
        [],
        uidnext=Uid(uidnext) if keep and uidnext else None,
        checkpoint=Checkpoint(key, f"{uidvalidity} {last}"),
    )


async def migrate(
    store: Store,
    user: str,
    source: Source,
    *,
    password: str,
    context: ssl.SSLContext,
    progress: Progress,
) -> int:
    """Copy every folder, message and subscription; return how many folders failed."""
    account = await store.open_account(user)
    client = Client(source, context)
    failed = 0
    try:
        client.login(source.login, password)
        folders = [f for f in client.folders() if f.selectable]
        await place_special_folders(account, folders)
        progress.total_messages = sum(client.count(f.wire) for f in folders)
        for folder in folders:
            try:
                await _migrate_folder(client, account, source, folder, progress)
            except TransferError as exc:
                print(f"buzon: {exc}", file=sys.stderr)
                failed += 1
        # The subscriptions become the source's, those a new account starts with included.
        wanted = set(client.subscriptions())
        for name in sorted(wanted):
            await account.subscribe(name)
        for name in await account.subscriptions():
            if name not in wanted:
                await account.unsubscribe(name)
    finally:
        client.logout()
    return failed


def tls_context(ca_file: str | None, insecure: bool) -> ssl.SSLContext:
    if insecure:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    context = ssl.create_default_context(cafile=ca_file)
    if ca_file is not None:
        # A private CA file pins the certificate: its name often is not the host's.
        context.check_hostname = False
    return context
