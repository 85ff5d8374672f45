"""`buzon user quota`: show, set, keep and remove a user's limits."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_cli import CHEAP, buzon


def test_user_quota(tmp_path: Path) -> None:
    config = tmp_path / "buzon.toml"
    config.write_text(CHEAP)
    common = ("--data-dir", str(tmp_path / "d"), "--config", str(config))
    buzon("user", "add", "alice", *common, "--password-stdin", stdin="pw\n")
    shown = buzon("user", "quota", "alice", *common).stdout
    assert shown == (
        "alice: storage 0 octets of unlimited, messages 0 messages of unlimited,"
        " mailboxes 7 mailboxes of unlimited\n"
    )
    set_both = buzon("user", "quota", "alice", "--storage", "1G", "--messages", "100000", *common)
    assert set_both.stdout == (
        "alice: storage 0 octets of 1073741824, messages 0 messages of 100000,"
        " mailboxes 7 mailboxes of unlimited\n"
    )
    kept = buzon("user", "quota", "alice", "--storage", "none", *common).stdout
    assert kept == (
        "alice: storage 0 octets of unlimited, messages 0 messages of 100000,"
        " mailboxes 7 mailboxes of unlimited\n"
    )
    removed = buzon("user", "quota", "alice", "--messages", "0", *common).stdout
    assert "messages 0 messages of unlimited," in removed
    # RFC 9208 §5.3: a mailbox limit, kept when the others change
    boxes = buzon("user", "quota", "alice", "--mailboxes", "8", *common).stdout
    assert boxes.endswith("mailboxes 7 mailboxes of 8\n")
    storage = buzon("user", "quota", "alice", "--storage", "1M", *common).stdout
    assert storage == (
        "alice: storage 0 octets of 1048576, messages 0 messages of unlimited,"
        " mailboxes 7 mailboxes of 8\n"
    )
    bad_boxes = buzon("user", "quota", "alice", "--mailboxes", "many", *common, check=False)
    assert bad_boxes.returncode == 2
    assert "not a number of mailboxes" in bad_boxes.stderr
    unlimited = buzon("user", "quota", "alice", "--mailboxes", "none", *common).stdout
    assert unlimited.endswith("mailboxes 7 mailboxes of unlimited\n")
    bad = buzon("user", "quota", "alice", "--storage", "lots", *common, check=False)
    assert bad.returncode == 2
    assert "not a size" in bad.stderr
    missing = buzon("user", "quota", "carol", *common, check=False)
    assert missing.returncode == 1
