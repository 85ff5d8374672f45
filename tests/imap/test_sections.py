"""BODY[section], BINARY, partial ranges and response names: tables and fuzz invariants."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from buzon.imap.commands_values import (
    BodySection,
    FetchAtt,
    FetchBinary,
    FetchBinarySize,
    FetchBody,
    SectionText,
)
from buzon.imap.sections import (
    apply_partial,
    binary_bytes,
    binary_size,
    header_section,
    is_header_section,
    response_name,
    rfc822_section,
    section_bytes,
)
from buzon.mime import parse

H = SectionText.HEADER
T = SectionText.TEXT
M = SectionText.MIME
HF = SectionText.HEADER_FIELDS
HFN = SectionText.HEADER_FIELDS_NOT


def crlf(*lines: str) -> bytes:
    return "\r\n".join(lines).encode()


OUTER_HEADER = crlf(
    "From: a@b",
    "Subject: outer",
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="outer"',
    "",
    "",
)
INNER_HEADER = crlf(
    "From: inner@x",
    "Subject: inner",
    'Content-Type: multipart/alternative; boundary="inner"',
    "",
    "",
)
INNER_BODY = crlf(
    "--inner",
    "Content-Type: text/plain",
    "",
    "inner plain",
    "--inner",
    "Content-Type: text/html",
    "",
    "<p>inner html</p>",
    "--inner--",
)
OUTER_BODY = (
    crlf(
        "preamble",
        "--outer",
        "Content-Type: text/plain; charset=us-ascii",
        "",
        "part one",
        "--outer",
        "Content-Type: message/rfc822",
        "",
        "",
    )
    + INNER_HEADER
    + INNER_BODY
    + crlf(
        "",
        "--outer",
        "Content-Type: application/pdf",
        "Content-Transfer-Encoding: base64",
        "",
        "SGVs",
        "bG8=",
        "--outer",
        'Content-Type: multipart/alternative; boundary="alt"',
        "",
        "--alt",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: quoted-printable",
        "",
        "caf=C3=A9 =",
        "soft=3d",
        "--alt",
        "Content-Type: image/gif",
        "Content-Transfer-Encoding: x-uuencode",
        "",
        "begin 644 x",
        "--alt--",
        "--outer--",
        "epilogue",
        "",
    )
)
NESTED = OUTER_HEADER + OUTER_BODY
MSG = parse(NESTED)


def sec(part: tuple[int, ...] = (), text: SectionText | None = None, *fields: str) -> BodySection:
    return BodySection(part, text, tuple(fields))


SECTION_TABLE: list[tuple[BodySection, bytes]] = [
    (sec(), NESTED),
    (sec((), H), OUTER_HEADER),
    (sec((), T), OUTER_BODY),
    (sec((), HF, "subject", "FROM"), b"From: a@b\r\nSubject: outer\r\n\r\n"),
    (sec((), HFN, "Content-Type", "mime-version"), b"From: a@b\r\nSubject: outer\r\n\r\n"),
    (sec((1,)), b"part one"),
    (sec((1,), M), b"Content-Type: text/plain; charset=us-ascii\r\n\r\n"),
    (sec((2,)), INNER_HEADER + INNER_BODY),
    (sec((2,), M), b"Content-Type: message/rfc822\r\n\r\n"),
    (sec((2,), H), INNER_HEADER),
    (sec((2,), T), INNER_BODY),
    (sec((2,), HF, "Subject"), b"Subject: inner\r\n\r\n"),
    (sec((2,), HFN, "subject", "content-type"), b"From: inner@x\r\n\r\n"),
    (sec((2, 1)), b"inner plain"),
    (sec((2, 1), M), b"Content-Type: text/plain\r\n\r\n"),
    (sec((2, 2)), b"<p>inner html</p>"),
    (sec((2, 2), M), b"Content-Type: text/html\r\n\r\n"),
    (sec((3,)), b"SGVs\r\nbG8="),
    (sec((4, 1)), b"caf=C3=A9 =\r\nsoft=3d"),
    (sec((4, 2), M), b"Content-Type: image/gif\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\n"),
    # Sections that do not exist are the empty string (Dovecot's answer).
    (sec((5,)), b""),
    (sec((0,)), b""),
    (sec((2, 3)), b""),
    (sec((1, 1)), b""),  # a leaf part has no sub-parts
    (sec((1,), H), b""),  # HEADER after a part number needs a message/rfc822 part
    (sec((1,), T), b""),
    (sec((1,), HF, "content-type"), b""),
    (sec((2, 1), H), b""),
    (sec((9, 9), M), b""),
    (sec((), M), b""),  # the grammar refuses it; still no exception
]


@pytest.mark.parametrize(("section", "expected"), SECTION_TABLE)
def test_every_section_kind_on_a_nested_message(section: BodySection, expected: bytes) -> None:
    assert section_bytes(NESTED, MSG, section) == expected


def test_multipart_part_is_its_whole_body() -> None:
    body = section_bytes(NESTED, MSG, sec((4,)))
    assert body.startswith(b"--alt\r\n")
    assert body.endswith(b"--alt--")


def test_whole_message_is_not_copied() -> None:
    assert section_bytes(NESTED, MSG, sec()) is NESTED


def test_part_one_of_a_single_part_message_is_its_body() -> None:
    raw = b"Subject: s\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
    msg = parse(raw)
    assert section_bytes(raw, msg, sec((1,))) == b"hello\r\n"
    assert section_bytes(raw, msg, sec((1,), M)) == raw[: raw.index(b"hello")]
    assert section_bytes(raw, msg, sec((2,))) == b""


def test_message_rfc822_with_single_part_inside() -> None:
    raw = crlf(
        'Content-Type: multipart/mixed; boundary="b"',
        "",
        "--b",
        "Content-Type: message/rfc822",
        "",
        "Subject: in",
        "",
        "inner body",
        "--b--",
    )
    msg = parse(raw)
    assert section_bytes(raw, msg, sec((1,), H)) == b"Subject: in\r\n\r\n"
    assert section_bytes(raw, msg, sec((1, 1))) == b"inner body"
    assert section_bytes(raw, msg, sec((1, 1), M)) == b"Subject: in\r\n\r\n"
    assert section_bytes(raw, msg, sec((1, 2))) == b""


FOLDED = crlf(
    "Subject: a long",
    "\tfolded subject",
    "X-Foo: 1",
    "x-foo: 2",
    "To: c@d,",
    " e@f",
    "X-Foo-Bar: 3",
    "",
    "body",
)


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        (
            sec((), HF, "SUBJECT", "x-FOO"),
            b"Subject: a long\r\n\tfolded subject\r\nX-Foo: 1\r\nx-foo: 2\r\n\r\n",
        ),
        (sec((), HFN, "subject", "X-FOO"), b"To: c@d,\r\n e@f\r\nX-Foo-Bar: 3\r\n\r\n"),
        (sec((), HF, "x-fo"), b"\r\n"),  # "case-insensitive but otherwise exact"
        (sec((), HF, "to"), b"To: c@d,\r\n e@f\r\n\r\n"),
    ],
)
def test_header_fields_folding_and_case(section: BodySection, expected: bytes) -> None:
    assert section_bytes(FOLDED, parse(FOLDED), section) == expected


def test_header_without_blank_line() -> None:
    # RFC 3501 §7.4.2: no blank line "in the case of a message which has no body and no
    # blank line".
    raw = b"Subject: x\r\nTo: y@z\r\n"
    msg = parse(raw)
    assert section_bytes(raw, msg, sec((), H)) == raw
    assert section_bytes(raw, msg, sec((), T)) == b""
    assert section_bytes(raw, msg, sec((), HF, "subject")) == b"Subject: x\r\n"
    assert section_bytes(raw, msg, sec((), HFN, "subject")) == b"To: y@z\r\n"
    unterminated = b"Subject: x"
    assert section_bytes(unterminated, parse(unterminated), sec((), HF, "subject")) == (
        b"Subject: x\r\n"
    )
    # A header ended by a non-field line has a body: the blank line is included.
    raw = b"Subject: x\r\nnot a header\r\n"
    msg = parse(raw)
    assert section_bytes(raw, msg, sec((), H)) == b"Subject: x\r\n"
    assert section_bytes(raw, msg, sec((), T)) == b"not a header\r\n"
    assert section_bytes(raw, msg, sec((), HF, "subject")) == b"Subject: x\r\n\r\n"


def test_empty_message() -> None:
    msg = parse(b"")
    for section in (sec(), sec((), H), sec((), T), sec((), HF, "a"), sec((1,)), sec((1,), M)):
        assert section_bytes(b"", msg, section) == b""
    assert binary_bytes(b"", msg, (1,)) == b""
    assert binary_size(b"", msg, (1,)) == 0


# --- partial ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("partial", "expected"),
    [
        (None, b"inner plain"),
        ((0, 5), b"inner"),
        ((6, 100), b"plain"),
        ((0, 11), b"inner plain"),
        ((10, 1), b"n"),
        ((11, 5), b""),  # origin at the end
        ((100, 5), b""),  # origin beyond the end
    ],
)
def test_partial_ranges(partial: tuple[int, int] | None, expected: bytes) -> None:
    assert apply_partial(b"inner plain", partial) == expected
    assert section_bytes(NESTED, MSG, sec((2, 1)), partial=partial) == expected


def test_partial_of_header_fields_is_after_subsetting() -> None:
    # RFC 3501 §6.4.5: "calculated after subsetting the header".
    section = sec((2,), HF, "subject")
    assert section_bytes(NESTED, MSG, section, partial=(9, 100)) == b"inner\r\n\r\n"


# --- BINARY ----------------------------------------------------------------------------------


def test_binary_decodes_base64_and_quoted_printable() -> None:
    assert binary_bytes(NESTED, MSG, (3,)) == b"Hello"
    assert binary_size(NESTED, MSG, (3,)) == 5
    assert binary_bytes(NESTED, MSG, (4, 1)) == "café soft=".encode()
    assert binary_size(NESTED, MSG, (4, 1)) == len("café soft=".encode())


def test_binary_unknown_cte_is_none() -> None:
    assert binary_bytes(NESTED, MSG, (4, 2)) is None
    assert binary_size(NESTED, MSG, (4, 2)) is None


def test_binary_identity_and_structure() -> None:
    assert binary_bytes(NESTED, MSG, (1,)) == b"part one"
    assert binary_size(NESTED, MSG, (1,)) == 8
    assert binary_bytes(NESTED, MSG, ()) is NESTED  # BINARY[]: the whole message
    assert binary_size(NESTED, MSG, ()) == len(NESTED)
    alt = section_bytes(NESTED, MSG, sec((4,)))
    assert binary_bytes(NESTED, MSG, (4,)) == alt  # a multipart: its raw body
    assert binary_size(NESTED, MSG, (4,)) == len(alt)
    assert binary_bytes(NESTED, MSG, (2,)) == INNER_HEADER + INNER_BODY
    assert binary_bytes(NESTED, MSG, (7,)) == b""
    assert binary_size(NESTED, MSG, (7,)) == 0


def test_binary_text_gets_crlf_line_ends() -> None:
    # RFC 9051 §7.5.2: textual sections always with CRLF.
    raw = b"Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\nYQpiCg==\n"
    msg = parse(raw)
    assert binary_bytes(raw, msg, (1,)) == b"a\r\nb\r\n"
    assert binary_size(raw, msg, (1,)) == 6
    raw = b"Content-Type: application/octet-stream\n\nYQpi\n"
    msg = parse(raw)
    assert binary_bytes(raw, msg, (1,)) == b"YQpi\n"  # not textual: untouched
    assert binary_size(raw, msg, (1,)) == 5


def test_binary_keeps_nul_octets() -> None:
    raw = crlf(
        "Content-Type: application/octet-stream",
        "Content-Transfer-Encoding: base64",
        "",
        "AAEA",
    )
    assert binary_bytes(raw, parse(raw), (1,)) == b"\x00\x01\x00"


# --- names -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "name"),
    [
        (FetchBody(sec()), "BODY[]"),
        (FetchBody(sec(), peek=True, partial=(0, 2048)), "BODY[]<0>"),
        (FetchBody(sec((), H), peek=True), "BODY[HEADER]"),
        (FetchBody(sec((), T), partial=(100, 10)), "BODY[TEXT]<100>"),
        (FetchBody(sec((1, 2))), "BODY[1.2]"),
        (FetchBody(sec((1, 2), M)), "BODY[1.2.MIME]"),
        (FetchBody(sec((3,), H)), "BODY[3.HEADER]"),
        (
            FetchBody(sec((), HF, "SUBJECT", "From"), partial=(0, 10)),
            "BODY[HEADER.FIELDS (SUBJECT From)]<0>",
        ),
        (FetchBody(sec((2,), HFN, "x-a")), "BODY[2.HEADER.FIELDS.NOT (x-a)]"),
        (FetchBody(sec((), HF, "a b", 'q"')), 'BODY[HEADER.FIELDS ("a b" "q\\"")]'),
        (FetchBody(sec((), HF, "nil")), 'BODY[HEADER.FIELDS ("nil")]'),
        (FetchBody(sec((), HF, "a\r\nb")), 'BODY[HEADER.FIELDS ("ab")]'),
        (FetchBinary((1, 2)), "BINARY[1.2]"),
        (FetchBinary((), peek=True, partial=(5, 5)), "BINARY[]<5>"),
        (FetchBinarySize((1,)), "BINARY.SIZE[1]"),
        (FetchBinarySize(()), "BINARY.SIZE[]"),
    ],
)
def test_response_names(item: FetchBody | FetchBinary | FetchBinarySize, name: str) -> None:
    assert response_name(item) == name
    assert "\r" not in name
    assert "\n" not in name


def test_rfc822_sections() -> None:
    assert rfc822_section(FetchAtt.RFC822) == BodySection()
    assert rfc822_section(FetchAtt.RFC822_HEADER) == BodySection(text=H)
    assert rfc822_section(FetchAtt.RFC822_TEXT) == BodySection(text=T)
    with pytest.raises(ValueError, match="not an RFC822 section"):
        rfc822_section(FetchAtt.ENVELOPE)
    msg = parse(OUTER_HEADER)
    assert section_bytes(OUTER_HEADER, msg, rfc822_section(FetchAtt.RFC822_HEADER)) == (
        OUTER_HEADER
    )


# --- fuzz ------------------------------------------------------------------------------------

FRAGMENTS = [
    b'Content-Type: multipart/mixed; boundary="b"\r\n',
    b"Content-Type: message/rfc822\r\n",
    b"Content-Type: text/plain\r\n",
    b"Content-Transfer-Encoding: base64\r\n",
    b"Content-Transfer-Encoding: quoted-printable\r\n",
    b"Content-Transfer-Encoding: x-weird\r\n",
    b"Subject: s\r\n",
    b" folded\r\n",
    b"\r\n",
    b"\n",
    b"--b\r\n",
    b"--b--\r\n",
    b"SGVsbG8=\r\n",
    b"=C3=A9=\r\n",
    b"x",
]

sections = st.builds(
    BodySection,
    st.lists(st.integers(0, 4), max_size=4).map(tuple),
    st.sampled_from([None, *SectionText]),
    st.lists(st.sampled_from(["subject", "SUBJECT", "content-type", "x"]), max_size=3).map(tuple),
)
partials = st.none() | st.tuples(st.integers(0, 300), st.integers(1, 300))


@st.composite
def messages(draw: st.DrawFn) -> bytes:
    raw = b"".join(draw(st.lists(st.sampled_from(FRAGMENTS), max_size=30)))
    if draw(st.booleans()) and raw:
        data = bytearray(raw)
        for _ in range(draw(st.integers(1, 5))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        raw = bytes(data)
    return raw


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    raw=st.one_of(messages(), st.binary(max_size=200)),
    section=sections,
    partial=partials,
)
def test_sections_never_raise(
    raw: bytes, section: BodySection, partial: tuple[int, int] | None
) -> None:
    msg = parse(raw)
    whole = section_bytes(raw, msg, section)
    assert isinstance(whole, bytes)
    assert section_bytes(raw, msg, section, partial=partial) == apply_partial(whole, partial)
    header = section_bytes(raw, msg, BodySection(text=H))
    text = section_bytes(raw, msg, BodySection(text=T))
    assert header + text == raw
    data = binary_bytes(raw, msg, section.part)
    size = binary_size(raw, msg, section.part)
    assert (data is None and size is None) or (data is not None and size == len(data))
    assert response_name(FetchBody(section, partial=partial))


@settings(max_examples=200, deadline=None)
@given(raw=messages(), junk=st.binary(max_size=50))
def test_sections_on_a_mismatched_model_never_raise(raw: bytes, junk: bytes) -> None:
    # The stored model of one message against other bytes (a corrupt store): still bytes.
    msg = parse(raw)
    for section in (sec(), sec((), H), sec((), HF, "subject"), sec((1,)), sec((2, 1), M)):
        assert isinstance(section_bytes(junk, msg, section), bytes)
    assert binary_bytes(junk, msg, (1,)) is None or isinstance(binary_bytes(junk, msg, (1,)), bytes)


_HEADER_LINES = st.sampled_from(
    [
        b"Subject: hello\r\n",
        b"From: a@example.org\r\n",
        b"subject: lower case\r\n",
        b"X-Long: folded\r\n continued\r\n",
        b"To: b@example.org\n",
        b"Received: by x\r\n\tfrom y\r\n",
        b"not a header line\r\n",
        b"Empty:\r\n",
    ]
)
_MESSAGES = st.builds(
    lambda lines, blank, body: b"".join(lines) + blank + body,
    st.lists(_HEADER_LINES, max_size=6),
    st.sampled_from([b"", b"\r\n", b"\n"]),
    st.sampled_from([b"", b"body\r\n", b"x", b"\r\n", b"Subject: in the body\r\n"]),
)
_HEADER_SECTIONS = st.one_of(
    st.just(BodySection(text=SectionText.HEADER)),
    st.builds(
        lambda text, fields: BodySection(text=text, fields=tuple(fields)),
        st.sampled_from([SectionText.HEADER_FIELDS, SectionText.HEADER_FIELDS_NOT]),
        st.lists(st.sampled_from(["Subject", "FROM", "x-long", "Received", "Nope"]), min_size=1),
    ),
)


@settings(max_examples=500)
@given(
    raw=_MESSAGES,
    section=_HEADER_SECTIONS,
    partial=st.none() | st.tuples(st.integers(0, 30), st.integers(1, 30)),
)
def test_header_section_from_the_header_alone_equals_section_bytes(
    raw: bytes, section: BodySection, partial: tuple[int, int] | None
) -> None:
    """What FETCH answers from a stored header (`Mailbox.read_headers`) is what the
    message and its structure give."""
    root = parse(raw).root
    header = raw[root.header_start : root.body_start]
    empty = root.body_start >= root.body_end
    assert is_header_section(section)
    assert header_section(header, empty, section, partial=partial) == section_bytes(
        raw, parse(raw), section, partial=partial
    )


def test_only_the_message_own_header_sections_are_header_sections() -> None:
    assert is_header_section(BodySection(text=SectionText.HEADER_FIELDS, fields=("To",)))
    assert not is_header_section(BodySection(part=(2,), text=SectionText.HEADER))
    assert not is_header_section(BodySection(text=SectionText.TEXT))
    assert not is_header_section(BodySection())
