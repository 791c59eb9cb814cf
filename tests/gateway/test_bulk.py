"""Bulk loads map rows in worker processes; the result must equal what insert_rows projects."""

import datetime as dt

import orjson
import pytest

from fixtures import synthetic
from gateway import store
from gateway.errors import ChartError
from gateway.store import bulk

TODAY = dt.date(2026, 11, 25)
INDEX_TABLES = ("search_token", "search_date", "search_string", "search_ref")


def projected(db):
    # Versions differ by design: row by row, a DiagnosticReport is written again when its observations
    # arrive (version 2); a bulk chunk writes both at once (version 1). Row by row, an order is served until
    # its withheld result arrives and then tombstoned; a bulk chunk never writes it: live rows are compared.
    rows = db.execute(
        "SELECT type, id, patient_id, practice_id, source_table, source_id, json FROM resources WHERE deleted = 0"
        " ORDER BY type, id"
    ).fetchall()
    out = []
    for *columns, body in rows:
        resource = orjson.loads(body)
        del resource["meta"]["lastUpdated"], resource["meta"]["versionId"]
        out.append((*columns, resource))
    index = {
        t: sorted(
            db.execute(
                f"SELECT r.type, r.id, i.* FROM {t} i JOIN resources r USING (pk) WHERE r.deleted = 0"
            ).fetchall()
        )
        for t in INDEX_TABLES
    }
    for t in index:
        index[t] = [(rtype, rid, *rest[1:]) for rtype, rid, *rest in index[t]]  # drop pk, which may differ
    return out, index


def charts(db):
    return {t: [dict(r, updated_at=None) for r in store.chart_rows(db, t)] for t in synthetic.TABLES}


def load_row_by_row(db, n, seed):
    ids, providers = synthetic.ensure_practices(db, "2026-11-24T12:00:00Z")
    sites = synthetic.practice_sites(db, ids, "2026-11-24T12:00:00Z")
    formulary = synthetic.practice_formulary(db, ids, "2026-11-24T12:00:00Z")
    batches = synthetic.generate_rows(
        n, seed, ids, providers, today=TODAY, chunk_size=7, sites=sites, formulary=formulary
    )
    for table, rows in batches:
        store.insert_rows(db, table, rows)


def test_bulk_projection_equals_row_by_row(new_db_path):
    serial = store.connect(new_db_path("serial"))
    load_row_by_row(serial, 15, 4)
    parallel = store.connect(new_db_path("parallel"))
    synthetic.generate(parallel, 15, 4, today=TODAY, chunk_size=7)
    assert charts(parallel) == charts(serial)
    assert projected(parallel) == projected(serial)
    assert parallel.execute("SELECT DISTINCT version FROM resources").fetchall() == [(1,)]


@pytest.mark.sqlite_only  # SQLite loads drop and rebuild indexes (store/bulk.py); PostgreSQL loads keep them
def test_a_load_into_an_empty_projection_builds_its_indexes_again(new_db_path):
    db = store.connect(new_db_path("p"))
    synthetic.generate(db, 5, 1, today=TODAY)
    names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert set(bulk.DEFERRABLE) <= names
    assert db.execute("SELECT count(*) FROM deferred_indexes").fetchone()[0] == 0


@pytest.mark.sqlite_only  # SQLite loads drop and rebuild indexes (store/bulk.py); PostgreSQL loads keep them
def test_a_killed_load_leaves_indexes_that_the_next_load_builds(new_db_path):
    db = store.connect(new_db_path("p"))
    bulk._defer_indexes(db)  # what a load killed mid-way leaves behind
    assert not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'search_token_code'").fetchone()
    synthetic.generate(db, 2, 1, today=TODAY)
    assert db.execute("SELECT 1 FROM sqlite_master WHERE name = 'search_token_code'").fetchone()
    store.optimize(db)


def test_new_observations_of_an_existing_report_update_that_report(new_db_path):
    from tests import chart

    db = store.connect(new_db_path("p"))
    chart.build(db)
    report = db.execute("SELECT id, uid, patient_id FROM lab_results WHERE shared_with_patient = 1").fetchone()
    before = db.execute("SELECT version, json FROM resources WHERE id = ?", (report[1],)).fetchone()
    new = {
        "id": 9001,
        "uid": "obs-9001",
        "lab_result_id": report[0],
        "patient_id": report[2],
        "loinc_code": "2345-7",
        "name": "Glucose",
        "value_num": 99,
        "unit": "mg/dL",
    }
    store.insert_chunks(db, [{"lab_observations": [new]}])
    version, body = db.execute("SELECT version, json FROM resources WHERE id = ?", (report[1],)).fetchone()
    assert version == before[0] + 1
    assert {"reference": "Observation/obs-9001"} in orjson.loads(body)["result"]


