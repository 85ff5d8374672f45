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
    assert shown == "alice: storage 0 octets of unlimited, messages 0 messages of unlimited\n"
    set_both = buzon("user", "quota", "alice", "--storage", "1G", "--messages", "100000", *common)
    assert set_both.stdout == (
        "alice: storage 0 octets of 1073741824, messages 0 messages of 100000\n"
    )
    kept = buzon("user", "quota", "alice", "--storage", "none", *common).stdout
    assert kept == "alice: storage 0 octets of unlimited, messages 0 messages of 100000\n"
    removed = buzon("user", "quota", "alice", "--messages", "0", *common).stdout
    assert removed.endswith("messages 0 messages of unlimited\n")
    bad = buzon("user", "quota", "alice", "--storage", "lots", *common, check=False)
    assert bad.returncode == 2
    assert "not a size" in bad.stderr
    missing = buzon("user", "quota", "carol", *common, check=False)
    assert missing.returncode == 1
