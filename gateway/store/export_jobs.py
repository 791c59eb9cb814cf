"""Bulk Data export jobs, their files, the rows they stream, and operator-defined patient Groups.

A job's state lives here, not in a process: any gateway process claims a queued job (or a running one whose
worker stopped beating) in one transaction, so a restart or a killed worker never strands a job. A file is
recorded only after it is written whole and renamed into place; manifests are built from these rows alone.
"""

import contextlib
import sqlite3

import orjson

from mappers import REGISTRY

from .connection import transaction
from .search import clause_sql, where_sql

ACTIVE = ("queued", "running")
FEW_PATIENTS = 100  # an export of at most this many patients reads their rows by index, not the whole table
_JOB_COLUMNS = (
    "id, client_id, scope, request_url, spec, status, transaction_time, created_at, claimed_by, heartbeat_at,"
    " attempts, written, total, finished_at, expires_at, error"
)


def _job(row):
    if row is None:
        return None
    job = dict(zip([c.strip() for c in _JOB_COLUMNS.split(",")], row))
    job["spec"] = orjson.loads(job["spec"])
    return job


def create_job(db, job, per_client, overall):
    """Queue ``job`` (a dict of export_jobs columns, ``spec`` a dict) unless a limit is reached.

    Returns None when queued, else "client" or "server": which limit of active (queued or running) jobs it hit.
    The count and the insert are one write transaction, so two kick-offs at once cannot both slip under a limit.
    """
    with transaction(db):
        mine, everyone = db.execute(
            "SELECT count(*) FILTER (WHERE client_id = ?), count(*) FROM export_jobs"
            " WHERE status IN ('queued', 'running')",
            (job["client_id"],),
        ).fetchone()
        if mine >= per_client:
            return "client"
        if everyone >= overall:
            return "server"
        db.execute(
            "INSERT INTO export_jobs (id, client_id, scope, request_url, spec, status, created_at)"
            " VALUES (?, ?, ?, ?, ?, 'queued', ?)",
            (
                job["id"],
                job["client_id"],
                job["scope"],
                job["request_url"],
                orjson.dumps(job["spec"]).decode(),
                job["created_at"],
            ),
        )
    return None


def export_job(db, job_id):
    """The job ``job_id`` as a dict, or None."""
    return _job(db.execute(f"SELECT {_JOB_COLUMNS} FROM export_jobs WHERE id = ?", (job_id,)).fetchone())


def export_jobs(db, limit=50):
    """The newest jobs, newest first."""
    rows = db.execute(f"SELECT {_JOB_COLUMNS} FROM export_jobs ORDER BY created_at DESC, id LIMIT ?", (limit,))
    return [_job(r) for r in rows.fetchall()]


def claim_job(db, worker, now, stale_before, max_attempts, job_id=None):
    """Claim the oldest queued job (or ``job_id``), or a running one whose heartbeat is older than
    ``stale_before``; return it, or None. A job claimed ``max_attempts`` times already is failed instead."""
    waiting = db.execute(
        "SELECT 1 FROM export_jobs WHERE status = 'queued' OR (status = 'running' AND heartbeat_at < ?) LIMIT 1",
        (stale_before,),
    ).fetchone()
    if waiting is None:  # the usual answer of an idle worker's poll, without taking the write lock
        return None
    with transaction(db):
        sql = (
            "SELECT id, attempts FROM export_jobs WHERE (status = 'queued' OR (status = 'running'"
            " AND heartbeat_at < ?))"
        )
        params = [stale_before]
        if job_id is not None:
            sql += " AND id = ?"
            params.append(job_id)
        for found, attempts in db.execute(sql + " ORDER BY created_at, id", params).fetchall():
            if attempts >= max_attempts:
                db.execute(
                    "UPDATE export_jobs SET status = 'failed', error = ?, finished_at = ?, claimed_by = NULL"
                    " WHERE id = ?",
                    (f"the export was interrupted {attempts} times", now, found),
                )
                continue
            db.execute(
                "UPDATE export_jobs SET status = 'running', claimed_by = ?, heartbeat_at = ?,"
                " attempts = attempts + 1, written = 0 WHERE id = ?",
                (worker, now, found),
            )
            db.execute("DELETE FROM export_files WHERE job_id = ?", (found,))  # a resumed job starts afresh
            return export_job(db, found)
    return None


def start_job(db, job_id, worker, transaction_time, total):
    """Record the instant a claimed job's query runs and how many resources it may write."""
    with transaction(db):
        db.execute(
            "UPDATE export_jobs SET transaction_time = ?, total = ? WHERE id = ? AND claimed_by = ?",
            (transaction_time, total, job_id, worker),
        )