@pytest.mark.parametrize(
    "chunk, message",
    [
        ({"diagnoses": [{"id": 1, "patient_id": 1, "description": "x", "status": "bogus"}]}, "carries its id and uid"),
        (
            {"diagnoses": [{"id": 77, "uid": "d-77", "patient_id": 1, "description": "x", "status": "bogus"}]},
            "cannot become a Condition",
        ),
        ({"diagnoses": [{"id": 78, "uid": "d-78", "patient_id": 424242, "description": "x"}]}, "FOREIGN KEY"),
        ({"diagnoses": [{"id": 79, "uid": "d-79", "patient_id": 1, "description": "x", "colour": "red"}]}, "no column"),
        ({"nonsense": [{"id": 1}]}, "not chart tables"),
        (
            {
                "patients": [
                    {
                        "uid": "p-no-id",
                        "practice_id": 1,
                        "mrn": "X9",
                        "first_name": "A",
                        "last_name": "B",
                        "birth_date": "2000-01-01",
                        "sex": "female",
                    }
                ],
                "diagnoses": [{"id": 80, "uid": "d-80", "patient_id": 1, "description": "x"}],
            },
            "carries its id and uid",
        ),
    ],
)
def test_a_bad_chunk_fails_whole_and_keeps_earlier_chunks(new_db_path, chunk, message):
    from tests import chart

    db = store.connect(new_db_path("p"))
    chart.build(db)
    patient = db.execute("SELECT id FROM patients ORDER BY id").fetchone()[0]
    good = {
        "diagnoses": [
            {"id": 500, "uid": "d-500", "patient_id": patient, "description": "Asthma", "icd10_code": "J45.909"}
        ]
    }
    before = db.execute("SELECT count(*) FROM diagnoses").fetchone()[0]
    with pytest.raises(ChartError, match=message):
        store.insert_chunks(db, [good, chunk])
    assert db.execute("SELECT count(*) FROM diagnoses").fetchone()[0] == before + 1
    assert db.execute("SELECT count(*) FROM resources WHERE id = 'd-500'").fetchone()[0] == 1


def test_a_bulk_load_links_results_to_the_visit_they_were_drawn_at(new_db_path):
    db = store.connect(new_db_path("visits"))
    synthetic.generate(db, 5, 1, today=TODAY)
    visits = dict(db.execute("SELECT id, patient_id FROM resources WHERE type = 'Encounter'").fetchall())
    stored = db.execute("SELECT patient_id, json FROM resources WHERE type IN ('Observation', 'DiagnosticReport')")
    found = [(patient, orjson.loads(body)) for patient, body in stored]
    linked = [
        (patient, resource.get("encounter", {}).get("reference"))
        for patient, resource in found
        if resource.get("category", [{}])[0].get("coding", [{}])[0].get("code") != "social-history"
    ]
    # every draw was at a visit of the last 3 years, and every vital sign taken at one (the social history
    # form is not charted at a visit)
    assert linked and all(ref is not None for _, ref in linked)
    assert all(visits[ref.removeprefix("Encounter/")] == patient for patient, ref in linked)


def test_a_bulk_load_bases_results_on_their_order_and_names_their_specimen(new_db_path):
    db = store.connect(new_db_path("orders"))
    synthetic.generate(db, 5, 1, today=TODAY, chunk_size=2)  # orders in several chunks: links resolve across them
    owners = dict(db.execute("SELECT type || '/' || id, patient_id FROM resources").fetchall())
    stored = db.execute(  # vitals have no order
        "SELECT type, patient_id, json FROM resources WHERE source_table IN ('lab_observations', 'lab_results')"
    )
    linked = []
    for rtype, patient, body in stored:
        resource = orjson.loads(body)
        specimen = resource.get("specimen")  # one Reference on an Observation, a list of them on a DiagnosticReport
        specimen = (specimen[0] if isinstance(specimen, list) else specimen or {}).get("reference")
        linked.append((rtype, patient, resource.get("basedOn", [{}])[0].get("reference"), specimen))
    assert linked
    assert all(owners[order] == patient and order.startswith("ServiceRequest/") for _, patient, order, _ in linked)
    assert all(owners[found] == patient and found.startswith("Specimen/") for _, patient, _, found in linked)
    reports = db.execute("SELECT count(*) FROM lab_results").fetchone()[0]
    assert db.execute("SELECT count(*) FROM specimens").fetchone()[0] == reports
