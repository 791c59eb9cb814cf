"""What a Provenance is built from: the stored facts of its target resource (see mappers.provenance)."""

from .search import where_sql
from .search_index import ANY_REFERENCE

# The Practitioner a record references is its author (each of our types references at most one; min() keeps
# the answer stable if one ever references more). A range on the primary key (pk, param, target), not a LIKE.
_FACTS = (
    "SELECT r.pk, r.type, r.id, r.patient_id, r.version, r.last_updated, r.practice_id,"
    " (SELECT substr(min(x.target), 14) FROM search_ref x WHERE x.pk = r.pk"
    f" AND x.param = '{ANY_REFERENCE}' AND x.target >= 'Practitioner/' AND x.target < 'Practitioner0')"
    " FROM resources r"
)
_NAMES = ("pk", "type", "id", "patient", "version", "recorded", "organization", "provider")


def provenance_facts(conn, pks):
    """The facts of the live resources ``pks``, as dicts in pk order (the caller has already seen them)."""
    if not pks:
        return []
    marks = ",".join("?" * len(pks))
    rows = conn.execute(f"{_FACTS} WHERE r.deleted = 0 AND r.pk IN ({marks}) ORDER BY r.pk", list(pks))
    return [dict(zip(_NAMES, row)) for row in rows]


def provenance_target(conn, resource_type, resource_id, visibility):
    """The facts of one resource the caller may see under ``visibility``, or None (not there, or not theirs)."""
    where, params = where_sql(resource_type, [], visibility)
    row = conn.execute(f"{_FACTS} WHERE {where} AND r.id = ?", [*params, resource_id]).fetchone()
    return dict(zip(_NAMES, row)) if row else None
