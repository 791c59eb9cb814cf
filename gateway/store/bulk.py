"""Bulk loads: chunks of new chart rows, mapped by worker processes while this process writes them.

``insert_chunks(db, chunks)`` takes an iterable of chunks, each a mapping of chart table -> new rows that carry
their integer ``id`` and their ``uid``. A chunk is one transaction, as with ``insert_rows``: its chart rows
and their FHIR projection commit together or not at all. The rows a chunk's rows point at (its patients'
practices, its observations' lab results...) are in the same chunk or already in the database.

SQLite has one writer, and mapping a row costs about as much as writing it, so mapping runs in a fork
pool a few chunks ahead of the writer: on two cores both are busy at once. A load into an empty
projection also drops the search indexes that are not primary keys and builds them once at the end:
one sort is far cheaper than millions of inserts at random places in a B-tree.
"""

import collections
import json
import multiprocessing
import os

from .chart import CHART_TABLES, grouped_values, insert_values, table_columns, utc_now
from .connection import transaction
from .errors import ChartError, IntegrityError, constraint_message
from .projection import DEPENDENTS, DbSource, collect, contexts, member, project, render, types_of, write
from .values import date_range

# Secondary indexes of the projection, dropped during a load into an empty projection (see optimize).
DEFERRABLE = (
    "resources_patient",
    "resources_source",
    "search_token_code",
    "search_string_value",
    "search_ref_target",
    "search_ref_patient",
)
DEFER_BELOW = 50_000  # resources
LOAD_CACHE_KIB = -262_144  # 256 MiB of page cache while loading: a chunk's dirty pages stay in memory until COMMIT
_SHAPES = {}  # table -> (columns, a row of their defaults); set before the pool forks, so workers inherit it
_FOREIGN = {
    "patient_id": "patients",
    "practice_id": "practices",
    "provider_id": "providers",
    "lab_result_id": "lab_results",
    "encounter_id": "encounters",
    "appointment_id": "appointments",
    "reason_diagnosis_id": "diagnoses",
    "order_id": "orders",
    "specimen_id": "specimens",
    "location_id": "locations",
    "formulary_id": "formulary",
    "screening_id": "screenings",
    "screening_answer_id": "screening_answers",
}


def insert_chunks(db, chunks, workers=None):
    """Insert every chunk of new chart rows with its projection; return the number of chart rows written."""
    conn = db
    restore_indexes(conn)
    # A projection this small (a new database's practices, a demo) costs less to index again than
    # the load's index inserts; a big one does not, and keeps its indexes.
    sqlite = getattr(conn, "engine", "sqlite") == "sqlite"
    deferred = sqlite and (
        conn.execute("SELECT count(*) FROM (SELECT 1 FROM resources LIMIT ?)", (DEFER_BELOW,)).fetchone()[0]
        < DEFER_BELOW
    )
    if sqlite:
        cache = conn.execute("PRAGMA cache_size").fetchone()[0]
        conn.execute(f"PRAGMA cache_size = {LOAD_CACHE_KIB}")
    for table in CHART_TABLES:
        _SHAPES[table] = _shape(conn, table)
    workers, written = workers or os.cpu_count() or 2, 0
    try:
        if deferred:
            _defer_indexes(conn)
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            pending = collections.deque()
            for chunk in chunks:
                unknown = set(chunk) - set(CHART_TABLES)
                if unknown:  # the chunks before this one still commit, as they would have one by one
                    while pending:
                        written += _commit(conn, *pending.popleft())
                    raise ChartError(f"not chart tables: {', '.join(sorted(unknown))}")
                now = utc_now()
                pending.append((chunk, now, pool.apply_async(_prepare, (chunk, _outside(conn, chunk), now))))
                if len(pending) > workers:  # keep every worker busy while this process writes
                    written += _commit(conn, *pending.popleft())
            while pending:
                written += _commit(conn, *pending.popleft())
    finally:
        restore_indexes(conn)
        if sqlite:
            conn.execute(f"PRAGMA cache_size = {cache}")
    return written


def count_present(conn, table, uids):
    """How many of ``uids`` rows of a chart table already have (a resumed load skips what is there)."""
    if table not in CHART_TABLES:
        raise ChartError(f"not a chart table: {table}")
    return conn.execute(
        f"SELECT count(*) FROM {table} WHERE uid IN (SELECT value FROM json_each(?))", (json.dumps(uids),)
    ).fetchone()[0]


