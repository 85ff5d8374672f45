"""The three namespaces of RFC 2342 and the names they reserve in the personal one.

Theory of operation
-------------------
Every user has one personal namespace with no prefix. "Other Users/" and "Shared
Folders/" are advertised now (RFC 2342 §5) for the shared-folder work to come; until it
arrives they hold nothing. So that a name never changes meaning when that work lands,
the personal namespace may not contain those prefixes: CREATE and RENAME to such a name
are refused, and LIST hides any that exist (RFC 2342 §4 lets a server list nothing for
a namespace the user can see nothing in).
"""

from __future__ import annotations

from buzon.imap.responses import NamespaceData
from buzon.storage.api import DELIMITER

OTHER_USERS = "Other Users" + DELIMITER
SHARED_FOLDERS = "Shared Folders" + DELIMITER
RESERVED_PREFIXES = (OTHER_USERS, SHARED_FOLDERS)


def namespace_data() -> NamespaceData:
    """``* NAMESPACE (("" "/")) (("Other Users/" "/")) (("Shared Folders/" "/"))``."""
    return NamespaceData(
        personal=(("", DELIMITER),),
        other=((OTHER_USERS, DELIMITER),),
        shared=((SHARED_FOLDERS, DELIMITER),),
    )


def reserved(name: str) -> bool:
    """Whether `name` lies in another namespace (or is the root of one)."""
    return any((name + DELIMITER).startswith(prefix) for prefix in RESERVED_PREFIXES)
