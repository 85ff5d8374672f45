"""Maildir trees (Maildir++ folders, Dovecot's keyword and UID files): reading and writing.

Theory of operation
-------------------
A Maildir holds one file per message in `cur/` (seen by a mail program) or `new/`,
written first in `tmp/`. A file in `cur/` is named `BASE:2,INFO` where INFO lists flag
letters in ASCII order: D F P R S T (\\Draft \\Flagged $Forwarded \\Answered \\Seen
\\Deleted) and, Dovecot's extension, `a`..`z` for the keywords numbered 0..25 in the
folder's `dovecot-keywords` (`0 $Label1` lines). Maildir++ keeps subfolders beside
`cur/` as `.Parent.Child` directories (names in modified UTF-7), INBOX being the root.
A message's internal date is the file's mtime, as Dovecot takes it.

When a folder has a `dovecot-uidlist` (`3 V<uidvalidity> N<uidnext> ...` then one
`<uid> [fields] :<file name>` line per message; version 1 is `1 <uidvalidity>
<uidnext>` then `<uid> <file name>`), its UIDs are read too, so an import into a fresh
mailbox can keep them.

The writer produces the same form: every message in `cur/` as
`<mtime>.M<uid>.buzon,S=<size>,W=<size with CRLF>:2,<letters>`, mtime set to the internal
date, a `dovecot-keywords` listing the folder's keywords in sorted order, a
`dovecot-uidlist` with the mailbox's UIDVALIDITY and UIDs, and `maildirfolder` in each
subfolder (Maildir++). A tree in that form is read and written back byte for byte.

Dovecot keeps the subscribed folders in `subscriptions` at the root. Since Dovecot 2.2 it
starts with the line `V<TAB>2` and an empty line, then one name per line with the
hierarchy levels separated by TAB (Dovecot 2.3.19 writes `Lists<TAB>Rust`); older files
have no header and one name per line with the namespace separator ("." or "/"). Names
are modified UTF-7 like the folder directories.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from buzon.imap import mutf7
from buzon.storage.api import INBOX

INFO = ":2,"
# Maildir letters (https://cr.yp.to/proto/maildir.html) in ASCII order.
LETTER_FLAGS = {
    "D": "\\Draft",
    "F": "\\Flagged",
    "P": "$Forwarded",
    "R": "\\Answered",
    "S": "\\Seen",
    "T": "\\Deleted",
}
FLAG_LETTERS = {v.lower(): k for k, v in LETTER_FLAGS.items()}
MAX_KEYWORDS = 26


@dataclass(frozen=True, slots=True)
class MaildirEntry:
    """One message file of a folder; `key` orders them and names them in checkpoints."""

    path: Path
    base: str  # the file name without its info: stable across flag changes
    flags: frozenset[str]
    internal_date: dt.datetime
    size: int
    uid: int | None

    @property
    def key(self) -> str:
        return f"{self.uid or 0:010d} {self.base}"


@dataclass(frozen=True, slots=True)
class MaildirFolder:
    """A folder of a Maildir++ tree with its messages in UID (else name) order."""

    name: str  # "/"-separated, "INBOX" for the root
    path: Path
    uidvalidity: int | None
    uidnext: int | None
    entries: tuple[MaildirEntry, ...]


def is_maildir(path: Path) -> bool:
    return (path / "cur").is_dir() or (path / "new").is_dir()


def _decode_part(part: str) -> str:
    try:
        return mutf7.decode(part)
    except ValueError:
        return part


def folder_name(directory: str) -> str:
    """`.Lists.Rust` → `Lists/Rust`; each part modified UTF-7 decoded when canonical."""
    return "/".join(_decode_part(p) for p in directory.removeprefix(".").split("."))


def directory_name(name: str) -> str:
    """The Maildir++ directory of a mailbox name other than INBOX."""
    parts = name.split("/")
    if any("." in p for p in parts):
        raise ValueError(f"mailbox {name!r}: Maildir++ cannot store '.' in a folder name")
    return "." + ".".join(mutf7.encode(p) for p in parts)


def read_keywords(folder: Path) -> dict[str, str]:
    """dovecot-keywords: letter → keyword."""
    out: dict[str, str] = {}
    try:
        text = (folder / "dovecot-keywords").read_text("utf-8")
    except FileNotFoundError:
        return out
    for line in text.splitlines():
        number, _, keyword = line.partition(" ")
        if number.isdigit() and int(number) < MAX_KEYWORDS and keyword:
            out[chr(ord("a") + int(number))] = keyword
    return out


def read_uidlist(folder: Path) -> tuple[int | None, int | None, dict[str, int]]:
    """dovecot-uidlist: (uidvalidity, uidnext, base name → uid); Nones when absent."""
    try:
        lines = (folder / "dovecot-uidlist").read_text("utf-8", "replace").splitlines()
    except FileNotFoundError:
        return None, None, {}
    if not lines:
        return None, None, {}
    header = lines[0].split()
    validity = nextuid = None
    if header and header[0] == "1" and len(header) >= 3:
        validity, nextuid = int(header[1]), int(header[2])
    else:
        for field in header[1:]:
            if field[:1] == "V" and field[1:].isdigit():
                validity = int(field[1:])
            elif field[:1] == "N" and field[1:].isdigit():
                nextuid = int(field[1:])
    uids: dict[str, int] = {}
    for line in lines[1:]:
        uid, _, rest = line.partition(" ")
        if not uid.isdigit() or not rest:
            continue
        name = rest.split(" :", 1)[1] if " :" in rest else rest.split()[-1].lstrip(":")
        uids[name.split(INFO, 1)[0]] = int(uid)
    return validity, nextuid, uids


SUBSCRIPTIONS = "subscriptions"


def read_subscriptions(root: Path) -> list[str] | None:
    """The "/"-separated names of Dovecot's `subscriptions` file; None when it is absent."""
    try:
        lines = (root / SUBSCRIPTIONS).read_text("utf-8", "replace").splitlines()
    except FileNotFoundError:
        return None
    versioned = bool(lines) and lines[0].startswith("V\t")
    names: list[str] = []
    for line in lines[1:] if versioned else lines:
        if not line.strip():
            continue
        parts = line.split("\t") if versioned else line.replace(".", "/").split("/")
        if not all(parts):
            continue  # an empty level: not a name Buzón can hold
        name = "/".join(_decode_part(p) for p in parts)
        if name.upper() == INBOX:
            name = INBOX
        if name not in names:
            names.append(name)
    return names


