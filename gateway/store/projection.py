"""The FHIR projection: map chart rows with the registry's mappers and store JSON plus search index rows.

This is the only place a mapper runs. Reads select what it stored.
"""

import orjson

from mappers import REGISTRY, UnmappableValue

from .errors import ChartError
from .search_index import index_entries
from .values import date_range

CHUNK = 500  # ids per IN (...) list
# When rows of the key table change, rows of another table project differently too:
# (table, column of that table that points here, or None when this table points there via `via`).
DEPENDENTS = {
    "lab_observations": [("lab_results", "id", "lab_result_id")],
    # Orders and specimens of results withheld from the patient are withheld too (DbSource.withheld).
    "lab_results": [
        ("lab_observations", "lab_result_id", "id"),
        ("orders", "id", "order_id"),
        ("specimens", "id", "specimen_id"),
    ],
    "practices": [("patients", "practice_id", "id")],
    # A visit's reasonReference names the diagnosis (charted after the visit is opened).
    "diagnoses": [("encounters", "reason_diagnosis_id", "id")],
    "care_team_members": [("care_teams", "id", "care_team_id")],
    "patient_races": [("patients", "id", "patient_id")],
    # A prescription's medicationReference shows the formulary item's name.
    "formulary": [("medications", "formulary_id", "id")],
    # A screening's panel Observation and QuestionnaireResponse list its answers; each answer carries the
    # screening's time, status and visit; a health concern names the answer that raised it.
    "screening_answers": [("screenings", "id", "screening_id"), ("diagnoses", "screening_answer_id", "id")],
    "screenings": [("screening_answers", "screening_id", "id")],
}
# The FHIR id and type a care team member's row points at, in the order CareTeam lists them.
MEMBERS_SQL = (
    "SELECT m.care_team_id, m.role_code, m.role_name, m.is_patient, p.uid, c.uid FROM care_team_members m"
    " LEFT JOIN providers p ON p.id = m.provider_id LEFT JOIN patient_contacts c ON c.id = m.contact_id"
    " WHERE m.care_team_id IN ({}) ORDER BY m.id"
)


def _chunks(items):
    items = list(items)
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


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