def beat(db, job_id, worker, written, now):
    """Record progress; False when the job is no longer this worker's (cancelled, or reclaimed)."""
    with transaction(db):
        cursor = db.execute(
            "UPDATE export_jobs SET written = ?, heartbeat_at = ? WHERE id = ? AND claimed_by = ?"
            " AND status = 'running'",
            (written, now, job_id, worker),
        )
    return cursor.rowcount == 1


def add_file(db, job_id, worker, name, kind, resource_type, count, size):
    """Record a finished file of a job this worker holds; False when the job is no longer its own."""
    with transaction(db):
        held = db.execute(
            "SELECT 1 FROM export_jobs WHERE id = ? AND claimed_by = ? AND status = 'running'", (job_id, worker)
        ).fetchone()
        if held:
            db.execute(
                "INSERT INTO export_files (job_id, name, kind, type, count, bytes) VALUES (?, ?, ?, ?, ?, ?)",
                (job_id, name, kind, resource_type, count, size),
            )
    return bool(held)


def finish_job(db, job_id, worker, status, now, expires_at, error=None, written=None):
    """End a job this worker holds as 'done' or 'failed'; False when it is no longer its own."""
    with transaction(db):
        cursor = db.execute(
            "UPDATE export_jobs SET status = ?, finished_at = ?, expires_at = ?, error = ?,"
            " written = coalesce(?, written), claimed_by = NULL,"
            " total = CASE WHEN ? = 'done' THEN coalesce(?, written) ELSE total END"  # the estimate, made exact
            " WHERE id = ? AND claimed_by = ? AND status = 'running'",
            (status, now, expires_at, error, written, status, written, job_id, worker),
        )
    return cursor.rowcount == 1


def export_files(db, job_id):
    """The finished files of a job: dicts with name, kind, type, count and bytes, in the order written."""
    rows = db.execute(
        "SELECT name, kind, type, count, bytes FROM export_files WHERE job_id = ? ORDER BY rowid", (job_id,)
    ).fetchall()
    return [dict(zip(("name", "kind", "type", "count", "bytes"), r)) for r in rows]


def delete_job(db, job_id):
    """Forget a job and its files' rows; True when there was one."""
    with transaction(db):
        return db.execute("DELETE FROM export_jobs WHERE id = ?", (job_id,)).rowcount == 1


def expired_jobs(db, now):
    """Ids of finished jobs whose files have expired."""
    return [r[0] for r in db.execute("SELECT id FROM export_jobs WHERE expires_at <= ?", (now,)).fetchall()]


