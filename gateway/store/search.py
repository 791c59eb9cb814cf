"""Search SQL: a SearchQuery plus the caller's Visibility become one keyset-paged SELECT."""

import functools
import time

from mappers import REGISTRY
from mappers.sensitivity import PARAM

from .search_index import ANY_REFERENCE, CONTEXT

_TOKEN = "EXISTS (SELECT 1 FROM search_token t WHERE t.pk = r.pk AND t.param = ? AND ({}))"
_DATE = "EXISTS (SELECT 1 FROM search_date d WHERE d.pk = r.pk AND d.param = ? AND ({}))"
_STRING = "EXISTS (SELECT 1 FROM search_string s WHERE s.pk = r.pk AND s.param = ? AND ({}))"
_REF = "EXISTS (SELECT 1 FROM search_ref f WHERE f.pk = r.pk AND f.param = ? AND f.target IN ({}))"
_MISSING = {
    "token": "EXISTS (SELECT 1 FROM search_token t WHERE t.pk = r.pk AND t.param = ?)",
    "date": "EXISTS (SELECT 1 FROM search_date d WHERE d.pk = r.pk AND d.param = ?)",
    "string": "EXISTS (SELECT 1 FROM search_string s WHERE s.pk = r.pk AND s.param = ?)",
    "reference": "EXISTS (SELECT 1 FROM search_ref f WHERE f.pk = r.pk AND f.param = ?)",
    "uri": "EXISTS (SELECT 1 FROM search_ref f WHERE f.pk = r.pk AND f.param = ?)",
}
# Date prefix semantics over half-open ranges, target [{lo}, {hi}) against search [?, ?) (R4 3.1.1.4.2).
_DATE_PREFIX = {
    "eq": ("({lo} >= ? AND {hi} <= ?)", "ab"),
    "ne": ("NOT ({lo} >= ? AND {hi} <= ?)", "ab"),
    "gt": ("{hi} > ?", "b"),
    "lt": ("{lo} < ?", "a"),
    "ge": ("({hi} > ? OR ({lo} >= ? AND {hi} <= ?))", "bab"),
    "le": ("({lo} < ? OR ({lo} >= ? AND {hi} <= ?))", "aab"),
    "sa": ("{lo} >= ?", "b"),
    "eb": ("{hi} <= ?", "a"),
    "ap": ("({lo} < ? AND {hi} > ?)", "BA"),
}


def _date_sql(values, lo, hi):
    parts, params = [], []
    now_ms = int(time.time() * 1000)
    for prefix, low, high in values:
        sql, order = _DATE_PREFIX[prefix]
        # "ap": within 10% of the distance between the value and now (R4 3.1.1.4.2).
        slack = abs(now_ms - low) // 10
        pick = {"a": low, "b": high, "A": low - slack, "B": high + slack}
        parts.append(sql.format(lo=lo, hi=hi))
        params.extend(pick[c] for c in order)
    return " OR ".join(parts), params


def _token_sql(values):
    parts, params = [], []
    for system, code in values:
        conds = []
        if code is not None:
            conds.append("t.code = ?")
            params.append(code)
        if system is not None:
            conds.append("t.system = ?")
            params.append(system)
        parts.append("(" + " AND ".join(conds) + ")")
    return " OR ".join(parts), params


def _string_sql(modifier, values):
    parts, params = [], []
    for value in values:
        if modifier == "exact":
            parts.append("s.raw = ?")
            params.append(value)
        elif modifier == "contains":
            escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            parts.append("s.value LIKE ? ESCAPE '\\'")
            params.append(f"%{escaped}%")
        else:
            parts.append("(s.value >= ? AND s.value < ?)")
            params.extend([value, value + "\U0010ffff"])
    return " OR ".join(parts), params