def _entry(path: Path, keywords: dict[str, str], uids: dict[str, int]) -> MaildirEntry:
    base, _, info = path.name.partition(INFO)
    flags: set[str] = set()
    for letter in info:
        if letter in LETTER_FLAGS:
            flags.add(LETTER_FLAGS[letter])
        elif letter in keywords:
            flags.add(keywords[letter])
    st = path.stat()
    date = dt.datetime.fromtimestamp(int(st.st_mtime), dt.UTC)
    return MaildirEntry(path, base, frozenset(flags), date, st.st_size, uids.get(base))


def read_folder(name: str, path: Path) -> MaildirFolder:
    keywords = read_keywords(path)
    validity, nextuid, uids = read_uidlist(path)
    entries = [
        _entry(sub / file, keywords, uids)
        for sub in (path / "cur", path / "new")
        if sub.is_dir()
        for file in os.listdir(sub)
        if not file.startswith(".")
    ]
    # Messages the uidlist does not know come after those it does, in name order.
    entries.sort(key=lambda e: (e.uid is None, e.uid or 0, e.base))
    return MaildirFolder(name, path, validity, nextuid, tuple(entries))


def read_tree(root: Path) -> Iterator[MaildirFolder]:
    """The root (INBOX) and every Maildir++ folder below it, parents first."""
    if is_maildir(root):
        yield read_folder(INBOX, root)
    subdirs = sorted(
        d.name for d in root.iterdir() if d.name.startswith(".") and d.is_dir() and is_maildir(d)
    )
    for sub in subdirs:
        yield read_folder(folder_name(sub), root / sub)


# --- writing ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OutMessage:
    """A message to write: LF line ends, its UID, flags and internal date."""

    uid: int
    content: bytes
    flags: frozenset[str]
    internal_date: dt.datetime
    crlf_size: int


def info_letters(flags: frozenset[str], keyword_letters: dict[str, str]) -> str:
    system = {FLAG_LETTERS[f.lower()] for f in flags if f.lower() in FLAG_LETTERS}
    extra = {keyword_letters[f] for f in flags if f in keyword_letters}
    return "".join(sorted(system)) + "".join(sorted(extra))


class FolderWriter:
    """Writes one Maildir folder; call `add` per message then `close`."""

    def __init__(
        self,
        path: Path,
        *,
        subfolder: bool,
        keywords: Sequence[str],
        uidvalidity: int,
        uidnext: int,
    ) -> None:
        self.path = path
        for sub in ("cur", "new", "tmp"):
            (path / sub).mkdir(parents=True, exist_ok=True)
        if subfolder:
            (path / "maildirfolder").touch()
        usable = sorted(k for k in keywords if k.lower() not in FLAG_LETTERS)
        self.dropped = usable[MAX_KEYWORDS:]
        self.letters = {k: chr(ord("a") + i) for i, k in enumerate(usable[:MAX_KEYWORDS])}
        if self.letters:
            (path / "dovecot-keywords").write_text(
                "".join(f"{i} {k}\n" for i, k in enumerate(usable[:MAX_KEYWORDS])), "utf-8"
            )
        self._uidlist = [f"3 V{uidvalidity} N{uidnext}\n"]

    def add(self, message: OutMessage) -> int:
        stamp = int(message.internal_date.timestamp())
        base = f"{stamp}.M{message.uid}.buzon,S={len(message.content)},W={message.crlf_size}"
        name = base + INFO + info_letters(message.flags, self.letters)
        target = self.path / "cur" / name
        target.write_bytes(message.content)
        os.utime(target, (stamp, stamp))
        self._uidlist.append(f"{message.uid} :{name}\n")
        return len(message.content)

    def close(self) -> None:
        (self.path / "dovecot-uidlist").write_text("".join(self._uidlist), "utf-8")
