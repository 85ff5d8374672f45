"""Recipient resolution and trace headers."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from buzon.lmtp.address import Address
from buzon.lmtp.delivery import (
    Deliverer,
    Outcome,
    Policy,
    Target,
    Trace,
    normalize_line_ends,
    with_trace,
)
from buzon.storage.api import INBOX
from buzon.storage.sqlite import SqliteStore

WHEN = dt.datetime(2026, 5, 1, 12, 0, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"a\nb\n", b"a\r\nb\r\n"),
        (b"a\r\nb", b"a\r\nb\r\n"),
        (b"a\rb\r\n", b"a\rb\r\n"),
        (b"", b""),
    ],
)
def test_line_ends(data: bytes, expected: bytes) -> None:
    assert normalize_line_ends(data) == expected


def test_trace_headers_come_first() -> None:
    trace = Trace(
        sender=Address("s", "example.org"),
        protocol="LMTP",
        helo="mta.test",
        peer="[127.0.0.1]",
        recipient=Address("alice", "x.test"),
    )
    out = with_trace(b"Subject: x\n\nbody\n", trace, "mx.test", now=WHEN)
    lines = out.split(b"\r\n")
    assert lines[0] == b"Return-Path: <s@example.org>"
    assert lines[1] == b"Received: from mta.test ([127.0.0.1])"
    assert lines[2].startswith(b"\tby mx.test (Buzon) with LMTP id ")
    assert lines[3] == b"\tfor <alice@x.test>; Fri, 01 May 2026 12:00:00 +0000"
    assert lines[4:] == [b"Subject: x", b"", b"body", b""]


def test_local_trace_has_no_from_or_with() -> None:
    out = with_trace(b"x\r\n", Trace(sender=None), "mx.test", now=WHEN)
    assert out.startswith(b"Return-Path: <>\r\nReceived: by mx.test (Buzon) id ")
    assert out.endswith(b"; Fri, 01 May 2026 12:00:00 +0000\r\nx\r\n")


def _with_store(tmp_path: Path, policy: Policy, body: object) -> None:
    async def main() -> None:
        store = await SqliteStore.open(tmp_path / "d")
        try:
            for user in ("alice", "a+b", "bob"):
                await store.create_user(user, "x")
            await (await store.open_account("bob")).create_mailbox("Lists")
            await body(Deliverer(store, policy))  # type: ignore[operator]
        finally:
            await store.close()

    asyncio.run(main())


def test_resolution(tmp_path: Path) -> None:
    async def body(d: Deliverer) -> None:
        assert await d.resolve(Address("alice", "any.test")) == Target("alice")
        assert await d.resolve(Address("Alice", "any.test")) == Target("alice")
        assert await d.resolve(Address("alice", "")) == Target("alice")
        assert await d.resolve(Address("bob+Lists", "x")) == Target("bob", "Lists")
        assert await d.resolve(Address("a+b", "x")) == Target("a+b")  # the account wins
        assert await d.resolve(Address("zed", "x")) is None
        assert await d.resolve(Address("zed+alice", "x")) is None

    _with_store(tmp_path, Policy(), body)


def test_domains_and_detail_settings(tmp_path: Path) -> None:
    async def body(d: Deliverer) -> None:
        assert await d.resolve(Address("alice", "Example.ORG")) == Target("alice")
        assert await d.resolve(Address("alice", "other.org")) is None
        assert await d.resolve(Address("bob-Lists", "example.org")) == Target("bob")  # no folder
        assert await d.resolve(Address("bob+Lists", "example.org")) is None

    _with_store(
        tmp_path,
        Policy(domains=frozenset({"example.org"}), detail_delimiter="-", detail_folder=False),
        body,
    )


def test_detail_folder_case_and_fallback(tmp_path: Path) -> None:
    async def body(d: Deliverer) -> None:
        trace = Trace(sender=None)
        outcomes = await d.deliver(
            b"x\r\n", trace, [Target("bob", "lists"), Target("bob", "Nope"), None]
        )
        assert outcomes == [Outcome.DELIVERED, Outcome.DELIVERED, Outcome.NO_SUCH_USER]
        account = await d.store.open_account("bob")
        assert (await account.mailbox_status("Lists")).messages == 1
        assert (await account.mailbox_status(INBOX)).messages == 1

    _with_store(tmp_path, Policy(), body)
