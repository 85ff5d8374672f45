"""Property tests of the reader: the fuzz invariant and generated valid commands.

1. Any bytes, split anywhere, only ever give events (or ProtocolViolation), the
   reader always settles, and the events do not depend on the split.
2. Generated FETCH/STORE/SEARCH/LIST/APPEND commands (with random literals) read
   back to the command they were generated from, in any split.
"""

from __future__ import annotations

import datetime as dt
import re

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.imap.test_reader_helpers import run

from buzon.imap import commands as c
from buzon.imap import mutf7
from buzon.imap.commands_values import (
    STAR,
    BodySection,
    FetchAtt,
    FetchBody,
    FetchItem,
    SectionText,
    SeqNumber,
    SequenceSet,
    StoreOperation,
)
from buzon.imap.reader import Eof, Event, NeedContinuation, ProtocolViolation, ReaderLimits
from buzon.imap.searchkeys import (
    And,
    DateField,
    DateKey,
    DateOp,
    FlagKey,
    HeaderKey,
    Not,
    Or,
    SearchKey,
    SizeKey,
    UidKey,
)

TOKENS = [
    b"a1 ", b"FETCH ", b"APPEND INBOX ", b"SEARCH ", b"LOGIN ", b"UID ", b"LIST ", b"STORE ",
    b"{5}\r\n", b"{3+}\r\n", b"~{2}\r\n", b"{0}\r\n", b"{99999999999}\r\n", b"{200+}\r\n",
    b"\r\n", b"\n", b"\r", b'"', b"\\", b"(", b")", b"[", b"]", b"<", b"*", b"1:*", b" ",
    b"BODY[", b"HEADER.FIELDS (", b"NOT ", b"OR ", b"&", b"\x00", b"\xff",
]  # fmt: skip
SMALL = ReaderLimits(max_line=64, max_literal=40, max_nonsync_literal=16, max_command=60)
soup = st.lists(st.one_of(st.sampled_from(TOKENS), st.binary(max_size=12)), max_size=40).map(
    b"".join
)


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c_, len(data)) for c_ in cuts})
    parts, prev = [], 0
    for p in points:
        parts.append(data[prev:p])
        prev = p
    parts.append(data[prev:])
    return parts


def _safe_run(chunks: list[bytes], limits: ReaderLimits | None, accept: bool) -> list[Event]:
    try:
        return run(chunks, limits=limits, accept=accept)
    except ProtocolViolation:
        return []


@settings(max_examples=400, deadline=None)
@given(soup, st.lists(st.integers(0, 400), max_size=8), st.booleans(), st.booleans())
def test_fuzz_any_bytes_any_split(data: bytes, cuts: list[int], small: bool, accept: bool) -> None:
    limits = SMALL if small else None
    whole = _safe_run([data], limits, accept)
    assert whole
    assert isinstance(whole[-1], Eof)
    assert _safe_run(_split(data, cuts), limits, accept) == whole


@settings(max_examples=100, deadline=None)
@given(soup)
def test_fuzz_bytewise_equals_whole(data: bytes) -> None:
    assert _safe_run([data[i : i + 1] for i in range(len(data))], SMALL, True) == _safe_run(
        [data], SMALL, True
    )


# -- generated valid commands ----------------------------------------------------------

_ASTRING_RE = re.compile(rb"[^\x00-\x20\x7f-\xff(){%*\"\\]+")


@st.composite
def wire_string(draw: st.DrawFn, value: bytes, *, atom_ok: bool = True) -> bytes:
    """Render `value` as an atom, a quoted string or a literal ({n} or {n+})."""
    forms = ["sync", "nonsync"]
    if atom_ok and _ASTRING_RE.fullmatch(value):
        forms.append("atom")
    if not re.search(rb"[\r\n\x00\x80-\xff]", value):
        forms.append("quoted")
    form = draw(st.sampled_from(forms))
    if form == "atom":
        return value
    if form == "quoted":
        return b'"' + value.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'
    plus = b"+" if form == "nonsync" else b""
    return b"{%d%s}\r\n" % (len(value), plus) + value


tags = st.from_regex(r"[A-Za-z0-9.]{1,8}", fullmatch=True)
numbers = st.integers(1, 2**32 - 1)
seq_numbers: st.SearchStrategy[SeqNumber] = st.one_of(numbers, st.just(STAR))


