"""The store is a layer of its own: it imports mappers and itself, nothing of the web or FHIR layers."""
import ast
import importlib
import pathlib

import pytest

import gateway.store

STORE = pathlib.Path(gateway.store.__file__).parent
MODULES = sorted(STORE.glob("*.py"))
OURS = {"gateway", "smart_auth", "mappers", "fixtures", "bench"}


def imported_modules(path):
    """Absolute names of the modules a store source file imports (relative imports resolved)."""
    package = "gateway.store"
    names = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module) if part)
            names.append(module)
            if node.module is None:  # "from . import x": x is a module of the base package
                names.extend(f"{base}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_store_module_imports_only_the_store_and_mappers(path):
    ours = [n for n in imported_modules(path) if n.split(".")[0] in OURS]
    outside = [n for n in ours if not (n == "gateway.store" or n.startswith("gateway.store.") or n == "mappers"
                                       or n.startswith("mappers."))]
    assert outside == []


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_store_module_imports_cleanly(path):
    name = "gateway.store" if path.stem == "__init__" else f"gateway.store.{path.stem}"
    assert importlib.import_module(name).__name__ == name


def test_the_rule_sees_a_relative_import_that_climbs_out(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("from ..search import date_range\nfrom . import chart\nimport mappers\n")
    assert imported_modules(probe) == ["gateway.search", "gateway.store", "gateway.store.chart", "mappers"]
