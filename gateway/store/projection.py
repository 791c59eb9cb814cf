"""The FHIR projection: map chart rows with the registry's mappers and store JSON plus search index rows.

This is the only place a mapper runs. Reads select what it stored.
"""
import multiprocessing
import os

import orjson

from mappers import REGISTRY, UnmappableValue

from ..errors import ChartError
from ..search import date_range
from ..search_index import index_entries

CHUNK = 500  # ids per IN (...) list
PARALLEL_MIN = 4000  # rows of one type in one write before mapping moves to worker processes (bulk loads)
PARALLEL_CHUNK = 1000
_POOL = None
# When rows of the key table change, rows of another table project differently too:
# (table, column of that table that points here, or None when this table points there via `via`).
DEPENDENTS = {
    "lab_observations": [("lab_results", "id", "lab_result_id")],
    "lab_results": [("lab_observations", "lab_result_id", "id")],
    "practices": [("patients", "practice_id", "id")],
}


def _chunks(items):
    items = list(items)
    for i in range(0, len(items), CHUNK):
        yield items[i:i + CHUNK]


def _by_id(conn, sql, ids):
    """Run ``sql`` (with one ``{}`` for the IN list) over ids in chunks; return rows keyed by column 0."""
    found = {}
    for chunk in _chunks(set(ids)):
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(sql.format(marks), chunk):
            found[row[0]] = row
    return found


def _fetch(conn, table, ids):
    found = []
    for chunk in _chunks(ids):
        cursor = conn.execute(f"SELECT * FROM {table} WHERE id IN ({','.join('?' * len(chunk))})", chunk)
        names = [d[0] for d in cursor.description]
        found.extend(dict(zip(names, r)) for r in cursor)
    return found


def _contexts(conn, table, rows):
    """Resolve each row's integer foreign keys to the FHIR ids its mapper needs (see mappers._common)."""
    reports = {}
    if table == "lab_observations":
        reports = {r["id"]: r for r in _fetch(conn, "lab_results", {r["lab_result_id"] for r in rows})}
    results = {}
    if table == "lab_results":
        for chunk in _chunks([r["id"] for r in rows]):
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT lab_result_id, uid FROM lab_observations WHERE lab_result_id IN ({marks}) ORDER BY id"
            for parent, uid in conn.execute(sql, chunk):
                results.setdefault(parent, []).append(uid)
    patient_ids = {r["patient_id"] for r in rows if r.get("patient_id")}
    if table == "patients":
        patient_ids = {r["id"] for r in rows}
    patients = _by_id(conn, "SELECT id, uid, practice_id FROM patients WHERE id IN ({})", patient_ids)
    practice_ids = {p[2] for p in patients.values()} | {r["practice_id"] for r in rows if r.get("practice_id")}
    if table == "practices":
        practice_ids = {r["id"] for r in rows}
    practices = _by_id(conn, "SELECT id, uid, mrn_system FROM practices WHERE id IN ({})", practice_ids)
    provider_of = {r["id"]: r.get("provider_id") or reports.get(r.get("lab_result_id"), {}).get("provider_id")
                   for r in rows}
    providers = _by_id(conn, "SELECT id, uid FROM providers WHERE id IN ({})", filter(None, provider_of.values()))
    contexts = []
    for row in rows:
        patient = patients.get(row["id"] if table == "patients" else row.get("patient_id"))
        practice_id = patient[2] if patient else (row["id"] if table == "practices" else row.get("practice_id"))
        practice = practices.get(practice_id)
        provider = providers.get(provider_of[row["id"]])
        contexts.append({
            "patient": patient[1] if patient else None,
            "organization": practice[1] if practice else None,
            "mrn_system": practice[2] if practice else None,
            "provider": provider[1] if provider else None,
            "report": reports.get(row.get("lab_result_id")),
            "result_ids": results.get(row["id"], []),
        })
    return contexts


def project(conn, table, ids, now, cascade=True):
    """Re-project the chart rows ``ids`` of ``table`` (and rows that depend on them) as of ``now``."""
    types = [rt for rt in REGISTRY.values() if rt.table == table]
    rows = _fetch(conn, table, ids)
    if types and rows:
        contexts = _contexts(conn, table, rows)
        for rt in types:
            _store(conn, rt, table, list(zip(rows, contexts)), now)
    if cascade:
        for other, column, via in DEPENDENTS.get(table, ()):
            keys = {r[via] for r in rows}
            linked = _by_id(conn, f"SELECT id FROM {other} WHERE {column} IN ({{}})", keys)
            if linked:
                project(conn, other, list(linked), now, cascade=False)


def _map(rt, row, ctx):
    try:
        return rt.to_fhir(row, ctx)
    except UnmappableValue as exc:
        raise ChartError(f"{rt.table} row {row.get('id')} cannot become a {rt.name}: {exc}") from exc


