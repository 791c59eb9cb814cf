"""Moving a SQLite gateway to PostgreSQL: every table copied in batches, then counted and checksummed.

``copy_to_postgres(source, target)`` copies charts, projection and search index, accounts and links, OAuth clients,
codes and tokens, export jobs and the access log, parents before children (foreign keys). It is restartable: a table
with an integer key continues after the highest key already copied, and every batch goes in by COPY and then skips
what is already there as ON CONFLICT DO NOTHING would (PgStore.copy_in), so a copy stopped anywhere (a batch is one
transaction) runs again to the same result. Login attempts are not copied: they are counters of the last 15
minutes, not records. ``verify`` compares each table's row count and, per resource type, a SHA-256 over the stored
FHIR in pk order.
"""

import hashlib

from . import log_shards, postgres
from .connection import connect

SKIPPED = ("schema_version", "attempts", "deferred_indexes")


def tables(src):
    """The source's tables, parents first, then the access log's ``disclosures``."""
    names = [
        r[0]
        for r in src.execute("SELECT name FROM main.sqlite_master WHERE type = 'table' ORDER BY name")
        if not r[0].startswith("sqlite_") and r[0] not in SKIPPED
    ]
    parents = {n: {r[2] for r in src.execute(f"PRAGMA foreign_key_list({n})")} - {n} for n in names}
    ordered = []

    def visit(name):
        if name not in ordered:
            for parent in sorted(parents[name]):
                visit(parent)
            ordered.append(name)

    for name in names:
        visit(name)
    return [*ordered, "disclosures"]


def _shape(src, table):
    """(columns, integer key or None, order): a restart continues after the integer key; rows go in key order."""
    schema = "access_log" if table == "disclosures" else "main"
    info = src.execute(f"PRAGMA {schema}.table_info({table})").fetchall()
    keys = [r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5])]
    key = keys[0] if len(keys) == 1 and next(r[2] for r in info if r[1] == keys[0]).upper() == "INTEGER" else None
    return [r[1] for r in info], key, ", ".join(keys) or "rowid"


def copy_to_postgres(source, target, batch=5000, progress=None):
    """Copy the SQLite database at ``source`` into the PostgreSQL database ``target``; return {table: rows copied}.

    ``progress(table, done, total)`` is called after each batch (the CLI draws its bar with it).
    """
    src, dst = connect(source), postgres.connect(target, definitions=False)
    log_shards.readable(src)  # the access log's rows in every server worker's file too
    copied = {}
    for table in tables(src):
        columns, key, order = _shape(src, table)
        total = src.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        start = None
        if key is not None:
            start = dst.execute(f"SELECT max({key}) FROM {table}").fetchone()[0]
        where, params = (f"WHERE {key} > ?", [start]) if start is not None else ("", [])
        select = f"SELECT {', '.join(columns)} FROM {table} {where} ORDER BY {order}"
        done = total - src.execute(f"SELECT count(*) FROM {table} {where}", params).fetchone()[0]
        cursor, copied[table] = src.execute(select, params), 0
        while rows := cursor.fetchmany(batch):
            dst.copy_in(table, columns, rows)
            done, copied[table] = done + len(rows), copied[table] + len(rows)
            if progress:
                progress(table, done, total)
        if key is not None:  # the next row PostgreSQL numbers itself follows the copied ones
            dst.execute(
                "SELECT setval(pg_get_serial_sequence(?, ?),"
                f" (SELECT coalesce(max({key}), 0) + 1 FROM {table}), false)",
                (table if table != "disclosures" else "access_log.disclosures", key),
            )
    return copied


def fhir_checksums(db):
    """{resource type: (count, SHA-256 hex of the stored FHIR in pk order)}, the same on either engine."""
    found = {}
    for (rtype,) in db.execute("SELECT DISTINCT type FROM resources ORDER BY type").fetchall():
        digest, count = hashlib.sha256(), 0
        for (body,) in db.execute("SELECT json FROM resources WHERE type = ? ORDER BY pk", (rtype,)).fetchall():
            digest.update(bytes(body))
            digest.update(b"\n")
            count += 1
        found[rtype] = (count, digest.hexdigest())
    return found


def verify(source, target):
    """What differs between the two databases: [(what, in SQLite, in PostgreSQL)]; empty when the copy is whole."""
    src, dst = connect(source), postgres.connect(target, definitions=False)
    log_shards.readable(src)
    differences = []
    for table in tables(src):
        counts = [db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for db in (src, dst)]
        if counts[0] != counts[1]:
            differences.append((f"{table} rows", *counts))
    theirs, ours = fhir_checksums(src), fhir_checksums(dst)
    for rtype in sorted(set(theirs) | set(ours)):
        if theirs.get(rtype) != ours.get(rtype):
            differences.append((f"{rtype} checksum", theirs.get(rtype), ours.get(rtype)))
    return differences
