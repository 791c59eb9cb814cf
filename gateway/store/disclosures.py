"""The access log: every disclosure of a patient's record (app reads, downloads, transmissions, views)."""

import sqlite3
import time

from . import log_shards
from .accounts import _all, _one
from .connection import BUSY_TIMEOUT_S

COLUMNS = ("at", "patient_id", "kind", "client_id", "actor", "what", "count", "recipient", "outcome", "detail")
_READ = "INSERT INTO disclosures (at, patient_id, kind, client_id, actor, what, count) VALUES (?,?,?,?,?,?,?)"


def insert_read(conn, at_ms, patient_id, client_id, actor, what, count):
    """Log one FHIR API request: the hot path's only write.

    A server worker appends a line to its shard's journal (log_journal). Any other process runs one small
    INSERT in its own implicit transaction, which may find the log's write lock taken for the ~30 µs of
    another's commit: SQLite's busy handler would sleep 1 ms, then 2, 5...; on a connection without one
    (connection.access_log) this waits in steps of 50 µs (up to 2 ms) instead, as long as busy_timeout would.
    """
    journal = getattr(conn, "journal", None)  # a server worker's own shard: a line in its journal (log_journal)
    if journal is not None:
        journal.append(at_ms, patient_id, client_id, actor, what, count)
        return
    sql, row = _READ, (at_ms, patient_id, "read", client_id, actor, what, count)
    deadline, pause = time.monotonic() + BUSY_TIMEOUT_S, 0.00005
    while True:
        try:
            conn.execute(sql, row)
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.002)


def insert_disclosure(conn, row):
    """Log a download, transmission or view (a dict with COLUMNS); return its id."""
    marks = ",".join("?" * len(COLUMNS))
    return conn.execute(
        f"INSERT INTO access_log.disclosures ({','.join(COLUMNS)}) VALUES ({marks}) RETURNING id",
        [row.get(c) for c in COLUMNS],
    ).fetchone()[0]


def history(conn, patient_id, kinds, client_id=None, since_ms=None, before_ms=None, limit=500):
    """Disclosures of a record, newest first; one app's reads (or one person's views) within the same minute
    come back as one row
        (``first_at``/``at`` span it, ``what`` joins the types with commas, ``count`` and ``requests`` add up)."""
    log_shards.readable(conn)
    where, params = [f"patient_id = ? AND kind IN ({','.join('?' * len(kinds))})"], [patient_id, *kinds]
    for sql, value in (("client_id = ?", client_id), ("at >= ?", since_ms), ("at < ?", before_ms)):
        if value is not None:
            where.append(sql)
            params.append(value)
    # Every selected column is grouped or aggregated, as PostgreSQL requires (SQLite takes a bare column from any row
    # of the group). kind, client_id and actor are the same in every row of a group (the key, or a group of one row);
    # recipient, outcome and detail are NULL on the grouped kinds (reads and views), so min() changes no answer.
    return _all(
        conn,
        (
            "SELECT min(id) AS id, min(kind) AS kind, min(client_id) AS client_id, min(actor) AS actor,"
            " min(at) AS first_at, max(at) AS at, group_concat(what) AS what, sum(count) AS count,"
            " count(*) AS requests, min(recipient) AS recipient, min(outcome) AS outcome, min(detail) AS detail"
            f" FROM disclosures WHERE {' AND '.join(where)}"
            " GROUP BY CASE WHEN kind IN ('read', 'view') THEN kind || '|' || coalesce(client_id, '') || '|'"
            " || coalesce(actor, '') || '|' || (at / 60000)"
            " ELSE 'id' || id END ORDER BY max(at) DESC, min(id) DESC LIMIT ?"
        ),
        [*params, limit],
    )


def clients_seen(conn, patient_id):
    """The apps that have read a record, with when each last did (for the filter and Connected apps)."""
    log_shards.readable(conn)
    return _all(
        conn,
        "SELECT client_id, max(at) AS last_at FROM disclosures WHERE patient_id = ? AND kind = 'read'"
        " GROUP BY client_id ORDER BY client_id",
        (patient_id,),
    )


def practice_name_of_patient(conn, patient_id):
    """The name of the practice whose chart ``patient_id`` (a FHIR id) is, or None."""
    row = _one(
        conn,
        "SELECT pr.name FROM patients p JOIN practices pr ON pr.id = p.practice_id WHERE p.uid = ?",
        (patient_id,),
    )
    return row["name"] if row else None
