"""Reading stored FHIR JSON by id."""

from .search import where_sql


def read_resource(conn, resource_type, resource_id, visibility):
    """Return (json bytes, versionId, lastUpdated) of a resource the caller may see, or None.

    "Not there" and "not yours" both give None, so ids cannot be probed (DESIGN.md).
    """
    where, params = where_sql(resource_type, [], visibility)
    return conn.execute(
        f"SELECT r.json, r.version, r.last_updated FROM resources r WHERE {where} AND r.id = ?", [*params, resource_id]
    ).fetchone()


def read_resources(conn, resource_type, ids, visibility):
    """Return [(pk, id, json bytes)] for those of ``ids`` the caller may see, in storage order."""
    if not ids:
        return []
    where, params = where_sql(resource_type, [], visibility)
    marks = ",".join("?" * len(ids))
    return conn.execute(
        f"SELECT r.pk, r.id, r.json FROM resources r WHERE {where} AND r.id IN ({marks}) ORDER BY r.pk", [*params, *ids]
    ).fetchall()


def note_document(conn, note_uid):
    """Return (content type, body bytes) of the document of the clinical note ``note_uid``, or None.

    The caller checks first that the note's DocumentReference is visible to it (gateway.fhir.handlers.binary).
    """
    row = conn.execute("SELECT content_type, body FROM clinical_notes WHERE uid = ?", (note_uid,)).fetchone()
    if row is None:
        return None
    body = row[1]
    return row[0], body.encode("utf-8") if isinstance(body, str) else bytes(body)
