"""The layering of ARCHITECTURE.md, enforced: who may import whom."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "buzon"

# Layer → the layers of ours it may import (besides itself).
ALLOWED: dict[str, set[str]] = {
    "mime": set(),
    "imap": {"mime"},
    "storage": {"mime"},
    "auth": {"storage"},
    "server": {"imap", "storage", "mime", "auth", "config", "__init__"},
    "lmtp": {"storage", "mime", "auth", "config", "__init__"},
    "pop3": {"storage", "mime", "auth", "config", "__init__"},
    "config": set(),
    "cli": {"imap", "storage", "mime", "auth", "server", "config", "__init__", "lmtp", "pop3"},
}


def _layer(path: Path) -> str:
    relative = path.relative_to(SRC)
    return relative.parts[0].removesuffix(".py")


def _imported_layers(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    layers: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
            if node.module == "buzon":
                names = ["buzon.__init__"]
        for name in names:
            parts = name.split(".")
            if parts[0] == "buzon" and len(parts) > 1:
                layers.add(parts[1])
    return layers


MODULES = sorted(p for p in SRC.rglob("*.py") if p.parent != SRC or p.name != "__init__.py")


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(SRC)) for p in MODULES])
def test_imports_follow_the_layers(path: Path) -> None:
    layer = _layer(path)
    assert layer in ALLOWED, f"{layer} is not a layer named in ARCHITECTURE.md"
    forbidden = _imported_layers(path) - ALLOWED[layer] - {layer}
    assert not forbidden, f"{path.relative_to(SRC)} imports {sorted(forbidden)}"


def test_the_rule_catches_a_violation(tmp_path: Path) -> None:
    module = tmp_path / "x.py"
    module.write_text("from buzon.server import app\nimport buzon.storage.api\n")
    assert _imported_layers(module) == {"server", "storage"}