def _render(rt_name, items, now):
    """Map and serialize rows of one type: for each, None (not projected) or (body, index entries).

    A pure function of its arguments, so large batches can run in worker processes.
    """
    rt, rendered = REGISTRY[rt_name], []
    for row, ctx, version in items:
        resource = _map(rt, row, ctx)
        if resource is None:
            rendered.append(None)
            continue
        body = _with_meta(resource, version, now)
        rendered.append((body, index_entries(rt, resource, body)))
    return rendered


def _rendered_chunks(rt, items, now):
    """Yield (items chunk, rendered chunk); big batches are rendered by a process pool, in order."""
    chunks = [items[i:i + PARALLEL_CHUNK] for i in range(0, len(items), PARALLEL_CHUNK)]
    if len(items) < PARALLEL_MIN:
        yield items, _render(rt.name, items, now)
        return
    results = _pool().imap(_render_star, [(rt.name, chunk, now) for chunk in chunks])
    yield from zip(chunks, results)


def _render_star(args):
    return _render(*args)


def _pool():
    global _POOL
    if _POOL is None:
        _POOL = multiprocessing.get_context("fork").Pool(os.cpu_count() or 2)
    return _POOL


def _store(conn, rt, table, pairs, now):
    """Insert, update or tombstone the projection rows of one resource type."""
    existing = _by_id(conn, f"SELECT id, pk, version, deleted FROM resources WHERE type = '{rt.name}' AND id IN ({{}})",
                      [row["uid"] for row, _ in pairs])
    next_pk = (conn.execute("SELECT max(pk) FROM resources").fetchone()[0] or 0) + 1
    now_ms = date_range(now)[0]
    items = [(row, ctx, existing[row["uid"]][2] + 1 if row["uid"] in existing else 1) for row, ctx in pairs]
    for chunk, rendered in _rendered_chunks(rt, items, now):
        inserts, updates, stale, index_rows = [], [], [], ([], [], [], [])
        for (row, ctx, version), result in zip(chunk, rendered):
            old = existing.get(row["uid"])
            if result is None:
                if old and not old[3]:
                    updates.append((version, now, now_ms, 1, b"{}", old[1]))
                    stale.append(old[1])
                continue
            body, entries = result
            pk = old[1] if old else next_pk
            next_pk += 0 if old else 1
            patient = ctx["patient"] if rt.compartment else None
            if old:
                updates.append((version, now, now_ms, 0, body, pk))
                stale.append(pk)
            else:
                inserts.append((pk, rt.name, row["uid"], patient, ctx["organization"], version, now, now_ms,
                                table, row["id"], body))
            _index(entries, pk, patient, index_rows)
        _write(conn, inserts, updates, stale, index_rows)


def _write(conn, inserts, updates, stale, index_rows):
    for chunk in _chunks(stale):
        marks = ",".join("?" * len(chunk))
        for index_table in ("search_token", "search_date", "search_string", "search_ref"):
            conn.execute(f"DELETE FROM {index_table} WHERE pk IN ({marks})", chunk)
    conn.executemany(
        "INSERT INTO resources (pk, type, id, patient_id, practice_id, version, last_updated, last_updated_ms,"
        " source_table, source_id, json) VALUES (?,?,?,?,?,?,?,?,?,?,?)", inserts)
    conn.executemany(
        "UPDATE resources SET version = ?, last_updated = ?, last_updated_ms = ?, deleted = ?, json = ?"
        " WHERE pk = ?", updates)
    tokens, dates, strings, refs = index_rows
    conn.executemany("INSERT OR IGNORE INTO search_token (pk, param, system, code) VALUES (?,?,?,?)", tokens)
    conn.executemany("INSERT OR IGNORE INTO search_date (pk, param, low, high) VALUES (?,?,?,?)", dates)
    conn.executemany("INSERT OR IGNORE INTO search_string (pk, param, value, raw) VALUES (?,?,?,?)", strings)
    conn.executemany("INSERT OR IGNORE INTO search_ref (pk, param, target, patient_id) VALUES (?,?,?,?)", refs)


def _with_meta(resource, version, now):
    """Serialize with ``meta.versionId`` and ``meta.lastUpdated`` set by the store (after id)."""
    meta = {"versionId": str(version), "lastUpdated": now, **resource.get("meta", {})}
    body = {"resourceType": resource["resourceType"], "id": resource["id"], "meta": meta}
    body.update((k, v) for k, v in resource.items() if k not in body)
    return orjson.dumps(body)


def _index(entries, pk, patient, index_rows):
    tokens, dates, strings, refs = index_rows
    t, d, s, r = entries
    tokens.extend((pk, *e) for e in t)
    dates.extend((pk, *e) for e in d)
    strings.extend((pk, *e) for e in s)
    refs.extend((pk, *e, patient) for e in r)
