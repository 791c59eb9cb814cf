"""Writing chart rows. Every write re-projects the affected FHIR resources in the same transaction."""

import datetime as dt
import uuid

from .connection import transaction
from .errors import ChartError, IntegrityError, constraint_message
from .projection import project

CHART_TABLES = (
    "practices",
    "providers",
    "patients",
    "patient_races",
    # A practice's sites and roles before the visits held at them.
    "locations",
    "provider_roles",
    # The practice's formulary before the prescriptions that order from it.
    "formulary",
    # Before the tables whose rows point at them: a visit fulfils an appointment, diagnoses point at visits.
    "appointments",
    "encounters",
    # Orders and specimens before the lab results and procedures that name them.
    "orders",
    "specimens",
    # Screenings and their answers before the health concerns an answer raises.
    "screenings",
    "screening_answers",
    "diagnoses",
    "medications",
    "allergies",
    "immunizations",
    "procedures",
    "care_plans",
    "lab_results",
    "lab_observations",
    "patient_contacts",
    "care_teams",
    "care_team_members",
    "goals",
    "insurance_policies",
    "vital_signs",
    "implants",
    "dispenses",
    "social_history",
    "clinical_notes",
    "clinical_findings",
)
_columns_cache = {}


def utc_now():
    """The current time as a FHIR instant in UTC with millisecond precision."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def table_columns(conn, table):
    """The column names of a chart table (a ChartError for any other table)."""
    if table not in CHART_TABLES:
        raise ChartError(f"'{table}' is not a chart table")
    if table not in _columns_cache:
        _columns_cache[table] = [c[0] for c in conn.execute(f"SELECT * FROM {table} LIMIT 0").description]
    return _columns_cache[table]


def insert_rows(db, table, rows):
    """Insert chart rows into ``table`` and project them to FHIR, all in one transaction; return ids.

    A row may carry its integer ``id`` and its ``uid`` (the FHIR id); both are assigned when missing.
    """
    conn = db
    columns = table_columns(conn, table)
    now = utc_now()
    with transaction(conn):
        next_id = (conn.execute(f"SELECT max(id) FROM {table}").fetchone()[0] or 0) + 1
        ids, filled = [], []
        for row in rows:
            row = dict(row)
            if row.get("id") is None:
                row["id"], next_id = next_id, next_id + 1
            row.setdefault("uid", str(uuid.uuid4()))
            row.setdefault("updated_at", now)
            ids.append(row["id"])
            filled.append(row)
        insert_values(conn, table, grouped_values(table, columns, filled))
        project(conn, table, ids, now)
    return ids


def grouped_values(table, columns, rows):
    """Group rows by the columns they set: {(column, ...): [values, ...]}.

    Columns a row leaves out keep their schema defaults, so rows setting different columns go apart.
    """
    groups, known = {}, set(columns)
    for row in rows:
        present = tuple(row)
        group = groups.get(present)
        if group is None:
            unknown = set(present) - known
            if unknown:
                raise ChartError(f"{table} has no column(s) {', '.join(sorted(unknown))}")
            group = groups[present] = []
        group.append(tuple(row.values()))
    return groups


def insert_values(conn, table, groups):
    """INSERT grouped chart rows (see grouped_values); a constraint violation becomes a ChartError."""
    try:
        for present, values in groups.items():
            marks = ", ".join("?" for _ in present)
            conn.executemany(f"INSERT INTO {table} ({', '.join(present)}) VALUES ({marks})", values)
    except IntegrityError as exc:
        raise ChartError(f"{table}: {constraint_message(exc)}") from exc


def update_row(db, table, row_id, changes):
    """Change columns of one chart row, bump its FHIR projection's version; return the new row."""
    conn = db
    columns = table_columns(conn, table)
    changes = {k: v for k, v in changes.items() if k not in ("id", "uid")}
    unknown = set(changes) - set(columns)
    if unknown:
        raise ChartError(f"{table} has no column(s) {', '.join(sorted(unknown))}")
    now = utc_now()
    changes["updated_at"] = now
    with transaction(conn):
        assignments = ", ".join(f"{k} = ?" for k in changes)
        try:
            cursor = conn.execute(f"UPDATE {table} SET {assignments} WHERE id = ?", [*changes.values(), row_id])
        except IntegrityError as exc:
            raise ChartError(f"{table}: {constraint_message(exc)}") from exc
        if cursor.rowcount == 0:
            raise ChartError(f"{table} has no row {row_id}", status=404)
        project(conn, table, [row_id], now)
    return chart_row(db, table, row_id)


def next_ids(db, tables):
    """The first free integer id of each chart table, for loaders that assign ids themselves."""
    return {t: (db.execute(f"SELECT max(id) FROM {t}").fetchone()[0] or 0) + 1 for t in tables if table_columns(db, t)}


def chart_row(db, table, row_id):
    """Return one chart row as a dict, or None."""
    rows = chart_rows(db, table, id=row_id)
    return rows[0] if rows else None


def chart_rows(db, table, **equals):
    """Return the chart rows of ``table`` whose columns equal the given values, as dicts, by id."""
    columns = table_columns(db, table)
    unknown = set(equals) - set(columns)
    if unknown:
        raise ChartError(f"{table} has no column(s) {', '.join(sorted(unknown))}")
    where = " AND ".join(f"{k} = ?" for k in equals) or "1 = 1"
    cursor = db.execute(f"SELECT * FROM {table} WHERE {where} ORDER BY id", list(equals.values()))
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row)) for row in cursor]
