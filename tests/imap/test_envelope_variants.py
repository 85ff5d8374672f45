"""The one ENVELOPE rendering the server keeps serves UTF-8 sessions unless it holds a
literal (`server/fetchenvelope.py`): without CRLF, the rendering without UTF-8 is the
rendering with UTF-8, byte for byte."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from buzon.imap.fetchrender import render_envelope
from buzon.mime import Address, Envelope

# Header values as they come: printable ASCII with quotes and backslashes, UTF-8, Latin-1,
# controls, and a few long enough to exceed QUOTED_MAX.
_pieces = st.sampled_from(
    [b"plain", b' "q" ', b"\\", "Grüße".encode(), "Köln".encode("latin-1"), b"\x01", b"\r\n"]
)
values = st.one_of(
    st.none(),
    st.lists(_pieces, max_size=6).map(b"".join),
    st.binary(max_size=20),
    st.integers(1000, 1100).map(lambda n: b"x" * n),
)
addresses = st.tuples(
    st.builds(Address, values, values, values, values),
    st.builds(Address, values, values, values, values),
).map(tuple)
envelopes = st.builds(
    Envelope,
    date=values,
    subject=values,
    from_=addresses,
    sender=st.just(()),
    reply_to=addresses,
    to=addresses,
    cc=st.just(()),
    bcc=addresses,
    in_reply_to=values,
    message_id=values,
)


@given(envelopes)
def test_a_rendering_without_literal_is_the_same_with_utf8(envelope: Envelope) -> None:
    plain = render_envelope(envelope)
    if b"\r\n" not in plain:
        assert render_envelope(envelope, utf8=True) == plain


def test_raw_utf8_differs_only_through_a_literal() -> None:
    envelope = Envelope(subject="Grüße".encode())
    plain = render_envelope(envelope)
    assert b"\r\n" in plain
    assert (
        render_envelope(envelope, utf8=True)
        == '(NIL "Grüße" NIL NIL NIL NIL NIL NIL NIL NIL)'.encode()
    )