class DbSource:
    """What a row's mapper context is resolved from: the rows already in the database (see ChunkSource)."""

    def __init__(self, conn):
        self.conn = conn

    def lab_results(self, ids):
        """Full ``lab_results`` rows by id."""
        return {r["id"]: r for r in _fetch(self.conn, "lab_results", ids)}

    def observation_uids(self, report_ids):
        """The FHIR ids of each report's observations, in chart order."""
        found = {}
        for chunk in _chunks(report_ids):
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT lab_result_id, uid FROM lab_observations WHERE lab_result_id IN ({marks}) ORDER BY id"
            for parent, uid in self.conn.execute(sql, chunk):
                found.setdefault(parent, []).append(uid)
        return found

    def care_team_members(self, team_ids):
        """Each care team's members (see mappers.care_team), in chart order."""
        found = {}
        for chunk in _chunks(team_ids):
            for team, code, name, is_patient, provider, contact in self.conn.execute(
                MEMBERS_SQL.format(",".join("?" * len(chunk))), chunk
            ):
                found.setdefault(team, []).append(member(code, name, is_patient, provider, contact))
        return found

    def patient_races(self, patient_ids):
        """Each patient's self-reported answers: ``{patient id: {kind: [(code, display)]}}`` in chart order."""
        found = {}
        for chunk in _chunks(patient_ids):
            marks = ",".join("?" * len(chunk))
            sql = (
                "SELECT patient_id, kind, code, display FROM patient_races"
                f" WHERE patient_id IN ({marks}) ORDER BY position, id"
            )
            for patient, kind, code, display in self.conn.execute(sql, chunk):
                found.setdefault(patient, {}).setdefault(kind, []).append((code, display))
        return found

    def screenings(self, ids):
        """Full ``screenings`` rows by id (the administration an answer belongs to)."""
        return {r["id"]: r for r in _fetch(self.conn, "screenings", ids)}

    def screening_answers(self, screening_ids):
        """Each screening's full ``screening_answers`` rows, in position order."""
        found = {}
        for chunk in _chunks(screening_ids):
            marks = ",".join("?" * len(chunk))
            cursor = self.conn.execute(
                f"SELECT * FROM screening_answers WHERE screening_id IN ({marks}) ORDER BY position, id", chunk
            )
            names = [d[0] for d in cursor.description]
            for values in cursor:
                row = dict(zip(names, values))
                found.setdefault(row["screening_id"], []).append(row)
        return found

    def patients(self, ids):
        """(id, uid, practice_id) by id."""
        return _by_id(self.conn, "SELECT id, uid, practice_id FROM patients WHERE id IN ({})", ids)

    def practices(self, ids):
        """(id, uid, mrn_system) by id."""
        return _by_id(self.conn, "SELECT id, uid, mrn_system FROM practices WHERE id IN ({})", ids)

    def providers(self, ids):
        """(id, uid) by id."""
        return _by_id(self.conn, "SELECT id, uid FROM providers WHERE id IN ({})", ids)

    def uids(self, table, ids):
        """(id, uid) by id of rows a row links to (see LINKS)."""
        return _by_id(self.conn, f"SELECT id, uid FROM {table} WHERE id IN ({{}})", ids)

    def withheld(self, column, ids):
        """The orders or specimens (``column`` of lab_results naming them) whose every lab result is withheld from
        the patient: an order or a specimen would tell what the practice has not yet shared."""
        found = set()
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            sql = (
                f"SELECT {column} FROM lab_results WHERE {column} IN ({marks})"
                f" GROUP BY {column} HAVING max(shared_with_patient) = 0"
            )
            found.update(row[0] for row in self.conn.execute(sql, chunk))
        return found

    def locations(self, ids):
        """(id, uid) by id."""
        return _by_id(self.conn, "SELECT id, uid FROM locations WHERE id IN ({})", ids)

    def prescriptions(self, ids):
        """Full ``medications`` rows by id (what a pharmacy fill dispensed)."""
        return {r["id"]: r for r in _fetch(self.conn, "medications", ids)}

    def formulary(self, ids):
        """Full ``formulary`` rows by id (the medicines prescriptions order from the practice's formulary)."""
        return {r["id"]: r for r in _fetch(self.conn, "formulary", ids)}


# Columns linking a chart row to another chart row whose FHIR id its mapper references: column -> table.
# ctx["links"][column] is that FHIR id (a lab observation inherits its report's encounter, order and specimen).
LINKS = {
    "encounter_id": "encounters",
    "appointment_id": "appointments",
    "reason_diagnosis_id": "diagnoses",
    "order_id": "orders",
    "specimen_id": "specimens",
    "screening_answer_id": "screening_answers",
}
INHERITED = ("encounter_id", "order_id", "specimen_id")


def links(source, rows, parents):
    """Each row's LINKS columns resolved to FHIR ids: ``{row id: {column: uid}}`` (``parents``: see _parents)."""
    values = {}
    for row in rows:
        report = parents.get(row["id"]) or {}
        values[row["id"]] = {
            column: row.get(column) or (report.get(column) if column in INHERITED else None) for column in LINKS
        }
    wanted = {}
    for mine in values.values():
        for column, value in mine.items():
            if value:
                wanted.setdefault(LINKS[column], set()).add(value)
    found = {table: source.uids(table, ids) for table, ids in wanted.items()}
    resolved = {}
    for row_id, mine in values.items():
        hits = {column: found.get(LINKS[column], {}).get(value) for column, value in mine.items() if value}
        resolved[row_id] = {column: hit[1] for column, hit in hits.items() if hit}
    return resolved


def member(role_code, role_name, is_patient, provider_uid, contact_uid):
    """One care team member as mappers.care_team reads it; the patient's own id is filled in later."""
    kind = "Patient" if is_patient else "Practitioner" if provider_uid else "RelatedPerson"
    return {"type": kind, "id": provider_uid or contact_uid, "role_code": role_code, "role_name": role_name}