def _shape(conn, table):
    columns = table_columns(conn, table)
    if getattr(conn, "engine", "sqlite") == "sqlite":
        found = [(name, default) for _, name, _, _, default, _ in conn.execute(f"PRAGMA table_info({table})")]
    else:  # PostgreSQL spells a text default with its type: 'active'::text
        found = conn.execute(
            "SELECT column_name, split_part(column_default, '::', 1) FROM information_schema.columns"
            " WHERE table_schema = 'public' AND table_name = ?",
            (table,),
        ).fetchall()
    return columns, {name: _literal(default) for name, default in found}


def _literal(sql):
    """The Python value of a column's DEFAULT (the chart schema uses numbers and quoted strings only)."""
    if sql is None or sql.upper() == "NULL":
        return None
    if sql.startswith("'"):
        return sql[1:-1].replace("''", "'")
    try:
        return int(sql)
    except ValueError:
        return float(sql)


def _outside(conn, chunk):
    """Rows outside the chunk that its rows point at, read here (workers do not touch the database)."""
    # .get: a row without its id is refused by the worker (_prepare), in chunk order, not here.
    inside = {table: {r.get("id") for r in chunk[table]} for table in set(_FOREIGN.values()) & set(chunk)}
    wanted = {}
    for table, rows in chunk.items():
        for column in _SHAPES[table][0]:
            parent = _FOREIGN.get(column)
            if parent is not None:
                found = {r.get(column) for r in rows} - inside.get(parent, set()) - {None}
                wanted.setdefault(parent, set()).update(found)
    source = DbSource(conn)
    outside = {
        "patients": source.patients(wanted.get("patients", ())),
        "providers": source.providers(wanted.get("providers", ())),
        "lab_results": source.lab_results(wanted.get("lab_results", ())),
        "screenings": source.screenings(wanted.get("screenings", ())),
    }
    outside["formulary"] = source.formulary(wanted.get("formulary", ()))
    for table in ("encounters", "appointments", "diagnoses", "orders", "specimens", "locations", "screening_answers"):
        outside[table] = source.uids(table, wanted.get(table, ()))
    practices = wanted.get("practices", set()) | {p[2] for p in outside["patients"].values()}
    outside["practices"] = source.practices(practices - inside.get("practices", set()))
    return outside


class ChunkSource:
    """Context lookups answered from a chunk's own rows, then from rows read before the chunk was sent."""

    def __init__(self, rows, outside):
        self.rows = {table: {r["id"]: r for r in table_rows} for table, table_rows in rows.items()}
        self.outside = outside

    def _find(self, table, ids, shape):
        inside, outside, found = self.rows.get(table, {}), self.outside.get(table, {}), {}
        for i in ids:
            row = inside.get(i)
            if row is not None:
                found[i] = shape(row)
            elif i in outside:
                found[i] = outside[i]
        return found

    def lab_results(self, ids):
        return self._find("lab_results", ids, lambda r: r)

    def observation_uids(self, report_ids):
        # A chunk's lab results are new, so all their observations are in the chunk too.
        wanted, found = set(report_ids), {}
        for row in sorted(self.rows.get("lab_observations", {}).values(), key=lambda r: r["id"]):
            if row["lab_result_id"] in wanted:
                found.setdefault(row["lab_result_id"], []).append(row["uid"])
        return found

    def care_team_members(self, team_ids):
        # A chunk's care teams are new, so all their members are in the chunk too.
        wanted, found = set(team_ids), {}
        uids = {t: {i: r["uid"] for i, r in self.rows.get(t, {}).items()} for t in ("providers", "patient_contacts")}
        outside = self.outside.get("providers", {})
        for row in sorted(self.rows.get("care_team_members", {}).values(), key=lambda r: r["id"]):
            if row["care_team_id"] in wanted:
                provider = (
                    uids["providers"].get(row["provider_id"]) or (outside.get(row["provider_id"]) or (None, None))[1]
                )
                contact = uids["patient_contacts"].get(row["contact_id"])
                found.setdefault(row["care_team_id"], []).append(
                    member(row["role_code"], row["role_name"], row["is_patient"], provider, contact)
                )
        return found

    def patient_races(self, patient_ids):
        # A chunk's patients are new, so all their race and ethnicity answers are in the chunk too.
        wanted, found = set(patient_ids), {}
        answers = sorted(self.rows.get("patient_races", {}).values(), key=lambda r: (r.get("position") or 0, r["id"]))
        for row in answers:
            if row["patient_id"] in wanted:
                found.setdefault(row["patient_id"], {}).setdefault(row["kind"], []).append(
                    (row["code"], row["display"])
                )
        return found

    def screenings(self, ids):
        return self._find("screenings", ids, lambda r: r)

    def screening_answers(self, screening_ids):
        # A chunk's screenings are new, so all their answers are in the chunk too.
        wanted, found = set(screening_ids), {}
        answers = sorted(
            self.rows.get("screening_answers", {}).values(), key=lambda r: (r.get("position") or 0, r["id"])
        )
        for row in answers:
            if row["screening_id"] in wanted:
                found.setdefault(row["screening_id"], []).append(row)
        return found

    def patients(self, ids):
        return self._find("patients", ids, lambda r: (r["id"], r["uid"], r["practice_id"]))

    def practices(self, ids):
        return self._find("practices", ids, lambda r: (r["id"], r["uid"], r["mrn_system"]))

    def providers(self, ids):
        return self._find("providers", ids, lambda r: (r["id"], r["uid"]))

    def uids(self, table, ids):
        return self._find(table, ids, lambda r: (r["id"], r["uid"]))

    def withheld(self, column, ids):
        # A chunk's orders and specimens are named by the chunk's own lab results (whole charts go together).
        shared = {}
        for row in self.rows.get("lab_results", {}).values():
            if row.get(column) in ids:
                shared[row[column]] = shared.get(row[column], False) or bool(row["shared_with_patient"])
        return {key for key, any_shared in shared.items() if not any_shared}

    def locations(self, ids):
        return self._find("locations", ids, lambda r: (r["id"], r["uid"]))

    def prescriptions(self, ids):
        # A chunk's fills are of the chunk's own prescriptions (whole charts go together).
        return self._find("medications", ids, lambda r: r)

    def formulary(self, ids):
        return self._find("formulary", ids, lambda r: r)


