"""The access log behind Access history: one row per FHIR request that disclosed patient data, grouped by
app and minute when read back, filterable by app and by day."""

import datetime as dt

import pytest

from gateway import disclosures
from gateway.store import disclosures as disclosure_store
from tests.portal_helpers import bearer, build_portal_db, portal_client

NOV_25 = 1795564800000  # 2026-11-25T00:00:00Z in ms


@pytest.fixture
def portal(new_db_path):
    path = new_db_path("log")
    db, summary = build_portal_db(path)
    return portal_client(path), db, summary["patients"]["maria"]


def rows(db, patient):
    return [
        dict(zip(("kind", "client_id", "what", "count"), r))
        for r in db.execute(
            "SELECT kind, client_id, what, count FROM disclosures WHERE patient_id = ? ORDER BY id", (patient,)
        )
    ]


def test_each_read_search_and_everything_is_one_row(portal):
    client, db, maria = portal
    headers = bearer(db, maria, client_id="my-health-app")
    assert client.get(f"/fhir/Patient/{maria}", headers=headers).status_code == 200
    conditions = client.get(f"/fhir/Condition?patient={maria}", headers=headers).get_json(force=True)
    client.get(f"/fhir/Patient/{maria}/$everything", headers=headers)
    logged = rows(db, maria)
    assert [r["kind"] for r in logged] == ["read"] * 3
    assert logged[0] == {"kind": "read", "client_id": "my-health-app", "what": "Patient", "count": 1}
    assert logged[1]["what"] == "Condition" and logged[1]["count"] == conditions["total"]
    assert "AllergyIntolerance" in logged[2]["what"].split(",") and logged[2]["count"] > 20


def test_what_discloses_nothing_is_not_logged(portal):
    client, db, maria = portal
    headers = bearer(db, maria)
    etag = client.get(f"/fhir/Patient/{maria}", headers=headers).headers["ETag"]
    client.get(f"/fhir/Patient/{maria}", headers={**headers, "If-None-Match": etag})  # 304
    client.get("/fhir/Condition/not-there", headers=headers)  # 404
    client.get(f"/fhir/Condition?patient={maria}&_summary=count", headers=headers)  # no resources
    client.get(f"/fhir/Condition?patient={maria}", headers=bearer(db, maria, scope="patient/Patient.rs"))  # 403
    assert len(rows(db, maria)) == 1


def test_reads_by_one_app_in_one_minute_are_one_history_row(portal):
    client, db, maria = portal
    for at, app, what, count in [
        (NOV_25 + 1000, "a", "Condition", 3),
        (NOV_25 + 50_000, "a", "Patient", 1),
        (NOV_25 + 20_000, "b", "Condition", 3),
        (NOV_25 + 61_000, "a", "Condition", 2),
    ]:
        disclosure_store.insert_read(db, at, maria, app, "someone", what, count)
    grouped = disclosure_store.history(db, maria, ("read",))
    assert [(r["client_id"], r["count"], r["requests"]) for r in grouped] == [("a", 2, 1), ("a", 4, 2), ("b", 3, 1)]
    assert set(grouped[1]["what"].split(",")) == {"Condition", "Patient"}


def test_history_filters_by_app_and_day_exactly(portal):
    client, db, maria = portal
    day = 86_400_000
    for n in range(3):
        disclosure_store.insert_read(db, NOV_25 + n * day - 1, maria, "a", None, "Patient", 1)
        disclosure_store.insert_read(db, NOV_25 + n * day, maria, "b", None, "Patient", 1)
    only_b = disclosure_store.history(db, maria, ("read",), client_id="b")
    assert {r["client_id"] for r in only_b} == {"b"} and len(only_b) == 3
    with client.application.test_request_context():
        # 2026-11-25 alone: b's read at midnight, not a's a millisecond before it.
        found = disclosures.history(maria, {}, start=dt.date(2026, 11, 25), end=dt.date(2026, 11, 25))
    assert [(r["who"], r["at"]) for r in found] == [
        ("Sunrise Family Medicine's system (a)", "2026-11-25T23:59:59Z"),
        ("Sunrise Family Medicine's system (b)", "2026-11-25T00:00:00Z"),
    ]


def test_reads_are_told_in_plain_words_and_an_operator_token_as_the_practices_system(portal):
    client, db, maria = portal
    disclosure_store.insert_read(db, NOV_25, maria, "cli", None, "Patient", 1)
    disclosure_store.insert_read(db, NOV_25 + 120_000, maria, "cli", None, "Observation,Condition", 4)
    with client.application.test_request_context():
        found = disclosures.history(maria, {})
        names = disclosures.app_names(["cli"], "Sunrise Family Medicine")
    assert [(r["who"], r["action"], r["detail"]) for r in found] == [
        ("Sunrise Family Medicine's system", "read 4 items", "Health problems, results"),
        ("Sunrise Family Medicine's system", "read 1 item", "Personal details"),
    ]
    assert names == {"cli": "Sunrise Family Medicine's system"}