def _parents(reports, screenings, rows):
    """The row each row inherits its visit, order, specimen and provider from: a lab result, a screening."""
    return {r["id"]: reports.get(r.get("lab_result_id")) or screenings.get(r.get("screening_id")) for r in rows}


def contexts(source, table, rows):
    """Resolve each row's integer foreign keys to the FHIR ids its mapper needs (see mappers._common)."""
    reports = source.lab_results({r["lab_result_id"] for r in rows}) if table == "lab_observations" else {}
    screenings = source.screenings({r["screening_id"] for r in rows}) if table == "screening_answers" else {}
    answers = source.screening_answers([r["id"] for r in rows]) if table == "screenings" else {}
    parents = _parents(reports, screenings, rows)
    results = source.observation_uids([r["id"] for r in rows]) if table == "lab_results" else {}
    members = source.care_team_members([r["id"] for r in rows]) if table == "care_teams" else {}
    races = source.patient_races([r["id"] for r in rows]) if table == "patients" else {}
    patient_ids = {r["patient_id"] for r in rows if r.get("patient_id")}
    if table == "patients":
        patient_ids = {r["id"] for r in rows}
    patients = source.patients(patient_ids)
    practice_ids = {p[2] for p in patients.values()} | {r["practice_id"] for r in rows if r.get("practice_id")}
    if table == "practices":
        practice_ids = {r["id"] for r in rows}
    practices = source.practices(practice_ids)
    provider_of = {r["id"]: r.get("provider_id") or (parents[r["id"]] or {}).get("provider_id") for r in rows}
    providers = source.providers({p for p in provider_of.values() if p})
    linked = links(source, rows, parents)
    locations = source.locations({r["location_id"] for r in rows if r.get("location_id")})
    naming = {"orders": "order_id", "specimens": "specimen_id"}.get(table)
    withheld = source.withheld(naming, {r["id"] for r in rows}) if naming else set()
    prescriptions = source.prescriptions({r["medication_id"] for r in rows}) if table == "dispenses" else {}
    ordering = {r["id"]: (prescriptions.get(r.get("medication_id")) or r).get("formulary_id") for r in rows}
    items = source.formulary({i for i in ordering.values() if i}) if table in ("medications", "dispenses") else {}
    found = []
    for row in rows:
        patient = patients.get(row["id"] if table == "patients" else row.get("patient_id"))
        practice_id = patient[2] if patient else (row["id"] if table == "practices" else row.get("practice_id"))
        practice = practices.get(practice_id)
        provider = providers.get(provider_of[row["id"]])
        team = [{**m, "id": m["id"] or (patient[1] if patient else None)} for m in members.get(row["id"], ())]
        found.append(
            {
                "members": team,
                "races": races.get(row["id"], {}) if table == "patients" else {},
                "patient": patient[1] if patient else None,
                "organization": practice[1] if practice else None,
                "mrn_system": practice[2] if practice else None,
                "provider": provider[1] if provider else None,
                "report": reports.get(row.get("lab_result_id")),
                "result_ids": results.get(row["id"], []),
                "links": linked[row["id"]],
                "withheld": row["id"] in withheld,
                "location": locations[row["location_id"]][1] if row.get("location_id") in locations else None,
                "prescription": prescriptions.get(row.get("medication_id")),
                "formulary": items.get(ordering[row["id"]]),
                "screening": screenings.get(row.get("screening_id")),
                "answers": answers.get(row["id"], []),
            }
        )
    return found


def types_of(table):
    """The resource types projected from rows of a chart table (medications give two; see ResourceType.sources)."""
    return [rt for rt in REGISTRY.values() if table in rt.tables]


def project(conn, table, ids, now, cascade=True):
    """Re-project the chart rows ``ids`` of ``table`` (and rows that depend on them) as of ``now``."""
    types = types_of(table)
    rows = _fetch(conn, table, ids)
    if types and rows:
        found = contexts(DbSource(conn), table, rows)
        for rt in types:
            _store(conn, rt, table, list(zip(rows, found)), now)
    if cascade:
        for other, column, via in DEPENDENTS.get(table, ()):
            keys = {r[via] for r in rows}
            linked = _by_id(conn, f"SELECT id FROM {other} WHERE {column} IN ({{}})", keys)
            if linked:
                project(conn, other, list(linked), now, cascade=False)


