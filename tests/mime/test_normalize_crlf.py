"""`normalize_crlf` against the plain three-replace definition, and when it copies."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from buzon.mime import normalize_crlf


def reference(raw: bytes) -> bytes:
    return raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from([b"a", b"\r", b"\n", b"\r\n", b"\n\r"]) | st.binary(max_size=3)))
def test_equals_the_reference_and_copies_only_to_change(pieces: list[bytes]) -> None:
    raw = b"".join(pieces)
    out = normalize_crlf(raw)
    assert out == reference(raw)
    assert (out is raw) == (out == raw)


def test_input_without_line_ends_or_already_crlf_is_returned_itself() -> None:
    for raw in (b"", b"no line end", b"a\r\nb\r\n" * 3):
        assert normalize_crlf(raw) is raw
