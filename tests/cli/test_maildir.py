"""Maildir naming, flag letters, dovecot-keywords and dovecot-uidlist."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from buzon.cli import maildir


@pytest.mark.parametrize(
    ("directory", "name"),
    [(".Work", "Work"), (".Lists.Rust", "Lists/Rust"), (".Entw&APw-rfe", "Entwürfe")],
)
def test_folder_names_both_ways(directory: str, name: str) -> None:
    assert maildir.folder_name(directory) == name
    assert maildir.directory_name(name) == directory


def test_a_dot_in_a_folder_name_cannot_be_written() -> None:
    with pytest.raises(ValueError, match="cannot store"):
        maildir.directory_name("v1.2")


def test_info_letters_in_ascii_order() -> None:
    flags = frozenset({"\\Seen", "\\Draft", "$Forwarded", "\\Answered", "zeta", "alpha"})
    assert maildir.info_letters(flags, {"alpha": "a", "zeta": "b"}) == "DPRSab"


def test_reads_flags_keywords_uids_and_dates(tmp_path: Path) -> None:
    root = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True)
    (root / "dovecot-keywords").write_text("0 $Work\n1 Later\n30 Ignored\n")
    (root / "dovecot-uidlist").write_text(
        "3 V1234 N20 Gabc\n7 :1.M1.host:2,Sa\n12 W99 :2.M2.host\n"
    )
    (root / "cur" / "1.M1.host:2,Sa").write_bytes(b"A: 1\n\n")
    (root / "new" / "2.M2.host").write_bytes(b"A: 2\n\n")
    (root / "cur" / "0.M0.host:2,FRTb").write_bytes(b"A: 0\n\n")
    os.utime(root / "cur" / "1.M1.host:2,Sa", (1_700_000_000, 1_700_000_000))
    folder = maildir.read_folder("INBOX", root)
    assert (folder.uidvalidity, folder.uidnext) == (1234, 20)
    assert [(e.base, e.uid) for e in folder.entries] == [
        ("1.M1.host", 7),
        ("2.M2.host", 12),
        ("0.M0.host", None),  # unknown to the uidlist: after the known ones
    ]
    first, second, third = folder.entries
    assert first.flags == frozenset({"\\Seen", "$Work"})
    assert first.internal_date == dt.datetime.fromtimestamp(1_700_000_000, dt.UTC)
    assert second.flags == frozenset()
    assert third.flags == frozenset({"\\Flagged", "\\Answered", "\\Deleted", "Later"})


def test_uidlist_version_1(tmp_path: Path) -> None:
    (tmp_path / "dovecot-uidlist").write_text("1 555 9\n3 a.b.c:2,S\n")
    assert maildir.read_uidlist(tmp_path) == (555, 9, {"a.b.c": 3})
    assert maildir.read_uidlist(tmp_path / "none") == (None, None, {})


def test_tree_lists_root_then_folders(tmp_path: Path) -> None:
    for d in ("", ".A", ".A.B", ".notamaildir"):
        (tmp_path / d / ("cur" if d != ".notamaildir" else "x")).mkdir(parents=True)
    assert [f.name for f in maildir.read_tree(tmp_path)] == ["INBOX", "A", "A/B"]


def test_writer_keeps_at_most_26_keywords(tmp_path: Path) -> None:
    keywords = [f"k{i:02d}" for i in range(30)] + ["$Forwarded"]
    writer = maildir.FolderWriter(
        tmp_path / "f", subfolder=True, keywords=keywords, uidvalidity=1, uidnext=1
    )
    assert writer.dropped == ["k26", "k27", "k28", "k29"]
    assert "$Forwarded" not in writer.letters
    assert (tmp_path / "f" / "maildirfolder").exists()
