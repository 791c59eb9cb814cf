import orjson
import pytest

from gateway import store
from gateway.errors import ChartError
from gateway.fhir.search import Visibility
from tests import chart

ALL = Visibility()


@pytest.fixture
def db(new_db_path):
    database = store.connect(new_db_path("chart"))
    chart.build(database)
    return database


def read(db, rtype, rid):
    found = store.read_resource(db, rtype, rid, ALL)
    return (orjson.loads(found[0]), found[1]) if found else (None, None)


def test_insert_projects_each_row_with_version_1(db):
    condition, version = read(db, "Condition", "dx-1")
    assert version == 1
    assert condition["meta"]["versionId"] == "1"
    assert (
        condition["subject"] == {"reference": "Patient/pat-1"} or condition["subject"]["reference"] == "Patient/pat-1"
    )
    assert condition["meta"]["lastUpdated"].endswith("Z")


def test_update_bumps_version_and_lastupdated_and_refreshes_search_index(db):
    before, _ = read(db, "Condition", "dx-1")
    store.update_row(db, "diagnoses", 1, {"status": "resolved", "resolved_date": "2024-02-02"})
    after, version = read(db, "Condition", "dx-1")
    assert version == 2 and after["meta"]["versionId"] == "2"
    assert after["meta"]["lastUpdated"] >= before["meta"]["lastUpdated"]
    assert after["clinicalStatus"]["coding"][0]["code"] == "resolved"
    tokens = db.execute(
        "SELECT code FROM search_token t JOIN resources r ON r.pk = t.pk"
        " WHERE r.id = 'dx-1' AND t.param = 'clinical-status'"
    ).fetchall()
    assert tokens == [("resolved",)]


def test_unshared_lab_results_are_never_projected(db):
    assert read(db, "DiagnosticReport", "lab-2") == (None, None)
    assert read(db, "Observation", "obs-3") == (None, None)
    report, _ = read(db, "DiagnosticReport", "lab-1")
    assert [r["reference"] for r in report["result"]] == ["Observation/obs-1", "Observation/obs-2"]


def test_sharing_and_unsharing_a_lab_result_follows_the_flag(db):
    store.update_row(db, "lab_results", 2, {"shared_with_patient": 1})
    assert read(db, "Observation", "obs-3")[0]["valueQuantity"]["value"] == 7.9
    assert (
        read(db, "DiagnosticReport", "lab-2")[0]["result"] == [{"reference": "Observation/obs-3"}]
        or read(db, "DiagnosticReport", "lab-2")[0]["result"][0]["reference"] == "Observation/obs-3"
    )
    store.update_row(db, "lab_results", 1, {"shared_with_patient": 0})
    assert read(db, "Observation", "obs-1") == (None, None)
    assert read(db, "DiagnosticReport", "lab-1") == (None, None)
    store.update_row(db, "lab_results", 1, {"shared_with_patient": 1})
    assert read(db, "Observation", "obs-1")[1] == 3  # versions keep counting through the tombstone


def test_new_observation_refreshes_its_report(db):
    store.insert_rows(
        db,
        "lab_observations",
        [
            {
                "uid": "obs-4",
                "lab_result_id": 1,
                "patient_id": 1,
                "loinc_code": "2951-2",
                "name": "Sodium",
                "value_num": 140,
                "unit": "mmol/L",
            }
        ],
    )
    report, version = read(db, "DiagnosticReport", "lab-1")
    assert version == 3  # inserted, refreshed when its observations were added, refreshed again now
    assert report["result"][-1]["reference"] == "Observation/obs-4"


def test_chart_errors_are_named_and_lose_nothing(db):
    with pytest.raises(ChartError, match="no column"):
        store.insert_rows(db, "diagnoses", [{"patient_id": 1, "description": "x", "colour": "red"}])
    with pytest.raises(ChartError, match="not a chart table"):
        store.insert_rows(db, "resources", [{}])
    with pytest.raises(ChartError, match="FOREIGN KEY"):
        store.insert_rows(db, "diagnoses", [{"patient_id": 999, "description": "x"}])
    with pytest.raises(ChartError, match="no row"):
        store.update_row(db, "diagnoses", 999, {"status": "resolved"})
    assert len(store.chart_rows(db, "diagnoses")) == 4
    assert db.execute("SELECT count(*) FROM resources WHERE type = 'Condition'").fetchone()[0] == 4


def test_ids_are_opaque_and_mrn_is_an_identifier(db):
    store.insert_rows(
        db,
        "patients",
        [
            {
                "practice_id": 1,
                "mrn": "M003",
                "first_name": "Li",
                "last_name": "Wu",
                "birth_date": "1990-01-01",
                "sex": "F",
            }
        ],
    )
    row = store.chart_rows(db, "patients", mrn="M003")[0]
    patient, _ = read(db, "Patient", row["uid"])
    assert len(row["uid"]) == 36 and row["uid"] != str(row["id"])
    assert {"system": "urn:oid:2.16.840.1.113883.3.9999.42", "value": "M003"}.items() <= patient["identifier"][
        0
    ].items()