def _map(rt, table, row, ctx):
    try:
        return rt.mapper(table)(row, ctx)
    except UnmappableValue as exc:
        raise ChartError(f"{table} row {row.get('id')} cannot become a {rt.name}: {exc}") from exc


def render(rt, table, row, ctx, version, now):
    """Map one row of ``table``: None (not projected for patient access) or (JSON body, index entries)."""
    resource = _map(rt, table, row, ctx)
    if resource is None:
        return None
    body = _with_meta(resource, version, now)
    return body, index_entries(rt, resource, body)


def collect(rt, table, row, ctx, pk, version, now, now_ms, body, entries, inserts, index_rows):
    """Append a new resource's row and its index rows to the lists ``write`` takes."""
    patient = ctx["patient"] if rt.compartment else None
    inserts.append(
        (pk, rt.name, row["uid"], patient, ctx["organization"], version, now, now_ms, table, row["id"], body)
    )
    _index(entries, pk, patient, index_rows)


def _store(conn, rt, table, pairs, now):
    """Insert, update or tombstone the projection rows of one resource type."""
    existing = _by_id(
        conn,
        f"SELECT id, pk, version, deleted FROM resources WHERE type = '{rt.name}' AND id IN ({{}})",
        [row["uid"] for row, _ in pairs],
    )
    next_pk = (conn.execute("SELECT max(pk) FROM resources").fetchone()[0] or 0) + 1
    now_ms = date_range(now)[0]
    inserts, updates, stale, index_rows = [], [], [], ([], [], [], [])
    for row, ctx in pairs:
        old = existing.get(row["uid"])
        version = old[2] + 1 if old else 1
        result = render(rt, table, row, ctx, version, now)
        if result is None:
            if old and not old[3]:
                updates.append((version, now, now_ms, 1, b"{}", old[1]))
                stale.append(old[1])
            continue
        body, entries = result
        if old:
            updates.append((version, now, now_ms, 0, body, old[1]))
            stale.append(old[1])
            _index(entries, old[1], ctx["patient"] if rt.compartment else None, index_rows)
        else:
            collect(rt, table, row, ctx, next_pk, version, now, now_ms, body, entries, inserts, index_rows)
            next_pk += 1
    write(conn, inserts, updates, stale, index_rows)


def write(conn, inserts, updates, stale, index_rows, offset=0):
    """Write projection rows; ``offset`` is added to the pk of every inserted row (bulk loads number from 0)."""
    for chunk in _chunks(stale):
        marks = ",".join("?" * len(chunk))
        for index_table in ("search_token", "search_date", "search_string", "search_ref"):
            conn.execute(f"DELETE FROM {index_table} WHERE pk IN ({marks})", chunk)
    pk = f"?+{int(offset)}" if offset else "?"
    conn.executemany(
        "INSERT INTO resources (pk, type, id, patient_id, practice_id, version, last_updated, last_updated_ms,"
        f" source_table, source_id, json) VALUES ({pk},?,?,?,?,?,?,?,?,?,?)",
        inserts,
    )
    conn.executemany(
        "UPDATE resources SET version = ?, last_updated = ?, last_updated_ms = ?, deleted = ?, json = ? WHERE pk = ?",
        updates,
    )
    tokens, dates, strings, refs = index_rows
    conn.executemany(
        f"INSERT INTO search_token (pk, param, system, code) VALUES ({pk},?,?,?) ON CONFLICT DO NOTHING", tokens
    )
    conn.executemany(
        f"INSERT INTO search_date (pk, param, low, high) VALUES ({pk},?,?,?) ON CONFLICT DO NOTHING", dates
    )
    conn.executemany(
        f"INSERT INTO search_string (pk, param, value, raw) VALUES ({pk},?,?,?) ON CONFLICT DO NOTHING", strings
    )
    conn.executemany(
        f"INSERT INTO search_ref (pk, param, target, patient_id) VALUES ({pk},?,?,?) ON CONFLICT DO NOTHING", refs
    )


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
