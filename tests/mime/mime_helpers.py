"""Shared helpers for the mime tests: flatten a parse tree into comparable rows."""

from __future__ import annotations

from buzon.mime import BodyPart, ParsedMessage

Row = tuple[str, str, bytes, bytes]


def rows(raw: bytes, msg: ParsedMessage) -> list[Row]:
    """(section, type/subtype, header bytes, body bytes) for every entity, depth first.

    The section of the root is "", children are "1", "1.2"...; the root of an embedded
    message is "<section>.M".
    """
    out: list[Row] = []

    def walk(part: BodyPart, section: str) -> None:
        out.append(
            (
                section,
                f"{part.type}/{part.subtype}",
                raw[part.header_start : part.body_start],
                raw[part.body_start : part.body_end],
            )
        )
        for i, child in enumerate(part.parts, 1):
            walk(child, f"{section}.{i}" if section else str(i))
        if part.message is not None:
            walk(part.message.root, f"{section}.M" if section else "M")

    walk(msg.root, "")
    return out


def all_parts(msg: ParsedMessage) -> list[BodyPart]:
    out: list[BodyPart] = []
    stack = [msg.root]
    while stack:
        part = stack.pop()
        out.append(part)
        stack.extend(part.parts)
        if part.message is not None:
            stack.append(part.message.root)
    return out
