"""Shared helpers for the mapper tests: schema-true chart rows, a ctx, R4B validation, search paths."""

import sqlite3

import pytest
from fhir.resources.R4B import get_fhir_model_class

from gateway.store.migrations import CHART_SCHEMA, SITES_ROLES_IMPLANTS_FILLS

CTX = {
    "patient": "pat-7f3a",
    "organization": "org-11c2",
    "mrn_system": "urn:oid:2.16.840.1.113883.3.4242.1",
    "provider": "prac-9d0e",
}


def validate(resource):
    """Validate a mapper output with the fhir.resources R4B model of its resourceType; raise if invalid."""
    model = get_fhir_model_class(resource["resourceType"])
    model.model_validate(resource)
    return resource


def chart_row(table, **values):
    """Store ``values`` in a fresh in-memory copy of ``table`` and return the row as the store reads it.

    Unknown columns fail, NOT NULL integer foreign keys default to 1, and SQLite's column types
    apply (a REAL column gives back a float), so tests see exactly what the mappers will be given.
    """
    db = sqlite3.connect(":memory:")
    db.row_factory = sqlite3.Row
    db.executescript(CHART_SCHEMA + SITES_ROLES_IMPLANTS_FILLS)
    columns = {column["name"]: column for column in db.execute(f"PRAGMA table_info({table})")}
    unknown = set(values) - set(columns)
    assert not unknown, f"{table} has no column(s) {sorted(unknown)}"
    for name, column in columns.items():
        if name.endswith("_id") and column["notnull"]:
            values.setdefault(name, 1)
    names, marks = ", ".join(values), ", ".join("?" * len(values))
    cursor = db.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", tuple(values.values()))
    row = db.execute(f"SELECT * FROM {table} WHERE rowid = ?", (cursor.lastrowid,)).fetchone()
    db.close()
    return dict(row)


def resolve(resource, path):
    """Return every value found at a dotted element path, walking lists element by element."""
    found = [resource]
    for step in path.split("."):
        nxt = []
        for item in found:
            value = item.get(step) if isinstance(item, dict) else None
            nxt.extend(value if isinstance(value, list) else [] if value is None else [value])
        found = nxt
    return found


def assert_searchable(resource, resource_type, unindexed=()):
    """Assert every search parameter of ``resource_type`` finds a value in ``resource``."""
    for param in resource_type.search_params:
        if param.name in unindexed:
            continue
        values = [value for path in param.paths for value in resolve(resource, path)]
        assert values, f"{resource_type.name}?{param.name} finds nothing at {param.paths}"
        if param.type == "reference" and param.targets:
            typed = [v for v in values if v.get("reference", "").split("/")[0] in param.targets]
            assert typed, f"{resource_type.name}?{param.name} finds no {param.targets} reference"


@pytest.fixture
def ctx():
    """A ctx as the store resolves it for a compartment row of one practice."""
    return dict(CTX)


@pytest.fixture(name="validate")
def validate_fixture():
    """The ``validate`` helper, as a fixture (test modules do not import conftest)."""
    return validate


@pytest.fixture(name="chart_row")
def chart_row_fixture():
    """The ``chart_row`` helper, as a fixture."""
    return chart_row


@pytest.fixture(name="assert_searchable")
def assert_searchable_fixture():
    """The ``assert_searchable`` helper, as a fixture."""
    return assert_searchable