def clause_sql(resource_type, clause):
    """Return (sql, params) for one clause, a condition on the resources row ``r``."""
    param, values = clause.param, clause.values
    compartment_param = param.compartment and REGISTRY[resource_type].compartment
    if clause.modifier == "missing" and compartment_param:
        return "(" + " OR ".join(f"r.patient_id IS {'' if m else 'NOT '}NULL" for m in values) + ")", []
    if clause.modifier == "missing":
        sql = " OR ".join(("NOT " if missing else "") + _MISSING[param.type] for missing in values)
        return f"({sql})", [param.name] * len(values)
    if param.name == "_id":
        codes = [code for _, code in values]
        sql = f"r.id {'NOT ' if clause.modifier == 'not' else ''}IN ({','.join('?' * len(codes))})"
        return sql, codes
    if param.name == "_lastUpdated":
        sql, params = _date_sql(values, "r.last_updated_ms", "(r.last_updated_ms + 1)")
        return f"({sql})", params
    if param.type == "token":
        sql, params = _token_sql(values)
        negate = "NOT " if clause.modifier == "not" else ""
        return negate + _TOKEN.format(sql), [param.name, *params]
    if param.type == "date":
        sql, params = _date_sql(values, "d.low", "d.high")
        return _DATE.format(sql), [param.name, *params]
    if param.type == "string":
        sql, params = _string_sql(clause.modifier, values)
        return _STRING.format(sql), [param.name, *params]
    if compartment_param:
        # Not indexed: the compartment's patient is resources.patient_id (see search_index).
        ids = [v.split("/", 1)[1] for v in values if v.startswith("Patient/")]
        return f"r.patient_id IN ({','.join('?' * len(ids))})", ids
    return _REF.format(",".join("?" * len(values))), [param.name, *values]


def where_sql(resource_type, clauses, visibility):
    """Return (sql, params): the WHERE conditions for a query's clauses and the caller's visibility."""
    conds, params = ["r.type = ?", "r.deleted = 0"], [resource_type]
    for clause in clauses:
        sql, p = clause_sql(resource_type, clause)
        conds.append(sql)
        params.extend(p)
    definitional = REGISTRY[resource_type].definitional
    if visibility.patient is not None and not definitional:
        if REGISTRY[resource_type].compartment:
            conds.append("r.patient_id = ?")
        else:
            # Outside the compartment a patient may see what their own records reference.
            referenced = f"r.id IN ({_referenced(resource_type)})"
            if REGISTRY[resource_type].practice_directory and visibility.directory:
                # The patient's practice is the practice_id of their Patient resource (the Organization id).
                conds.append(
                    f"({referenced} OR r.practice_id ="
                    " (SELECT p.practice_id FROM resources p WHERE p.type = 'Patient' AND p.id = ?))"
                )
                params.append(visibility.patient)
            else:
                conds.append(referenced)
        params.append(visibility.patient)
    if visibility.practice is not None and not definitional:
        conds.append("r.practice_id = ?")
        params.append(visibility.practice)
    if visibility.withheld:
        sql, p = withheld_sql(visibility.withheld)
        conds.append(f"NOT {sql}")
        params.extend(p)
    if visibility.filters is not None:
        alternatives = []
        for group in visibility.filters:
            parts = [clause_sql(resource_type, c) for c in group]
            alternatives.append("(" + " AND ".join([s for s, _ in parts] or ["1 = 1"]) + ")")
            params.extend(p for _, ps in parts for p in ps)
        conds.append("(" + (" OR ".join(alternatives) or "1 = 0") + ")")
    return " AND ".join(conds), params


def _labelled(pk, count):
    marks = ",".join("?" * count)
    return f"EXISTS (SELECT 1 FROM search_token w WHERE w.pk = {pk} AND w.param = '{PARAM}' AND w.code IN ({marks}))"


def withheld_sql(categories):
    """(sql, params): whether the resources row ``r`` is in one of the sensitive ``categories`` (mappers.sensitivity).

    In one by its own codes (indexed when written), or by what it depends on, judged now so that a diagnosis
    charted later counts: a clinical note written at a visit with a Condition in one (the visit's diagnoses
    decide an uncoded note), any resource whose ``_context`` target is in one (an Encounter's reason Condition,
    a note's visit whose reason is sensitive).
    """
    n = len(categories)
    target = (
        "SELECT 1 FROM resources t WHERE t.type = substr(x.target, 1, instr(x.target, '/') - 1)"
        " AND t.id = substr(x.target, instr(x.target, '/') + 1) AND t.deleted = 0 AND " + _labelled("t.pk", n)
    )
    diagnosis = (
        "SELECT 1 FROM search_ref c JOIN resources cr ON cr.pk = c.pk AND cr.type = 'Condition' AND cr.deleted = 0"
        " WHERE c.target = x.target AND c.param = 'encounter' AND " + _labelled("c.pk", n)
    )
    sql = (
        f"({_labelled('r.pk', n)} OR EXISTS (SELECT 1 FROM search_ref x WHERE x.pk = r.pk AND x.param = '{CONTEXT}'"
        f" AND (EXISTS ({target}) OR (r.source_table = 'clinical_notes' AND EXISTS ({diagnosis})))))"
    )
    return sql, [*categories, *categories, *categories]