@pytest.mark.sqlite_only  # SQLite's EXPLAIN QUERY PLAN
@pytest.mark.parametrize(
    "sql",
    [
        "SELECT r.pk FROM resources r WHERE r.type = 'Condition' AND r.deleted = 0 AND r.patient_id = 'pat-1'"
        " ORDER BY r.pk",
        "SELECT r.json FROM resources r WHERE r.type = 'Patient' AND r.id = 'pat-1'",
    ],
)
def test_hot_queries_use_indexes(db, sql):
    store.optimize(db)
    plan = " ".join(row[3] for row in db.execute("EXPLAIN QUERY PLAN " + sql))
    assert "USING" in plan and "SCAN r" not in plan.replace("USING INDEX", "")


@pytest.mark.sqlite_only  # the access log's own SQLite file (PostgreSQL keeps it in a schema)
def test_the_access_log_lives_in_its_own_database(tmp_path):
    import sqlite3

    path = str(tmp_path / "chart.db")
    db = store.connect(path)
    from gateway.store import disclosures as disclosure_store

    disclosure_store.insert_read(db, 1, "pat-1", "app", None, "Patient", 1)
    assert store.access_log_path(path) == str(tmp_path / "chart.access-log.db")
    with sqlite3.connect(path) as chart, sqlite3.connect(store.access_log_path(path)) as log:
        assert not chart.execute("SELECT 1 FROM sqlite_master WHERE name = 'disclosures'").fetchone()
        assert log.execute("SELECT patient_id, what FROM disclosures").fetchall() == [("pat-1", "Patient")]


@pytest.mark.sqlite_only  # replays SQLite migrations on a SQLite file
def test_an_older_database_moves_its_access_log_out(tmp_path):
    import sqlite3

    from gateway.store import migrations

    path = str(tmp_path / "old.db")
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        for version, (_name, script, *_) in enumerate(migrations.MIGRATIONS[:8], start=1):
            conn.executescript(script)
            conn.execute("INSERT INTO schema_version VALUES (?)", (version,))
        conn.execute(
            "INSERT INTO disclosures (at, patient_id, kind, what, count) VALUES (5, 'p', 'read', 'Patient', 1)"
        )
    db = store.connect(path)
    assert db.execute("SELECT at, patient_id FROM access_log.disclosures").fetchall() == [(5, "p")]
    assert not db.execute("SELECT 1 FROM main.sqlite_master WHERE name = 'disclosures'").fetchone()


@pytest.mark.sqlite_only  # SQLite's file lock and busy timeout on the access log file
def test_an_access_log_write_waits_out_another_writer_and_gives_up_at_the_timeout(tmp_path, monkeypatch):
    import sqlite3
    import threading
    import time

    from gateway.store import disclosures as disclosure_store

    path = str(tmp_path / "chart.db")
    db = store.connect(path)
    holder = sqlite3.connect(store.access_log_path(path), isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # another process in the middle of its commit
    threading.Timer(0.05, holder.execute, ("COMMIT",)).start()
    started = time.monotonic()
    disclosure_store.insert_read(store.access_log(path), 1, "pat-1", "app", None, "Patient", 1)
    assert 0.04 < time.monotonic() - started < 1

    holder.execute("BEGIN IMMEDIATE")
    monkeypatch.setattr(disclosure_store, "BUSY_TIMEOUT_S", 0.05)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        disclosure_store.insert_read(store.access_log(path), 2, "pat-1", "app", None, "Patient", 1)
    holder.execute("ROLLBACK")
    assert db.execute("SELECT count(*) FROM disclosures").fetchone()[0] == 1


def race_extension(db, patient):
    resource, version = read(db, "Patient", patient)
    found = [e for e in resource["extension"] if e["url"].endswith("/us-core-race")]
    return [
        (p["url"], p.get("valueCoding", {}).get("code") or p.get("valueString")) for p in found[0]["extension"]
    ], version


def test_race_answers_reproject_their_patient_and_override_the_single_column(db):
    assert race_extension(db, "pat-1") == ([("ombCategory", "2106-3"), ("text", "White")], 1)
    answers = [
        {"patient_id": 1, "kind": "race", "code": "2106-3", "display": "White", "position": 1},
        {"patient_id": 1, "kind": "race", "code": "2054-5", "display": "Black or African American", "position": 0},
    ]
    ids = store.insert_rows(db, "patient_races", answers)
    assert race_extension(db, "pat-1") == (
        [("ombCategory", "2054-5"), ("ombCategory", "2106-3"), ("text", "Black or African American, White")],
        2,  # one insert, one re-projection
    )
    store.update_row(db, "patient_races", ids[0], {"code": "2108-9", "display": "European"})
    assert race_extension(db, "pat-1") == (
        [("ombCategory", "2054-5"), ("detailed", "2108-9"), ("text", "Black or African American, European")],
        3,
    )
    assert race_extension(db, "pat-2") == ([("ombCategory", "2054-5"), ("text", "Black or African American")], 1)