@st.composite
def sequence_sets(draw: st.DrawFn) -> tuple[bytes, SequenceSet]:
    ranges = draw(st.lists(st.tuples(seq_numbers, seq_numbers), min_size=1, max_size=4))

    def one(n: SeqNumber) -> str:
        return "*" if n is STAR else str(n)

    text = ",".join(one(a) if a == b else f"{one(a)}:{one(b)}" for a, b in ranges)
    return text.encode(), SequenceSet(tuple(ranges))


_SIMPLE_ATTS = list(FetchAtt)
_SECTIONS = [
    (b"", BodySection()),
    (b"HEADER", BodySection((), SectionText.HEADER)),
    (b"TEXT", BodySection((), SectionText.TEXT)),
    (b"1.2", BodySection((1, 2))),
    (b"2.MIME", BodySection((2,), SectionText.MIME)),
    (b"HEADER.FIELDS (From To)", BodySection((), SectionText.HEADER_FIELDS, ("From", "To"))),
]  # fmt: skip


@st.composite
def fetch_items(draw: st.DrawFn) -> tuple[bytes, FetchItem]:
    if draw(st.booleans()):
        att = draw(st.sampled_from(_SIMPLE_ATTS))
        word = att.value.encode()
        return (word.lower() if draw(st.booleans()) else word), att
    wire, section = draw(st.sampled_from(_SECTIONS))
    peek = draw(st.booleans())
    partial = draw(st.none() | st.tuples(st.integers(0, 10**6), st.integers(1, 10**6)))
    text = (b"BODY.PEEK[" if peek else b"BODY[") + wire + b"]"
    if partial:
        text += b"<%d.%d>" % partial
    return text, FetchBody(section, peek, partial)


@st.composite
def fetch_commands(draw: st.DrawFn) -> tuple[bytes, c.Fetch]:
    tag = draw(tags)
    uid = draw(st.booleans())
    seq_wire, seq = draw(sequence_sets())
    items = draw(st.lists(fetch_items(), min_size=1, max_size=5, unique_by=lambda i: i[1]))
    wire = b" ".join(w for w, _ in items)
    if len(items) > 1 or draw(st.booleans()):
        wire = b"(" + wire + b")"
    prefix = b"UID FETCH" if uid else b"FETCH"
    line = tag.encode() + b" " + prefix + b" " + seq_wire + b" " + wire + b"\r\n"
    return line, c.Fetch(tag, seq, tuple(i for _, i in items), uid)


_FLAG_SPELLINGS = ["\\Seen", "\\seen", "\\ANSWERED", "\\Flagged", "\\deleted", "\\Draft"]
keywords = st.from_regex(r"[A-Za-z$][A-Za-z0-9_$]{0,8}", fullmatch=True)


@st.composite
def store_commands(draw: st.DrawFn) -> tuple[bytes, c.Store]:
    tag = draw(tags)
    seq_wire, seq = draw(sequence_sets())
    op = draw(st.sampled_from(list(StoreOperation)))
    silent = draw(st.booleans())
    flags = draw(st.lists(st.one_of(st.sampled_from(_FLAG_SPELLINGS), keywords), max_size=5))
    canon: list[str] = []
    for f in flags:
        cf = f if not f.startswith("\\") else "\\" + f[1:].capitalize()
        if cf not in canon:
            canon.append(cf)
    op_word = op.value + (".SILENT" if silent else "")
    line = f"{tag} STORE {seq_wire.decode()} {op_word} ({' '.join(flags)})\r\n".encode()
    return line, c.Store(tag, seq, op, tuple(canon), silent=silent)