def search(conn, query, visibility):
    """Run a search; return (total, [(pk, id, json bytes)], next cursor or None, snapshot).

    The snapshot (the highest pk when paging began) bounds every later page, so rows written meanwhile
    neither shift nor repeat entries. A first page with no next page needs none: it is the whole result.
    """
    where, params = where_sql(query.type, query.clauses, visibility)
    snapshot = query.snapshot
    if query.summary == "count" or query.count == 0:
        return _count(conn, where, params), [], None, snapshot
    bound = " AND r.pk <= ?" if snapshot is not None else ""
    page = conn.execute(
        f"SELECT r.pk, r.id, r.json FROM resources r WHERE {where}{bound} AND r.pk > ? ORDER BY r.pk LIMIT ?",
        [*params, *([snapshot] if bound else []), query.cursor, query.count + 1],
    ).fetchall()
    more = len(page) > query.count
    page = page[: query.count]
    if query.cursor == 0 and not more:
        return len(page), page, None, snapshot
    if snapshot is None:
        # Taken after the first page: anything written in between has a higher pk than the page's last
        # one, so it lands on a later page rather than being skipped.
        snapshot = conn.execute("SELECT max(pk) FROM resources").fetchone()[0] or 0
    total = _count(conn, f"{where} AND r.pk <= ?", [*params, snapshot])
    return total, page, page[-1][0] if more else None, snapshot


def _referenced(resource_type, patient="?"):
    """SQL for the ids of ``resource_type`` (outside the compartment) that one patient's resources reference,
    taking the patient id as its parameter ``patient``: a range of the search_ref_patient index. (A type's targets are
    "Type/id" with the type spelled as registered, search_index.extract, so the range is exactly LIKE 'Type/%'.)
    """
    return (
        f"SELECT substr(x.target, {len(resource_type) + 2}) FROM search_ref x WHERE x.patient_id = {patient}"
        f" AND x.param = '{ANY_REFERENCE}' AND x.target >= '{resource_type}/' AND x.target < '{resource_type}0'"
    )


def record_rows(conn, patient_id, types, practice=None):
    """Every live resource of ``types`` in one patient's record, in one statement: [(type, id, json)] in the
    order of ``types``, by pk within a type (what a search of each type with no clauses would page through).

    A compartment type gives the patient's own resources, any other type those the patient's resources
    reference (what a search with the record's Visibility, directory=False, finds); with ``practice`` (a
    backend bound to one practice) only that practice's resources, as ``where_sql`` holds its searches.
    """
    if not types:
        return []
    types = tuple(types)
    params = {"patient": patient_id, "practice": practice}  # named: both engines take :name (postgres.translate)
    rows = conn.execute(_record_sql(types, practice is not None), params).fetchall()
    rank = {rtype: n for n, rtype in enumerate(types)}
    rows.sort(key=lambda row: (rank[row[0]], row[1]))
    return [(rtype, rid, body) for rtype, _, rid, body in rows]


@functools.lru_cache(maxsize=256)  # a few sets of types: a token's scopes and a request's _type decide them
def _record_sql(types, by_practice=False):
    held = " AND r.practice_id = :practice" if by_practice else ""
    inside = ",".join(f"'{rtype}'" for rtype in types if REGISTRY[rtype].compartment)
    parts = (
        [
            f"SELECT r.type, r.pk, r.id, r.json FROM resources r WHERE r.type IN ({inside})"
            f" AND r.patient_id = :patient AND r.deleted = 0{held}"
        ]
        if inside
        else []
    )
    parts += [
        f"SELECT r.type, r.pk, r.id, r.json FROM resources r WHERE r.type = '{rtype}' AND r.deleted = 0"
        f" AND r.id IN ({_referenced(rtype, ':patient')}){held}"
        for rtype in types
        if not REGISTRY[rtype].compartment
    ]
    return " UNION ALL ".join(parts)


def _count(conn, where, params):
    return conn.execute(f"SELECT count(*) FROM resources r WHERE {where}", params).fetchone()[0]


def references_from(conn, pks, param):
    """Return the distinct ``Type/id`` targets that resources ``pks`` reference through ``param``."""
    marks = ",".join("?" * len(pks))
    rows = conn.execute(f"SELECT DISTINCT target FROM search_ref WHERE pk IN ({marks}) AND param = ?", [*pks, param])
    return [r[0] for r in rows]
