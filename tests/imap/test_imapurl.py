"""IMAP URLs (RFC 5092) with URLAUTH (RFC 4467): tables, a round-trip property, a fuzz test."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from buzon.imap.commands_values import BodySection, SectionText
from buzon.imap.imapurl import ImapUrl, UrlError, parse, parse_section

BASE = ImapUrl("Drafts", 1, user="alice", host="example.org")

GOOD: list[tuple[str, ImapUrl | None, ImapUrl]] = [
    (
        "imap://fred@example.com/INBOX;UIDVALIDITY=385759045/;UID=20/;SECTION=1.2",
        None,
        ImapUrl("INBOX", 20, "fred", "example.com", None, 385759045, "1.2"),
    ),
    # RFC 4469 §3 relative forms: absolute path, and ;UID= against the selected mailbox
    (
        "/Drafts;UIDVALIDITY=385759045/;UID=20/;section=1.mime",
        None,
        ImapUrl("Drafts", 20, uidvalidity=385759045, section="1.mime"),
    ),
    ("/INBOX/;UID=3", BASE, ImapUrl("INBOX", 3, "alice", "example.org")),
    (";uid=7/;partial=10", BASE, ImapUrl("Drafts", 7, "alice", "example.org", partial=(10, None))),
    # RFC 5092 §3.2: mailbox names are UTF-8, percent-encoded; "/" is the hierarchy delimiter
    (
        "imap://a;AUTH=*@HOST.example:143/Arch%C3%ADvo/2024;UIDVALIDITY=9/;UID=1",
        None,
        ImapUrl("Archívo/2024", 1, "a", "host.example", 143, 9),
    ),
    (
        "imap://joe@example.com/INBOX/;uid=20/;section=1.2;urlauth=submit+fred:internal:"
        "91354a473744909de610943775f92038",
        None,
        ImapUrl(
            "INBOX",
            20,
            "joe",
            "example.com",
            section="1.2",
            access="submit+fred",
            mechanism="INTERNAL",
            token="91354a473744909de610943775f92038",
        ),
    ),
    (
        "imap://j@e/X/;UID=1;EXPIRE=2025-01-01T01:00:00+01:00;URLAUTH=Anonymous",
        None,
        ImapUrl(
            "X", 1, "j", "e", expire=dt.datetime(2025, 1, 1, tzinfo=dt.UTC), access="anonymous"
        ),
    ),
]


@pytest.mark.parametrize(("text", "base", "expected"), GOOD, ids=[g[0][:50] for g in GOOD])
def test_parses(text: str, base: ImapUrl | None, expected: ImapUrl) -> None:
    url = parse(text, base)
    assert url == expected
    assert parse(url.text()) == url


def test_rump_is_the_text_as_written() -> None:
    text = "imap://joe@example.com/INBOX/;uid=20;urlauth=user+bob:INTERNAL:" + "ab" * 20
    url = parse(text)
    assert url.rump == "imap://joe@example.com/INBOX/;uid=20;urlauth=user+bob"
    assert url.text(with_token=False) == "imap://joe@example.com/INBOX/;UID=20;URLAUTH=user+bob"


BAD = [
    "http://example.org/",
    "imap://example.org",
    "imap://example.org/INBOX",  # a mailbox, not a message
    "imap://example.org/INBOX?SUBJECT%20x",
    "imap://example.org/INBOX;TYPE=LIST",
    "imap://ex ample.org/INBOX/;UID=1",
    "imap://example.org:99999/INBOX/;UID=1",
    "/INBOX/;UID=0",
    "/INBOX/;UID=4294967296",
    "/INBOX;UID=1",  # UID needs its "/"
    "/INBOX/;UID=1;SECTION=1",  # so does SECTION
    "/INBOX/;UID=1/;SECTION=1/;UID=2",
    "/INBOX/;UID=1/;SECTION=9.FOO",
    "/INBOX/;UID=1/;SECTION=MIME",  # RFC 3501 §6.4.5: MIME needs a part number
    "/INBOX/;UID=1;EXPIRE=2025-01-01",  # no time, and no URLAUTH
    "/INBOX/;UID=1;URLAUTH=everyone",
    "/INBOX/;UID=1;URLAUTH=user+",
    "/INBOX/;UID=1;URLAUTH=anonymous:INTERNAL:xyz",
    "/%FF/;UID=1",
    ";UID=1",  # relative without a base
]


@pytest.mark.parametrize("text", BAD)
def test_refuses(text: str) -> None:
    with pytest.raises(UrlError):
        parse(text)


def test_sections() -> None:
    assert parse_section("1.2") == BodySection((1, 2))
    assert parse_section("2.text") == BodySection((2,), SectionText.TEXT)
    assert parse_section("HEADER.FIELDS.NOT (To Cc)") == BodySection(
        (), SectionText.HEADER_FIELDS_NOT, ("TO", "CC")
    )
    with pytest.raises(UrlError):
        parse_section("HEADER.FIELDS ()")


# --- property: the canonical text reads back as the same URL ----------------------------------

_names = st.text(st.characters(codec="utf-8"), min_size=1, max_size=12)
_numbers = st.integers(1, 4294967295)
_sections = st.sampled_from(["1", "1.2.3", "HEADER", "2.MIME", "TEXT", "HEADER.FIELDS (TO FROM)"])
_dates = st.datetimes(
    min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2999, 1, 1), timezones=st.just(dt.UTC)
).map(lambda d: d.replace(microsecond=0))
_access = st.one_of(
    st.sampled_from(["anonymous", "authuser"]),
    st.builds(lambda k, n: f"{k}+{n}", st.sampled_from(["user", "submit"]), _names),
)


@st.composite
def urls(draw: st.DrawFn) -> ImapUrl:
    absolute = draw(st.booleans())
    access = draw(st.none() | _access) if absolute else None
    return ImapUrl(
        mailbox=draw(_names),
        uid=draw(_numbers),
        user=draw(st.none() | _names) if absolute else None,
        host=draw(st.from_regex(r"[a-z0-9]{1,8}(\.[a-z]{2,4})?", fullmatch=True))
        if absolute
        else None,
        port=draw(st.none() | st.integers(0, 65535)) if absolute else None,
        uidvalidity=draw(st.none() | _numbers),
        section=draw(st.none() | _sections),
        partial=draw(st.none() | st.tuples(st.integers(0, 10**6), st.none() | _numbers)),
        expire=draw(st.none() | _dates) if access else None,
        access=access,
        mechanism="INTERNAL" if access and draw(st.booleans()) else None,
        token=None,
    )


@settings(max_examples=300, deadline=None)
@given(urls(), st.from_regex(r"[0-9a-f]{40}", fullmatch=True))
def test_canonical_text_round_trips(url: ImapUrl, token: str) -> None:
    if url.mechanism is not None:
        url = ImapUrl(**{**{f: getattr(url, f) for f in url.__slots__}, "token": token})
    again = parse(url.text())
    assert again == url
    assert again.text() == url.text()
    if url.access is not None:
        assert again.rump == url.text(with_token=False)


# --- fuzz: any text gives an ImapUrl or UrlError, nothing else ---------------------------------

_soup = st.text(
    st.sampled_from(list("imap:/@;=.+%0123456789abcAUIDSECTONRLHPXZ-T ()\x00é")), max_size=80
)


@settings(max_examples=600, deadline=None)
@given(st.one_of(_soup, st.builds(lambda a, b: "imap://" + a + "/" + b, _soup, _soup)))
def test_fuzz_only_urlerror_escapes(text: str) -> None:
    try:
        url = parse(text, BASE)
    except UrlError:
        return
    assert parse(url.text()) == url