_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def search_keys(depth: int = 0) -> st.SearchStrategy[tuple[bytes, SearchKey]]:
    @st.composite
    def header(draw: st.DrawFn) -> tuple[bytes, SearchKey]:
        name = draw(st.sampled_from(["FROM", "TO", "CC", "BCC", "SUBJECT"]))
        value = draw(st.text(max_size=10))
        wire = draw(wire_string(value.encode()))
        return name.encode() + b" " + wire, HeaderKey(name, value)

    @st.composite
    def date_key(draw: st.DrawFn) -> tuple[bytes, SearchKey]:
        d = draw(st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1)))
        name = draw(st.sampled_from(["BEFORE", "ON", "SINCE", "SENTSINCE"]))
        text = f"{d.day}-{_MONTHS[d.month - 1]}-{d.year:04d}"
        field = DateField.SENT if name.startswith("SENT") else DateField.INTERNAL
        op = DateOp(name.removeprefix("SENT"))
        return f"{name} {text}".encode(), DateKey(field, op, d)

    simple = st.one_of(
        st.just((b"SEEN", FlagKey("\\Seen"))),
        st.just((b"unanswered", FlagKey("\\Answered", False))),
        keywords.map(lambda k: (b"KEYWORD " + k.encode(), FlagKey(k))),
        st.integers(0, 2**40).map(lambda n: (b"LARGER %d" % n, SizeKey(True, n))),
        sequence_sets().map(lambda s: (b"UID " + s[0], UidKey(s[1]))),
        header(),
        date_key(),
    )
    if depth >= 3:
        return simple
    sub = search_keys(depth + 1)
    return st.one_of(
        simple,
        sub.map(lambda k: (b"NOT " + k[0], Not(k[1]))),
        st.tuples(sub, sub).map(
            lambda p: (b"OR " + p[0][0] + b" " + p[1][0], Or(p[0][1], p[1][1]))
        ),
        st.lists(sub, min_size=2, max_size=3).map(
            lambda ks: (b"(" + b" ".join(k[0] for k in ks) + b")", And(tuple(k[1] for k in ks)))
        ),
    )  # fmt: skip


@st.composite
def search_commands(draw: st.DrawFn) -> tuple[bytes, c.Search]:
    tag = draw(tags)
    keys = draw(st.lists(search_keys(), min_size=1, max_size=3))
    key = keys[0][1] if len(keys) == 1 else And(tuple(k[1] for k in keys))
    line = tag.encode() + b" SEARCH " + b" ".join(k[0] for k in keys) + b"\r\n"
    return line, c.Search(tag, key)


mailbox_names = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\r\n"), max_size=12
)


@st.composite
def list_commands(draw: st.DrawFn) -> tuple[bytes, c.List]:
    tag = draw(tags)
    ref = draw(mailbox_names)
    pats = draw(st.lists(mailbox_names.map(lambda s: s + "%"), min_size=1, max_size=3))
    ref_wire = draw(wire_string(mutf7.encode(ref).encode()))
    pat_wires = [draw(wire_string(mutf7.encode(p).encode())) for p in pats]
    many = len(pats) > 1
    pat_wire = b"(" + b" ".join(pat_wires) + b")" if many else pat_wires[0]
    line = tag.encode() + b" LIST " + ref_wire + b" " + pat_wire + b"\r\n"
    ref_value = "INBOX" if ref.upper() == "INBOX" else ref
    return line, c.List(tag, ref_value, tuple(pats), extended=many)


@st.composite
def append_commands(draw: st.DrawFn) -> tuple[bytes, c.Append]:
    tag = draw(tags)
    box = draw(mailbox_names)
    parts = [tag.encode() + b" APPEND " + draw(wire_string(mutf7.encode(box).encode()))]
    messages = []
    for _ in range(draw(st.integers(1, 3))):
        data = draw(st.binary(max_size=40))
        flags = draw(st.lists(keywords, max_size=2, unique=True))
        binary = draw(st.booleans())
        plus = draw(st.booleans()) and not binary
        when = draw(st.none() | st.datetimes(dt.datetime(1970, 1, 1), dt.datetime(2100, 1, 1)))
        msg = b""
        parens: bool = draw(st.booleans())
        if flags or parens:
            msg += b"(" + " ".join(flags).encode() + b") "
        date = None
        if when is not None:
            date = when.replace(microsecond=0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
            msg += date.strftime('"%d-%b-%Y %H:%M:%S -0500" ').encode()
        msg += (b"~" if binary else b"") + b"{%d%s}\r\n" % (len(data), b"+" if plus else b"") + data
        parts.append(msg)
        messages.append(c.AppendMessage(data, tuple(flags), date, binary))
    mailbox = "INBOX" if box.upper() == "INBOX" else box
    return b" ".join(parts) + b"\r\n", c.Append(tag, mailbox, tuple(messages))


commands = st.one_of(
    fetch_commands(), store_commands(), search_commands(), list_commands(), append_commands()
)


@settings(max_examples=300, deadline=None)
@given(st.lists(commands, min_size=1, max_size=3), st.lists(st.integers(0, 2000), max_size=10))
def test_generated_commands_round_trip(cmds: list[tuple[bytes, Event]], cuts: list[int]) -> None:
    data = b"".join(w for w, _ in cmds)
    expected = [e for _, e in cmds]
    for chunks in ([data], _split(data, cuts)):
        got = [e for e in run(chunks) if not isinstance(e, NeedContinuation | Eof)]
        assert got == expected
