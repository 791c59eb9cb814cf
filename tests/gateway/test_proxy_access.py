"""Attacker tests of proxy access that ages with the child: a parent's app token, the portal's pages and its
downloads show a 12-year-old's record without the practice's sensitive categories, and nothing at 18."""

import datetime as dt
import io

import orjson
import pytest
from pypdf import PdfReader

from gateway import store
from smart_auth import accounts, proxy_policy
from tests import chart
from tests.portal_helpers import bearer, login, portal_client, show_record

PARENT = ("parent@example.com", "Parent-Pass1")
SENSITIVE = "cond-sensitive"  # F32.9 depression: mental health
PLAIN = "cond-asthma"


def birthday_ago(years, days=0):
    """A generated child's birth date: ``years`` old today, ``days`` later (today at the practice: the check's
    clock, the practice's local date)."""
    today = proxy_policy.today()
    try:
        birth = today.replace(year=today.year - years)
    except ValueError:  # today is 29 February: born on 1 March, they turn ``years`` tomorrow
        birth = dt.date(today.year - years, 2, 28)
    return (birth + dt.timedelta(days=days)).isoformat()


def build(path, birth_date):
    """tests/chart.py, plus a generated child born on ``birth_date`` with one sensitive and one plain
    diagnosis, and a parent's portal account linked to the child; return (db, parent account)."""
    db = store.connect(path)
    chart.build(db)
    store.insert_rows(
        db,
        "patients",
        [
            {
                "id": 10,
                "uid": "child",
                "practice_id": 1,
                "mrn": "C010",
                "first_name": "Linh",
                "last_name": "Nguyen",
                "birth_date": birth_date,
                "sex": "F",
            }
        ],
    )
    store.insert_rows(
        db,
        "diagnoses",
        [
            {
                "uid": SENSITIVE,
                "patient_id": 10,
                "icd10_code": "F32.9",
                "snomed_code": "35489007",
                "description": "Major depressive disorder",
                "onset_date": "2025-01-05",
            },
            {
                "uid": PLAIN,
                "patient_id": 10,
                "icd10_code": "J45.909",
                "snomed_code": "195967001",
                "description": "Asthma",
                "onset_date": "2024-02-01",
            },
        ],
    )
    parent = accounts.create_account(db, *PARENT, name="Hoa Nguyen", confirmed=True)
    accounts.link_account_to_chart(db, parent["id"], 10, "parent")
    with store.transaction(db):  # linked while the child was small (a link made after 18 is the adult's choice)
        db.execute("UPDATE account_links SET linked_at = '2015-01-01T00:00:00.000Z'")
    return db, parent


@pytest.fixture
def twelve(empty_db_path):
    return (empty_db_path, *build(empty_db_path, birthday_ago(12)))


def ids(bundle, rtype="Condition"):
    return sorted(e["resource"]["id"] for e in bundle.get("entry", []) if e["resource"]["resourceType"] == rtype)


def test_a_12_year_olds_sensitive_condition_is_absent_from_the_parents_app(twelve):
    path, db, parent = twelve
    client = portal_client(path)
    headers = bearer(db, "child", subject=parent["uid"])
    everything = client.get("/fhir/Patient/child/$everything", headers=headers)
    assert everything.status_code == 200
    assert ids(orjson.loads(everything.data)) == [PLAIN]
    search = client.get("/fhir/Condition?patient=child", headers=headers)
    assert ids(orjson.loads(search.data)) == [PLAIN]
    by_code = client.get("/fhir/Condition?patient=child&code=http://hl7.org/fhir/sid/icd-10-cm|F32.9", headers=headers)
    assert ids(orjson.loads(by_code.data)) == []
    by_id = client.get(f"/fhir/Condition?_id={SENSITIVE}", headers=headers)
    assert ids(orjson.loads(by_id.data)) == []
    read = client.get(f"/fhir/Condition/{SENSITIVE}", headers=headers)
    assert read.status_code == 404
    assert orjson.loads(read.data)["resourceType"] == "OperationOutcome"
    assert client.get(f"/fhir/Condition/{PLAIN}", headers=headers).status_code == 200
    included = client.get("/fhir/Patient?_id=child&_revinclude=Condition:patient", headers=headers)
    assert ids(orjson.loads(included.data)) == [PLAIN]


def test_the_same_token_without_a_parent_sees_the_whole_record(twelve):
    path, db, _ = twelve
    client = portal_client(path)
    everything = client.get("/fhir/Patient/child/$everything", headers=bearer(db, "child"))
    assert ids(orjson.loads(everything.data)) == [PLAIN, SENSITIVE]


def test_a_12_year_olds_sensitive_condition_is_absent_from_the_parents_portal_and_downloads(twelve):
    path, db, parent = twelve
    client = portal_client(path)
    token = login(client, *PARENT)
    show_record(client, token, accounts.linked_records(db, parent["id"])[0]["id"])
    page = client.get("/portal/records/diagnoses").get_data(as_text=True)
    assert "Asthma" in page and "depressive" not in page
    assert client.get(f"/portal/records/diagnoses/{SENSITIVE}").status_code == 404
    fhir = client.post("/portal/download", data={"format": "fhir", "csrf_token": token})
    assert ids(orjson.loads(fhir.data)) == [PLAIN]
    pdf = client.post("/portal/download", data={"format": "pdf", "csrf_token": token})
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Asthma" in text and "depressive" not in text
    html = client.post("/portal/download", data={"format": "html", "csrf_token": token}).get_data(as_text=True)
    assert "Asthma" in html and "depressive" not in html


def test_the_day_before_the_12th_birthday_the_parent_sees_the_whole_record(empty_db_path):
    db, parent = build(empty_db_path, birthday_ago(12, days=1))
    everything = portal_client(empty_db_path).get(
        "/fhir/Patient/child/$everything", headers=bearer(db, "child", subject=parent["uid"])
    )
    assert ids(orjson.loads(everything.data)) == [PLAIN, SENSITIVE]


def test_on_the_18th_birthday_the_parents_token_and_portal_access_end(empty_db_path):
    db, parent = build(empty_db_path, birthday_ago(18))
    client = portal_client(empty_db_path)
    response = client.get("/fhir/Patient/child", headers=bearer(db, "child", subject=parent["uid"]))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert accounts.linked_records(db, parent["id"]) == []


def test_the_day_before_the_18th_birthday_the_parent_still_has_the_limited_record(empty_db_path):
    db, parent = build(empty_db_path, birthday_ago(18, days=1))
    everything = portal_client(empty_db_path).get(
        "/fhir/Patient/child/$everything", headers=bearer(db, "child", subject=parent["uid"])
    )
    assert ids(orjson.loads(everything.data)) == [PLAIN]


def test_a_practice_policy_changes_the_ages_and_categories(empty_db_path):
    db, parent = build(empty_db_path, birthday_ago(13))
    with store.transaction(db):
        store.save_proxy_policy(db, 1, limited_from=14, ends_at=18, withheld="sexual-health")
    everything = portal_client(empty_db_path).get(
        "/fhir/Patient/child/$everything", headers=bearer(db, "child", subject=parent["uid"])
    )
    assert ids(orjson.loads(everything.data)) == [PLAIN, SENSITIVE]
