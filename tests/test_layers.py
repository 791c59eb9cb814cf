"""The layers of DESIGN.md, enforced: an import may only point down.

    wiring      gateway.app, gateway.cli, gateway.server, gateway.__main__, gateway.demo_guide (fixtures too)
    doors       gateway.fhir, gateway.portal, gateway.practice, gateway.oauth, gateway.web, and the shared
                record readers and senders beside them in gateway/ (records, exports, transmit, ...)
    auth        smart_auth            (never a door or the wiring)
    store       gateway.store         (mappers only)
    mappers     mappers               (nothing of ours)
gateway.outbound (the one outbound HTTP client) and gateway.config sit beside the store: they import nothing of ours.
"""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
OURS = ("gateway", "smart_auth", "mappers", "fixtures", "bench", "tests")
WIRING = {"gateway.app", "gateway.cli", "gateway.server", "gateway.__main__", "gateway.demo_guide"}
DOORS = ("gateway.fhir", "gateway.portal", "gateway.practice", "gateway.oauth", "gateway.web")
LEAVES = {"gateway.outbound", "gateway.config"}


def module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path):
    """Every module of ours that ``path`` imports (relative imports resolved, ``from x import y`` as x.y)."""
    name, tree = module_name(path), ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            names = {f"{base}.{alias.name}" for alias in node.names}
            modules = {m for m in names if _exists(m)}
            found |= modules if modules == names else modules | {base}
    return {m for m in found if m.split(".")[0] in OURS and _exists(m)}


def _exists(module):
    path = ROOT.joinpath(*module.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def within(module, prefix):
    return module == prefix or module.startswith(prefix + ".")


def allowed(importer, imported):
    """May ``importer`` import ``imported``?"""
    if within(imported, importer.split(".")[0]) and importer.split(".")[0] in ("mappers", "smart_auth"):
        return True
    if within(importer, "mappers"):
        return within(imported, "mappers")
    if within(importer, "gateway.store"):
        return within(imported, "gateway.store") or within(imported, "mappers")
    if importer in LEAVES:
        return False
    if within(importer, "smart_auth"):
        return any(within(imported, p) for p in ("gateway.store", "mappers", *LEAVES))
    if within(importer, "gateway"):
        return importer in WIRING or imported not in WIRING and not within(imported, "fixtures")
    return True


SOURCES = sorted(p for d in ("mappers", "gateway", "smart_auth") for p in (ROOT / d).rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_down(path):
    importer = module_name(path)
    wrong = sorted(m for m in imports_of(path) if not allowed(importer, m))
    assert wrong == [], f"{importer} may not import {', '.join(wrong)} (see this file's docstring)"


def test_the_rules_catch_an_upward_import():
    assert not allowed("mappers.condition", "gateway.store")
    assert not allowed("gateway.store.chart", "gateway.fhir.search")
    assert not allowed("smart_auth.consent", "gateway.web.auth")
    assert not allowed("gateway.portal.home", "gateway.app")
    assert allowed("smart_auth.notify", "gateway.outbound")
    assert allowed("gateway.portal.home", "smart_auth.accounts")
