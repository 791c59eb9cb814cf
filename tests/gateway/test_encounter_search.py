"""Encounter searches of US Core 6.1.0 (SHALL and SHOULD) against James's demo visits with his own patient token,
exact results; the visit references on his other records resolve with the same token."""

import pytest

from fixtures.demo_data import PATIENTS
from fixtures.demo_practice import uid
from gateway import store

FHIR = "/fhir"
JAMES = uid("patients", "james")
KEALA = uid("patients", "keala")
SNOMED = "http://snomed.info/sct"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"


@pytest.fixture(scope="module")
def visits(demo_db_path):
    """James's visits as the chart keeps them: {uid: row}."""
    db = store.connect(demo_db_path)
    patient = store.chart_rows(db, "patients", uid=JAMES)[0]
    return {row["uid"]: row for row in store.chart_rows(db, "encounters", patient_id=patient["id"])}


@pytest.fixture
def find(client, auth):
    headers = auth("patient/*.rs", patient=JAMES)

    def run(query, expect=200):
        response = client.get(f"{FHIR}/{query}", headers=headers)
        assert response.status_code == expect, response.get_json(force=True)
        bundle = response.get_json(force=True)
        return sorted(e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match")

    return run


def stay(visits):
    return next(u for u, row in visits.items() if row["class_code"] == "IMP")


def test_james_has_five_visits_and_one_hospital_stay(visits):
    assert sorted(row["class_code"] for row in visits.values()) == ["AMB", "AMB", "AMB", "AMB", "IMP"]


@pytest.mark.parametrize("patient", [JAMES, f"Patient/{JAMES}"])
def test_patient_finds_every_visit_get_and_post(find, client, auth, visits, patient):
    assert find(f"Encounter?patient={patient}") == sorted(visits)
    response = client.post(
        f"{FHIR}/Encounter/_search", data={"patient": patient}, headers=auth("patient/*.rs", patient=JAMES)
    )
    assert sorted(e["resource"]["id"] for e in response.get_json()["entry"]) == sorted(visits)


def test_id_and_identifier_find_one_visit(find, visits):
    one = stay(visits)
    system = "urn:oid:2.16.840.1.113883.3.9999.1.1"
    assert find(f"Encounter?_id={one}") == [one]
    assert find(f"Encounter?identifier={system}|{visits[one]['visit_number']}") == [one]
    assert find(f"Encounter?identifier={visits[one]['visit_number']}") == [one]
    assert find(f"Encounter?identifier=urn:oid:9.9|{visits[one]['visit_number']}") == []


def _expected(visits, keep):
    return sorted(u for u, row in visits.items() if keep(row["start_at"][:10], row["end_at"][:10]))


# The stay runs 2026-01-29 to 2026-02-01; office visits are single days. R4 3.1.1.4.2: eq means the searched day
# contains the whole visit, gt/ge/lt/le that the ranges overlap beyond the day, sa/eb that they do not overlap.
@pytest.mark.parametrize(
    "comparator, value, keep",
    [
        ("eq", "2026-05-09", lambda s, e: s >= "2026-05-09" and e <= "2026-05-09"),
        ("", "2026-05-09", lambda s, e: s >= "2026-05-09" and e <= "2026-05-09"),
        ("ne", "2026-05-09", lambda s, e: not (s >= "2026-05-09" and e <= "2026-05-09")),
        ("gt", "2026-01-31", lambda s, e: e > "2026-01-31"),
        ("ge", "2026-02-01", lambda s, e: e > "2026-02-01" or (s >= "2026-02-01" and e <= "2026-02-01")),
        ("lt", "2026-01-30", lambda s, e: s < "2026-01-30"),
        ("le", "2026-05-09", lambda s, e: s < "2026-05-09" or (s >= "2026-05-09" and e <= "2026-05-09")),
        ("sa", "2026-01-28", lambda s, e: s > "2026-01-28"),
        ("eb", "2026-05-09", lambda s, e: e < "2026-05-09"),
    ],
)
def test_patient_and_date_with_every_comparator(find, visits, comparator, value, keep):
    expected = _expected(visits, keep)
    assert expected  # each case picks a date that some visit matches
    assert find(f"Encounter?patient={JAMES}&date={comparator}{value}") == expected
    assert find(f"Encounter?date={comparator}{value}&patient={JAMES}") == expected


def test_date_approximately_finds_the_stay(find, visits):
    assert find(f"Encounter?patient={JAMES}&date=ap2026-01-30") == [stay(visits)]


def test_should_searches(find, visits):
    one = stay(visits)
    office = sorted(u for u in visits if u != one)
    assert find(f"Encounter?patient={JAMES}&class=IMP") == [one]
    assert find(f"Encounter?class={ACT_CODE}|AMB&patient={JAMES}") == office
    assert find(f"Encounter?patient={JAMES}&type={SNOMED}|32485007") == [one]
    assert find(f"Encounter?patient={JAMES}&type=185349003") == sorted(
        u for u, row in visits.items() if row["type_code"] == "185349003"
    )
    assert find(f"Encounter?patient={JAMES}&status=finished") == sorted(visits)
    assert find(f"Encounter?patient={JAMES}&status=planned,cancelled") == []
    assert find(f"Encounter?patient={JAMES}&discharge-disposition=http://www.nubc.org/patient-discharge|01") == [one]


def test_a_clinic_visit_points_at_the_practice_site_and_is_found_by_it(client, auth, find, demo_db_path):
    db = store.connect(demo_db_path)
    sites = {r["id"]: r["uid"] for r in store.chart_rows(db, "locations")}
    held = store.chart_rows(db, "encounters", location="Main clinic")
    james = store.chart_rows(db, "patients", uid=JAMES)[0]["id"]
    at_clinic = sorted(row["uid"] for row in held if row["patient_id"] == james)
    site = sites[next(row["location_id"] for row in held if row["patient_id"] == james)]
    assert at_clinic and find(f"Encounter?patient={JAMES}&location=Location/{site}") == at_clinic
    assert find(f"Encounter?patient={JAMES}&location={site}") == at_clinic  # a bare id: the one target type
    visit = client.get(f"{FHIR}/Encounter/{at_clinic[0]}", headers=auth("patient/*.rs", patient=JAMES)).get_json()
    assert visit["location"] == [{"location": {"reference": f"Location/{site}", "display": "Main clinic"}}]
    read = client.get(f"{FHIR}/Location/{site}", headers=auth("patient/*.rs", patient=JAMES))
    assert read.status_code == 200 and read.get_json()["status"] == "active"


def test_another_patients_visits_are_not_found(find, demo_db_path):
    db = store.connect(demo_db_path)
    keala = store.chart_rows(db, "patients", uid=KEALA)[0]
    theirs = store.chart_rows(db, "encounters", patient_id=keala["id"])
    assert len(theirs) == 2
    assert find(f"Encounter?patient={KEALA}") == []
    assert find(f"Encounter/{theirs[0]['uid']}", expect=404) == []


@pytest.mark.parametrize("rtype", ["Condition", "MedicationRequest", "Procedure", "Observation", "DiagnosticReport"])
def test_visit_references_resolve_with_the_same_token(client, auth, rtype):
    linked_anywhere = 0
    for handle in PATIENTS:
        patient = uid("patients", handle)
        headers = auth("patient/*.rs", patient=patient)
        bundle = client.get(f"{FHIR}/{rtype}?patient={patient}&_count=500", headers=headers).get_json()
        linked = {
            e["resource"]["encounter"]["reference"] for e in bundle.get("entry", []) if "encounter" in e["resource"]
        }
        linked_anywhere += len(linked)
        for ref in linked:
            response = client.get(f"{FHIR}/{ref}", headers=headers)
            assert response.status_code == 200
            assert response.get_json()["subject"] == {"reference": f"Patient/{patient}"}
    assert linked_anywhere >= 1


@pytest.mark.parametrize("rtype", ["Condition", "MedicationRequest"])
def test_search_by_encounter_finds_the_rows_charted_at_it(client, auth, rtype):
    patient = uid("patients", "keala")
    headers = auth("patient/*.rs", patient=patient)
    bundle = client.get(f"{FHIR}/{rtype}?patient={patient}", headers=headers).get_json()
    by_visit = {}
    for e in bundle["entry"]:
        if "encounter" in e["resource"]:
            by_visit.setdefault(e["resource"]["encounter"]["reference"], []).append(e["resource"]["id"])
    assert by_visit
    for ref, expected in by_visit.items():
        found = client.get(f"{FHIR}/{rtype}?patient={patient}&encounter={ref}", headers=headers).get_json()
        assert sorted(e["resource"]["id"] for e in found["entry"]) == sorted(expected)


def test_service_provider_resolves_to_the_practice(client, auth, visits):
    headers = auth("patient/*.rs", patient=JAMES)
    encounter = client.get(f"{FHIR}/Encounter/{stay(visits)}", headers=headers).get_json()
    organization = client.get(f"{FHIR}/{encounter['serviceProvider']['reference']}", headers=headers)
    assert organization.status_code == 200 and organization.get_json()["name"] == "Sunrise Family Medicine"


def test_capability_statement_declares_the_us_core_encounter_searches(client):
    body = client.get(f"{FHIR}/metadata").get_json()
    encounter = next(r for r in body["rest"][0]["resource"] if r["type"] == "Encounter")
    assert encounter["supportedProfile"] == ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-encounter"]
    us_core = "http://hl7.org/fhir/us/core/SearchParameter/us-core-encounter-"
    declared = {p["name"]: p["definition"] for p in encounter["searchParam"]}
    for name in ("patient", "identifier", "date", "class", "type", "status", "discharge-disposition", "location"):
        assert declared[name] == us_core + name


def test_a_visit_for_a_charted_problem_names_it_and_the_reference_resolves(client, auth):
    maria = uid("patients", "maria")
    headers = auth("patient/*.rs", patient=maria)
    bundle = client.get(f"{FHIR}/Encounter?patient={maria}", headers=headers).get_json()
    reasons = {
        e["resource"]["reasonCode"][0]["text"]: e["resource"]["reasonReference"]
        for e in bundle["entry"]
        if "reasonReference" in e["resource"]
    }
    assert list(reasons) == ["Diabetes follow-up"]
    condition = client.get(f"{FHIR}/{reasons['Diabetes follow-up'][0]['reference']}", headers=headers).get_json()
    assert condition["code"]["coding"][0]["code"] == "E11.9"


def test_a_diagnosis_written_after_its_visit_reprojects_the_visit(fresh_demo_db_path):
    db = store.connect(fresh_demo_db_path)
    patient = store.chart_rows(db, "patients", uid=KEALA)[0]
    [visit_id] = store.insert_rows(db, "encounters", [{"patient_id": patient["id"], "reason_diagnosis_id": 10_000}])
    [diagnosis_id] = store.insert_rows(
        db, "diagnoses", [{"id": 10_000, "patient_id": patient["id"], "description": "Sprained ankle"}]
    )
    visit, diagnosis = store.chart_row(db, "encounters", visit_id), store.chart_row(db, "diagnoses", diagnosis_id)
    body = db.execute(
        "SELECT version, json FROM resources WHERE type = 'Encounter' AND id = ?", (visit["uid"],)
    ).fetchone()
    assert body[0] == 2
    assert '"reasonReference":[{"reference":"Condition/' + diagnosis["uid"] + '"}]' in bytes(body[1]).decode()


def test_a_malformed_location_names_the_form_it_takes(client, auth):
    response = client.get(
        f"{FHIR}/Encounter?patient={JAMES}&location=a/b/c", headers=auth("patient/*.rs", patient=JAMES)
    )
    assert response.status_code == 400
    assert response.get_json()["issue"][0]["diagnostics"] == (
        "location: 'a/b/c' is not a reference (use Location/123 or 123)"
    )