@contextlib.contextmanager
def export_reader(db):
    """A read-only handle for streaming an export's rows, without memory-mapped I/O.

    The store's handles map up to 256 MiB of the database (fast random reads); a pass over every row would
    fault all of it into the worker's resident memory, so the export reads with plain read() calls instead,
    and memory stays flat however large the database is. An in-memory database is read through ``db``.
    """
    if db.path in (None, ":memory:") or not isinstance(db, sqlite3.Connection):  # PostgreSQL: its pool
        yield db
        return
    reader = sqlite3.connect(f"file:{db.path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
    try:
        reader.execute("PRAGMA mmap_size = 0")
        reader.execute("PRAGMA busy_timeout = 10000")
        yield reader
    finally:
        reader.close()


def snapshot_pk(db):
    """The highest resource pk now: an export reads no row written after it starts."""
    return db.execute("SELECT max(pk) FROM resources").fetchone()[0] or 0


def export_where(types, since_ms, patients, filters, visibilities):
    """(sql, params): the rows of an export as one condition on ``resources r``.

    ``filters`` maps a type to its _typeFilter alternatives (lists of clauses; a resource matches any one),
    ``visibilities`` a type to the caller's Visibility (granular scopes filter as they filter searches).
    """
    parts, params = [], []
    for rtype in types:
        sql, p = where_sql(rtype, [], visibilities[rtype])
        alternatives = filters.get(rtype)
        if alternatives:
            ors = []
            for group in alternatives:
                pieces = [clause_sql(rtype, c) for c in group]
                ors.append("(" + " AND ".join([s for s, _ in pieces] or ["1 = 1"]) + ")")
                p = [*p, *(x for _, ps in pieces for x in ps)]
            sql += " AND (" + " OR ".join(ors) + ")"
        parts.append(f"({sql})")
        params.extend(p)
    where = "(" + (" OR ".join(parts) or "1 = 0") + ")"
    if patients is not None and len(patients) <= FEW_PATIENTS:
        # A few patients: walk their rows through resources_patient (type, patient_id, pk) rather than the table.
        marks = ",".join("?" * len(types))
        where = f"r.type IN ({marks}) AND r.patient_id IN (SELECT value FROM json_each(?)) AND {where}"
        params = [*types, orjson.dumps(sorted(patients)).decode(), *params]
        patients = None
    if since_ms is not None:
        where += " AND r.last_updated_ms > ?"
        params.append(since_ms)
    if patients is not None:
        where += " AND r.patient_id IN (SELECT value FROM json_each(?))"
        params.append(orjson.dumps(sorted(patients)).decode())
    return where, params


def export_chunk(db, where, params, after_pk, upto_pk, limit):
    """The next ``limit`` rows of an export after ``after_pk``: [(pk, type, json bytes)] in pk order.

    NOT INDEXED keeps SQLite on the table itself, read in rowid order: one pass over the table, whatever the
    types, instead of sorting each type's rows (https://sqlite.org/lang_indexedby.html). An export of a few
    patients (``export_where``) reads their rows through the index instead.
    """
    few = where.startswith("r.type IN")
    table = "resources r INDEXED BY resources_patient" if few else "resources r NOT INDEXED"
    return db.execute(
        f"SELECT r.pk, r.type, r.json FROM {table} WHERE r.pk > ? AND r.pk <= ? AND {where} ORDER BY r.pk LIMIT ?",
        [after_pk, upto_pk, *params, limit],
    ).fetchall()


def export_estimate(db, types, patients):
    """About how many resources of ``types`` (of ``patients`` when given) an export reads: the progress bar's total.

    Counted from the resources_patient index alone (tombstones included): filtering on ``deleted`` would read
    every row of the table, as long as the export itself.
    """
    if not types:
        return 0
    marks = ",".join("?" * len(types))
    sql = f"SELECT count(*) FROM resources WHERE type IN ({marks})"
    params = list(types)
    if patients is not None:
        sql += " AND patient_id IN (SELECT value FROM json_each(?))"
        params.append(orjson.dumps(sorted(patients)).decode())
    return db.execute(sql, params).fetchone()[0]


def live_patients(db, practice_id=None):
    """FHIR ids of the live Patient resources, of one practice (its Organization id) when given."""
    sql, params = "SELECT id FROM resources WHERE type = 'Patient' AND deleted = 0", []
    if practice_id is not None:
        sql += " AND practice_id = ?"
        params.append(practice_id)
    return [r[0] for r in db.execute(sql + " ORDER BY pk", params).fetchall()]


def practices(db, organization_id=None):
    """[(Organization id, name, lastUpdated)] of every practice (or of the one with ``organization_id``).

    A practice is an Organization projected from the ``practices`` table, whatever other Organizations exist.
    """
    sql = "SELECT id, json, last_updated FROM resources WHERE type = 'Organization' AND deleted = 0"
    sql += " AND source_table = 'practices'"
    params = []
    if organization_id is not None:
        sql += " AND id = ?"
        params.append(organization_id)
    rows = db.execute(sql + " ORDER BY pk", params).fetchall()
    return [(rid, orjson.loads(body).get("name", rid), updated) for rid, body, updated in rows]


def add_group(db, group_id, name, patient_ids, now):
    """Store an operator-defined Group of ``patient_ids``."""
    with transaction(db):
        db.execute("INSERT INTO patient_groups (id, name, created_at) VALUES (?, ?, ?)", (group_id, name, now))
        db.executemany(
            "INSERT INTO patient_group_members (group_id, patient_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
            [(group_id, p) for p in patient_ids],
        )


def operator_groups(db, group_id=None):
    """[(id, name, created_at, [member patient ids])] of the operator-defined Groups (or of the one ``group_id``)."""
    where, params = ("WHERE id = ?", (group_id,)) if group_id is not None else ("", ())
    groups = db.execute(f"SELECT id, name, created_at FROM patient_groups {where} ORDER BY created_at, id", params)
    groups = groups.fetchall()
    members = {}
    member_where = "WHERE group_id = ?" if group_id is not None else ""
    for group_id, patient_id in db.execute(
        f"SELECT group_id, patient_id FROM patient_group_members {member_where} ORDER BY group_id, patient_id", params
    ):
        members.setdefault(group_id, []).append(patient_id)
    return [(gid, name, created, members.get(gid, [])) for gid, name, created in groups]


def compartment_types():
    """The resource types in the Patient compartment, in registry order."""
    return [name for name, rt in REGISTRY.items() if rt.compartment]
