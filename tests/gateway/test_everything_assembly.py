"""Patient/$everything is assembled in one statement, yet answers exactly what one search per type would.

The reference below is how $everything was built before it became one SQL statement: for every type in
registry order, the store's own search with the record's visibility (the compartment, plus the directory
resources the compartment references) and the type's date clauses. Every demo patient's Bundle must come
out byte for byte the same, for whole-record tokens and for the narrower ones that take other paths.
"""

import contextlib
from urllib.parse import urlencode

import pytest

from gateway import records, store
from gateway.errors import Forbidden, NotFound
from gateway.fhir.access import visibility
from gateway.fhir.response import bundle
from gateway.fhir.search import SearchQuery, Visibility
from mappers import REGISTRY
from smart_auth.tokens import authenticate_header

SCOPES = [
    "patient/*.rs",
    "patient/*.read",
    "patient/Patient.rs patient/Practitioner.rs patient/Observation.rs patient/Encounter.rs",
    "patient/Observation.rs?category=vital-signs patient/Organization.rs patient/Condition.rs",
    "patient/Practitioner.rs?_id=nothing-has-this-id patient/Location.rs patient/Patient.rs",
]
QUERIES = ["", "?_type=Observation,Practitioner", "?start=2025-01-01&end=2026-06-30", "?_since=2000-01-01T00:00:00Z"]


def demo_patients(db_path):
    with contextlib.closing(store.connect(db_path)) as conn:
        return [pid for (pid,) in conn.execute("SELECT id FROM resources WHERE type = 'Patient' ORDER BY pk")]


def reference_rows(conn, token, patient_id, types=None, start=None, end=None, since=None):
    """[(type, id, json)] as one search per type returns them (the assembly $everything replaced)."""
    rows = []
    for rtype in REGISTRY:
        if types and rtype not in types or REGISTRY[rtype].definitional:
            continue
        try:
            seen = visibility(token, "search", rtype)
        except Forbidden:
            continue
        query = SearchQuery(rtype, records.date_clauses(rtype, start, end, since), count=records.RECORD_LIMIT)
        _, found, _, _ = store.search(conn, query, Visibility(patient_id, seen.filters, directory=False))
        rows += [(rtype, rid, body) for _, rid, body in found]
    return rows


def reference_body(base, rows, self_url):
    entries = [(f"{base}/{rtype}/{rid}", body, "match") for rtype, rid, body in rows]
    return bundle(len(entries), entries, [("self", self_url)])


def test_the_demo_records_reference_the_directory_types_the_comparison_needs(demo_db_path, demo, auth):
    referenced = set()
    for pid in demo_patients(demo_db_path):
        token = authenticate_header(demo, auth("patient/*.rs", pid)["Authorization"])
        referenced |= {rtype for rtype, _, _ in records.patient_record(demo, token, pid)}
    # The directory types the demo's records point at (PractitionerRole is read by id, not referenced yet).
    assert {"Location", "Organization", "Practitioner"} <= referenced


@pytest.mark.parametrize("scope", SCOPES)
def test_every_demo_patient_record_is_what_one_search_per_type_finds(demo_db_path, demo, auth, scope):
    for pid in demo_patients(demo_db_path):
        token = authenticate_header(demo, auth(scope, pid)["Authorization"])
        for filters in ({}, {"types": {"Observation", "Practitioner"}}, {"start": "2025-01-01", "end": "2026-06"}):
            assert records.patient_record(demo, token, pid, **filters) == reference_rows(demo, token, pid, **filters)
        since = {"since": "2000-01-01T00:00:00Z"}
        assert records.patient_record(demo, token, pid, **since) == reference_rows(demo, token, pid, **since)


@pytest.mark.parametrize("query", QUERIES)
def test_every_demo_patients_everything_bundle_is_byte_for_byte_the_per_type_searches(
    demo_db_path, demo, auth, app, query
):
    client = app.test_client()
    wanted = {k: v for k, v in (p.split("=") for p in query[1:].split("&") if p)}
    filters = {
        "types": set(wanted["_type"].split(",")) if "_type" in wanted else None,
        "start": wanted.get("start"),
        "end": wanted.get("end"),
        "since": wanted.get("_since"),
    }
    for pid in demo_patients(demo_db_path):
        headers = auth("patient/*.rs", pid)
        token = authenticate_header(demo, headers["Authorization"])
        response = client.get(f"/fhir/Patient/{pid}/$everything{query}", headers=headers)
        assert response.status_code == 200
        rows = reference_rows(demo, token, pid, **filters)
        base = app.config["FHIR_BASE"]
        again = f"?{urlencode(list(wanted.items()))}" if wanted else ""  # as a search's self link spells it
        expected = reference_body(base, rows, f"{base}/Patient/{pid}/$everything{again}")
        assert response.data == expected


def test_the_self_link_is_on_the_configured_base_whatever_host_the_caller_names(demo_db_path, auth, app):
    """A Host header is the caller's to choose: the Bundle's links and fullUrls stay on FHIR_BASE."""
    pid = demo_patients(demo_db_path)[0]
    headers = {**auth("patient/*.rs", pid), "Host": "evil.example"}
    bundle_json = app.test_client().get(f"/fhir/Patient/{pid}/$everything?_format=json", headers=headers).get_json()
    base = app.config["FHIR_BASE"]
    assert bundle_json["link"] == [{"relation": "self", "url": f"{base}/Patient/{pid}/$everything"}]
    assert all(entry["fullUrl"].startswith(base + "/") for entry in bundle_json["entry"])


@pytest.mark.parametrize("scope", SCOPES)
def test_a_patient_token_reads_no_other_patients_record(demo_db_path, demo, auth, scope):
    """Whether its types are decided per type or from the scopes alone (records.patient_wide), a token of one
    patient finds no record of another: not there and not yours look alike."""
    first, second = demo_patients(demo_db_path)[:2]
    token = authenticate_header(demo, auth(scope, first)["Authorization"])
    with pytest.raises(NotFound):
        records.patient_record(demo, token, second)
    assert records.patient_record(demo, token, first)


@pytest.mark.sqlite_only  # SQLite's EXPLAIN QUERY PLAN
def test_the_record_statement_walks_indexes_only(demo):
    """One patient's record by index: no full scan of resources or search_ref, whatever the database's size."""
    from gateway.store.search import _record_sql

    plan = demo.execute("EXPLAIN QUERY PLAN " + _record_sql(tuple(REGISTRY)), ("x",)).fetchall()
    steps = [detail for *_, detail in plan if detail.startswith(("SCAN", "SEARCH"))]
    assert [s for s in steps if s.startswith("SCAN")] == []
    assert steps.count("SEARCH r USING INDEX resources_patient (type=? AND patient_id=?)") == 1
    directory = [name for name, rt in REGISTRY.items() if not rt.compartment]
    assert steps.count(
        "SEARCH x USING COVERING INDEX search_ref_patient (patient_id=? AND target>? AND target<?)"
    ) == len(directory)