def _prepare(chunk, outside, now):
    """In a worker: the chunk's chart INSERT groups and its projection rows (pks counted from 0)."""
    full, groups = {}, {}
    for table in CHART_TABLES:
        rows = chunk.get(table)
        if not rows:
            continue
        columns, defaults = _SHAPES[table]
        stamped = []
        for row in rows:
            if row.get("id") is None or not row.get("uid"):
                raise ChartError(f"{table}: a bulk-loaded row carries its id and uid")
            stamped.append(row if "updated_at" in row else {**row, "updated_at": now})
        groups[table] = grouped_values(table, columns, stamped)
        full[table] = [{**defaults, **row} for row in stamped]
    source = ChunkSource(full, outside)
    now_ms = date_range(now)[0]
    inserts, index_rows = [], ([], [], [], [])
    for table, rows in full.items():
        types = types_of(table)
        if not types:
            continue
        found = contexts(source, table, rows)
        for rt in types:
            for row, ctx in zip(rows, found):
                result = render(rt, table, row, ctx, 1, now)
                if result is not None:
                    collect(rt, table, row, ctx, len(inserts), 1, now, now_ms, *result, inserts, index_rows)
    return groups, inserts, index_rows


def _commit(conn, chunk, now, job):
    """Write one prepared chunk in one transaction; return its number of chart rows."""
    groups, inserts, index_rows = job.get()
    with transaction(conn):
        for table in CHART_TABLES:
            if table in groups:
                insert_values(conn, table, groups[table])
        offset = (conn.execute("SELECT max(pk) FROM resources").fetchone()[0] or 0) + 1
        try:
            write(conn, inserts, [], [], index_rows, offset)
        except IntegrityError as exc:
            raise ChartError(f"projection: {constraint_message(exc)}") from exc
        # Rows already in the database whose projection depends on new rows (a new observation of an
        # existing lab result changes that DiagnosticReport); new rows only point at rows, so only `via` links.
        for table, rows in chunk.items():
            for other, column, via in DEPENDENTS.get(table, ()):
                if column == "id":
                    inside = {r["id"] for r in chunk.get(other, ())}
                    linked = {r[via] for r in rows} - inside
                    if linked:
                        project(conn, other, list(linked), now, cascade=False)
    return sum(len(rows) for rows in chunk.values())


def _defer_indexes(conn):
    """Drop the deferrable indexes, remembering how to build them (restore_indexes builds them again)."""
    with transaction(conn):
        for name in DEFERRABLE:
            sql = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", (name,)).fetchone()
            if sql:
                conn.execute("INSERT OR REPLACE INTO deferred_indexes (name, sql) VALUES (?, ?)", (name, sql[0]))
                conn.execute(f"DROP INDEX {name}")


def restore_indexes(conn):
    """Build the indexes a bulk load dropped (also after a load that was killed before it finished)."""
    with transaction(conn):
        for name, sql in conn.execute("SELECT name, sql FROM deferred_indexes").fetchall():
            conn.execute(sql.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1))
            conn.execute("DELETE FROM deferred_indexes WHERE name = ?", (name,))
