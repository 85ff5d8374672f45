"""RFC 5464 §3.2 entry names: what SETMETADATA and GETMETADATA accept."""

from __future__ import annotations

import pytest

from buzon.server.cmd_metadata import entry_problem
from buzon.server.namespaces import reserved


@pytest.mark.parametrize(
    ("name", "for_set", "ok"),
    [
        ("/private/comment", True, True),
        ("/SHARED/Comment", True, True),
        ("/shared/vendor/buzon/x", True, True),
        ("/shared/vendor/buzon", True, False),  # vendor names have four components
        ("/shared/vendor/buzon", False, True),  # but may be asked for with DEPTH
        ("/private", True, False),
        ("/private", False, True),
        ("/comment", False, False),
        ("private/comment", True, False),
        ("/private//comment", True, False),
        ("/private/comment/", True, False),
        ("/private/a*", False, False),
        ("/private/a%", False, False),
        ("/private/caf\u00e9", True, False),
        ("/private/a\tb", True, False),
    ],
)
def test_entry_names(name: str, for_set: bool, ok: bool) -> None:
    assert (entry_problem(name, for_set=for_set) is None) is ok


@pytest.mark.parametrize(
    ("name", "is_reserved"),
    [
        ("Other Users", True),
        ("Other Users/bob/INBOX", True),
        ("Shared Folders/x", True),
        ("Other Usersx", False),
        ("other users/x", False),  # names are case-sensitive; only INBOX is not
        ("INBOX/Other Users", False),
    ],
)
def test_reserved_namespace_prefixes(name: str, is_reserved: bool) -> None:
    assert reserved(name) is is_reserved
