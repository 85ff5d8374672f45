"""THREAD=ORDEREDSUBJECT and THREAD=REFERENCES, exactly as RFC 5256 §BASE.6.4.THREAD says.

Both work on the `ThreadRow`s storage computed at delivery (uid, sent date as an integer
key, base subject, reply flag, normalised Message-ID and references) and return trees of
UIDs; the handler renumbers them for THREAD (sequence numbers) or keeps them for UID
THREAD. "Sent date" ties are broken by mailbox order (RFC 5256 §2.2), which is UID order,
so every node sorts by `(date key, uid)`, computed once when its message is known.

Speed (100,000 messages): rows are plain tuples, each node stores its sort key, the
recursive steps skip the leaves, which are most nodes, and the finished trees keep no
parent links (no reference cycles for the garbage collector to find). A hypothesis property
(tests/server/test_sort_fast.py) checks the result equals the straightforward
implementation over `SortFields` kept in tests/server/threading_reference.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import groupby, pairwise
from typing import Final

from buzon.storage.api import SortFields, ThreadRow, Uid

__all__ = ["Tree", "ordered_subject", "references", "row_of"]

# Fields of a ThreadRow.
_UID: Final = 0
_WHEN: Final = 1
_SUBJECT: Final = 2
_REPLY: Final = 3
_MSGID: Final = 4
_REFS: Final = 5
_NO_KEY = (-(1 << 62), 0)  # before any message (a dummy without messages; never sorted)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def row_of(f: SortFields) -> ThreadRow:
    """The `ThreadRow` of `SortFields` (sent date, else internal date, RFC 5256 §2.2)."""
    when = f.sent if f.sent is not None else f.internal_date
    micros = (when - _EPOCH) // dt.timedelta(microseconds=1)
    return (f.uid, micros, f.base_subject, f.is_reply, f.message_id, f.references)


@dataclass(slots=True, eq=False)
class Tree:
    """A thread node: a message (None for a dummy) and its children, in order.

    `key` is `(date key, uid)` of the message, or of the first message below a dummy once
    step 4 or 6 has computed it.
    """

    message: ThreadRow | None
    children: list[Tree] = field(default_factory=list)
    parent: Tree | None = None
    key: tuple[int, int] = _NO_KEY

    def uid(self) -> Uid | None:
        return None if self.message is None else self.message[_UID]


def _node(row: ThreadRow, parent: Tree | None = None) -> Tree:
    return Tree(row, [], parent, (row[_WHEN], row[_UID]))


def ordered_subject(rows: Sequence[ThreadRow]) -> list[Tree]:
    """ORDEREDSUBJECT: group by base subject; the first message is the parent of the rest."""
    ordered = sorted(rows, key=lambda r: (r[_SUBJECT], r[_WHEN], r[_UID]))
    threads: list[Tree] = []
    for _, group in groupby(ordered, key=lambda r: r[_SUBJECT]):
        members = list(group)
        root = _node(members[0])
        root.children = [_node(m, root) for m in members[1:]]
        threads.append(root)
    # "the threads are sorted by the sent date of the first message in the thread"
    threads.sort(key=lambda t: t.key)
    return threads


# --- REFERENCES -------------------------------------------------------------------------------


def _is_ancestor(a: Tree, b: Tree) -> bool:
    """Whether `a` is `b` or one of its ancestors."""
    node: Tree | None = b
    while node is not None:
        if node is a:
            return True
        node = node.parent
    return False


def _first_key(node: Tree) -> tuple[int, int]:
    """The key of a node: its message's, or for a dummy its first message's below it.

    "In the case of a dummy message ... use its first child for sorting" (steps 4, 6).
    """
    while node.message is None:
        if not node.children:
            return _NO_KEY
        node = node.children[0]
    return node.key


def _prune(children: list[Tree], *, at_root: bool) -> list[Tree]:
    """Step 3: drop empty dummies, splice the children of the others into their level."""
    out: list[Tree] = []
    for node in children:
        if node.children:
            node.children = _prune(node.children, at_root=False)
            for child in node.children:
                child.parent = node
        if node.message is None:
            if not node.children:
                continue
            # "Do not promote the children if doing so would make them children of the
            # root, unless there is only one child."
            if not at_root or len(node.children) == 1:
                out.extend(node.children)
                continue
        out.append(node)
    return out


def _subject_of(node: Tree) -> ThreadRow | None:
    """Step 5.B.i: the message itself, or its first child for a dummy."""
    if node.message is not None:
        return node.message
    return node.children[0].message if node.children else None


def _link(parent: Tree, child: Tree) -> None:
    child.parent = parent
    parent.children.append(child)


def _merge_subjects(roots: list[Tree]) -> list[Tree]:
    """Step 5: gather root messages with the same base subject."""
    table: dict[str, Tree] = {}
    for node in roots:
        m = _subject_of(node)
        if m is None or not m[_SUBJECT]:
            continue
        old = table.get(m[_SUBJECT])
        # 5.B.iv: a dummy, or a non-reply over a reply, takes the table's place.
        if old is None or (
            old.message is not None
            and (node.message is None or (old.message[_REPLY] and not node.message[_REPLY]))
        ):
            table[m[_SUBJECT]] = node
    out = list(roots)
    for node in roots:
        m = _subject_of(node)
        if m is None or not m[_SUBJECT]:
            continue
        old = table[m[_SUBJECT]]
        if old is node:
            continue
        if old.message is None and node.message is None:
            for child in node.children:
                _link(old, child)
            node.children = []
            out.remove(node)
        elif old.message is None or (
            node.message is not None and node.message[_REPLY] and not old.message[_REPLY]
        ):
            out.remove(node)
            _link(old, node)
        else:
            dummy = Tree(None)
            out[out.index(old)] = dummy
            out.remove(node)
            _link(dummy, old)
            _link(dummy, node)
            table[m[_SUBJECT]] = dummy
    return out


def _sort_all(nodes: list[Tree]) -> None:
    """Step 6: children before parents, each set of siblings by sent date."""
    stack = [n for n in nodes if n.children]
    post: list[Tree] = []
    while stack:  # every node with children, parents before their descendants
        node = stack.pop()
        post.append(node)
        stack.extend(c for c in node.children if c.children)
    for node in reversed(post):  # descendants first: a dummy's first child is final
        if len(node.children) > 1:
            node.children.sort(key=_first_key)
    nodes.sort(key=_first_key)


def references(rows: Sequence[ThreadRow]) -> list[Tree]:
    """REFERENCES (RFC 5256): the six steps, messages taken in mailbox order."""
    table: dict[str, Tree] = {}
    every: list[Tree] = []
    for row in sorted(rows, key=lambda r: r[_UID]):
        # (1) Unique Message-IDs: the first message keeps a duplicated id.
        ident = row[_MSGID]
        node = table.get(ident) if ident is not None else None
        if node is not None and node.message is None:
            node.message = row
            node.key = (row[_WHEN], row[_UID])
        else:
            node = _node(row)
            every.append(node)
            if ident is not None and ident not in table:
                table[ident] = node
        refs: list[Tree] = []
        for ref in row[_REFS]:
            parent = table.get(ref)
            if parent is None:
                parent = table[ref] = Tree(None)  # a dummy until its message turns up
                every.append(parent)
            refs.append(parent)
        # (1.A) link the references as parent/child, keeping existing parents, no loops
        for parent, child in pairwise(refs):
            if child.parent is None and not _is_ancestor(child, parent):
                _link(parent, child)
        # (1.B) the last reference is this message's parent
        if node.parent is not None:
            node.parent.children.remove(node)
            node.parent = None
        if refs and not _is_ancestor(node, refs[-1]):
            _link(refs[-1], node)
    # (2) the root set
    roots = [n for n in every if n.parent is None]
    # (3) prune dummies
    roots = _prune(roots, at_root=True)
    for node in roots:
        node.parent = None
    # (4) sort the root set (a dummy by its children's first)
    for node in roots:
        if node.message is None:
            node.children.sort(key=_first_key)
    roots.sort(key=_first_key)
    # (5) subjects
    roots = _merge_subjects(roots)
    # (6) sort every set of siblings
    _sort_all(roots)
    _forget_parents(roots)
    return roots


def _forget_parents(roots: list[Tree]) -> None:
    """Drop the parent links once the trees are final: without cycles, a finished THREAD's
    100,000 nodes are freed at once by reference counting, not by the cyclic collector."""
    stack = list(roots)
    while stack:
        node = stack.pop()
        node.parent = None
        stack.extend(node.children)
