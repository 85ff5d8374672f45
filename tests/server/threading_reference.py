"""The THREAD algorithms as they were before the fast path: the reference for properties.

A verbatim copy of `server/threading_.py` over `SortFields` (one object per message,
datetimes), kept only to compare the fast implementation with. Do not optimise it.

Original docstring: THREAD=ORDEREDSUBJECT and THREAD=REFERENCES, exactly as RFC 5256 says.

Both work on the `SortFields` storage computed at delivery (base subject, reply flag,
normalised Message-ID and references, sent date) and return trees of UIDs; the handler
renumbers them for THREAD (sequence numbers) or keeps them for UID THREAD. "Sent date"
ties are broken by mailbox order (RFC 5256 §2.2), which is UID order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import groupby, pairwise

from buzon.server.sorting import sent_date
from buzon.storage.api import SortFields, Uid

__all__ = ["Tree", "ordered_subject", "references"]


@dataclass(slots=True, eq=False)
class Tree:
    """A thread node: a message (None for a dummy) and its children, in order."""

    message: SortFields | None
    children: list[Tree] = field(default_factory=list)
    parent: Tree | None = None

    def uid(self) -> Uid | None:
        return None if self.message is None else self.message.uid


def _when(f: SortFields) -> tuple[dt.datetime, int]:
    return sent_date(f), f.uid


def ordered_subject(fields: Sequence[SortFields]) -> list[Tree]:
    """ORDEREDSUBJECT: group by base subject; the first message is the parent of the rest."""
    ordered = sorted(fields, key=lambda f: (f.base_subject, *_when(f)))
    threads: list[Tree] = []
    for _, group in groupby(ordered, key=lambda f: f.base_subject):
        members = list(group)
        root = Tree(members[0])
        root.children = [Tree(m, parent=root) for m in members[1:]]
        threads.append(root)
    # "the threads are sorted by the sent date of the first message in the thread"
    threads.sort(key=lambda t: _when(t.message) if t.message else (dt.datetime.min, 0))
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


def _unlink(node: Tree) -> None:
    if node.parent is not None:
        node.parent.children.remove(node)
        node.parent = None


def _link(parent: Tree, child: Tree) -> None:
    child.parent = parent
    parent.children.append(child)


def _first_message(node: Tree) -> SortFields | None:
    if node.message is not None:
        return node.message
    for child in node.children:
        got = _first_message(child)
        if got is not None:
            return got
    return None


def _sort_key(node: Tree) -> tuple[dt.datetime, int]:
    # "In the case of a dummy message ... use its first child for sorting."
    m = _first_message(node)
    return _when(m) if m is not None else (dt.datetime.min.replace(tzinfo=dt.UTC), 0)


def _prune(children: list[Tree], *, at_root: bool) -> list[Tree]:
    """Step 3: drop empty dummies, splice the children of the others into their level."""
    out: list[Tree] = []
    for node in children:
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


def _subject_of(node: Tree) -> SortFields | None:
    """Step 5.B.i: the message itself, or its first child for a dummy."""
    if node.message is not None:
        return node.message
    return node.children[0].message if node.children else None


def _merge_subjects(roots: list[Tree]) -> list[Tree]:
    """Step 5: gather root messages with the same base subject."""
    table: dict[str, Tree] = {}
    for node in roots:
        m = _subject_of(node)
        if m is None or not m.base_subject:
            continue
        old = table.get(m.base_subject)
        # 5.B.iv: a dummy, or a non-reply over a reply, takes the table's place.
        if old is None or (
            old.message is not None
            and (node.message is None or (old.message.is_reply and not node.message.is_reply))
        ):
            table[m.base_subject] = node
    out = list(roots)
    for node in roots:
        m = _subject_of(node)
        if m is None or not m.base_subject:
            continue
        old = table[m.base_subject]
        if old is node:
            continue
        if old.message is None and node.message is None:
            for child in node.children:
                _link(old, child)
            node.children = []
            out.remove(node)
        elif old.message is None or (
            node.message is not None and node.message.is_reply and not old.message.is_reply
        ):
            out.remove(node)
            _link(old, node)
        else:
            dummy = Tree(None)
            out[out.index(old)] = dummy
            out.remove(node)
            _link(dummy, old)
            _link(dummy, node)
            table[m.base_subject] = dummy
    return out


def _sort_all(nodes: list[Tree]) -> None:
    """Step 6: children before parents, each set of siblings by sent date."""
    for node in nodes:
        _sort_all(node.children)
    nodes.sort(key=_sort_key)


def references(fields: Sequence[SortFields]) -> list[Tree]:
    """REFERENCES (RFC 5256): the six steps, messages taken in mailbox order."""
    table: dict[str, Tree] = {}
    every: list[Tree] = []

    def container(ident: str) -> Tree:
        node = table.get(ident)
        if node is None:
            node = table[ident] = Tree(None)  # a dummy until its message turns up
            every.append(node)
        return node

    for f in sorted(fields, key=lambda f: f.uid):
        # (1) Unique Message-IDs: the first message keeps a duplicated id.
        ident = f.message_id
        node = table.get(ident) if ident is not None else None
        if node is not None and node.message is None:
            node.message = f
        else:
            node = Tree(f)
            every.append(node)
            if ident is not None and ident not in table:
                table[ident] = node
        refs = [container(r) for r in f.references]
        # (1.A) link the references as parent/child, keeping existing parents, no loops
        for parent, child in pairwise(refs):
            if child.parent is None and not _is_ancestor(child, parent):
                _link(parent, child)
        # (1.B) the last reference is this message's parent
        _unlink(node)
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
            node.children.sort(key=_sort_key)
    roots.sort(key=_sort_key)
    # (5) subjects
    roots = _merge_subjects(roots)
    # (6) sort every set of siblings
    _sort_all(roots)
    return roots
