"""_type, _since, _typeFilter, granular scopes and Groups select exactly what the search API answers."""

import datetime as dt
import time

import orjson
import pytest

from gateway import store
from gateway.store import export_jobs as jobs_store
from smart_auth.tokens import issue_access_token

from .helpers import KICKOFF, exported, ids, kickoff, manifest, searched, stored

LAB = "http://terminology.hl7.org/CodeSystem/observation-category|laboratory"


def test_type_exports_exactly_those_types(web, bulk_db, system_token):
    headers = system_token()
    found = ids(exported(web, headers, kickoff(web, headers, _type="Condition,Practitioner")))
    assert found == {
        "Condition": searched(web, headers, "Condition"),
        "Practitioner": searched(web, headers, "Practitioner"),
    }
    assert (len(found["Condition"]), len(found["Practitioner"])) == (
        stored(bulk_db, "Condition"),
        stored(bulk_db, "Practitioner"),
    )


def test_since_exports_what_changed_after_it(web, system_token, bulk_db):
    headers = system_token()
    # _since is exact to the millisecond (Bulk Data: changed after the time) but a search's gt on a whole second
    # means after that second: let the template's own writes fall in an earlier second than _since.
    time.sleep(1.05)
    since = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    time.sleep(1.05)  # every change below lands in a later second than _since
    patient = bulk_db.execute("SELECT id FROM patients ORDER BY id LIMIT 1").fetchone()[0]
    store.update_row(bulk_db, "patients", patient, {"phone": "555-0100"})
    diagnosis = bulk_db.execute("SELECT id FROM diagnoses ORDER BY id LIMIT 1").fetchone()[0]
    store.update_row(bulk_db, "diagnoses", diagnosis, {"onset_date": "2020-02-02"})
    instant = since.isoformat().replace("+00:00", "Z")
    found = ids(exported(web, headers, kickoff(web, headers, _since=instant)))
    expected = {}
    for rtype in found:
        expected[rtype] = searched(web, headers, rtype, _lastUpdated=f"gt{instant}")
    assert found == expected
    assert len(found["Patient"]) == 1 and len(found["Condition"]) == 1
    assert sum(map(len, found.values())) < 10


def test_type_filter_uses_the_search_semantics(web, bulk_db, system_token):
    headers = system_token()
    status = kickoff(
        web,
        headers,
        _type="Observation,Condition,Patient",
        _typeFilter=f"Observation?category={LAB}&status=final,Condition?clinical-status=active,resolved",
    )
    found = ids(exported(web, headers, status))
    assert found == {
        "Observation": searched(web, headers, "Observation", category=LAB, status="final"),
        "Condition": searched(web, headers, "Condition", **{"clinical-status": "active,resolved"}),
        "Patient": searched(web, headers, "Patient"),
    }
    assert 0 < len(found["Observation"]) < stored(bulk_db, "Observation")
    assert 0 < len(found["Condition"]) < stored(bulk_db, "Condition")


def test_several_type_filters_of_one_type_are_alternatives(web, system_token):
    headers = system_token()
    status = kickoff(
        web,
        headers,
        _type="Observation",
        _typeFilter="Observation?category=laboratory,Observation?category=vital-signs",
    )
    found = ids(exported(web, headers, status))["Observation"]
    labs = searched(web, headers, "Observation", category="laboratory")
    vitals = searched(web, headers, "Observation", category="vital-signs")
    assert found == sorted(set(labs) | set(vitals)) and labs and vitals


def test_granular_system_scopes_filter_the_export_as_they_filter_searches(web, system_token):
    headers = system_token(f"system/Observation.rs?category={LAB} system/Patient.rs")
    found = ids(exported(web, headers, kickoff(web, headers)))
    assert sorted(found) == ["Observation", "Patient"]
    assert found["Observation"] == searched(web, headers, "Observation")
    assert found["Observation"] == searched(web, system_token(), "Observation", category=LAB)


def test_groups_are_one_per_practice_and_readable_by_system_tokens(web, system_token, bulk_db, bulk_summary):
    headers = system_token()
    bundle = web.get("/fhir/Group", headers=headers).get_json()
    assert bundle["total"] == 2
    for entry in bundle["entry"]:
        group = entry["resource"]
        members = [m["entity"]["reference"] for m in group["member"]]
        practice = group["managingEntity"]["reference"].split("/")[1]
        in_db = bulk_db.execute(
            "SELECT id FROM resources WHERE type = 'Patient' AND practice_id = ? ORDER BY pk", (practice,)
        ).fetchall()
        assert members == [f"Patient/{r[0]}" for r in in_db] and len(members) >= 5  # every practice has several
        assert (group["id"], group["actual"], group["type"], group["quantity"]) == (
            practice,
            True,
            "person",
            len(in_db),
        )
        assert web.get(f"/fhir/Group/{group['id']}", headers=headers).get_json() == group
    assert sorted(g["resource"]["id"] for g in bundle["entry"]) == sorted(bulk_summary["practices"].values())


def test_groups_are_not_for_patient_tokens(web, bulk_db, bulk_summary):
    patient = bulk_db.execute("SELECT id FROM resources WHERE type = 'Patient' LIMIT 1").fetchone()[0]
    token = issue_access_token(bulk_db, "some-app", "patient/*.rs", patient)
    practice = bulk_summary["practices"]["sunrise"]
    response = web.get(f"/fhir/Group/{practice}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403 and response.get_json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("few", [0, 100], ids=["table scan", "by index"])
def test_group_export_is_its_members_compartments(web, bulk_db, system_token, bulk_summary, monkeypatch, few):
    monkeypatch.setattr(jobs_store, "FEW_PATIENTS", few)
    headers = system_token()
    practice = bulk_summary["practices"]["lakeside"]
    members = [
        m["entity"]["reference"] for m in web.get(f"/fhir/Group/{practice}", headers=headers).get_json()["member"]
    ]
    status = kickoff(web, headers, f"/fhir/Group/{practice}/$export", _type="Patient,Condition,Observation")
    body = manifest(web, headers, status)
    assert body["request"] == f"http://gateway.test/fhir/Group/{practice}/$export?_type=Patient,Condition,Observation"
    found = ids(exported(web, headers, status))
    patients = ",".join(members)
    assert found == {
        "Patient": sorted(m.split("/")[1] for m in members),
        "Condition": searched(web, headers, "Condition", patient=patients),
        "Observation": searched(web, headers, "Observation", patient=patients),
    }
    assert len(found["Condition"]) < stored(bulk_db, "Condition")


def test_post_kickoff_takes_parameters_and_a_patient_subset(web, system_token, bulk_summary):
    headers = system_token()
    practice = bulk_summary["practices"]["sunrise"]
    member = web.get(f"/fhir/Group/{practice}", headers=headers).get_json()["member"][0]["entity"]["reference"]
    parameters = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "_type", "valueString": "Patient,Condition"},
            {"name": "patient", "valueReference": {"reference": member}},
            {"name": "includeAssociatedData", "valueCode": "LatestProvenanceResources"},
        ],
    }
    response = web.post(
        f"/fhir/Group/{practice}/$export",
        data=orjson.dumps(parameters),
        headers={**KICKOFF, **headers, "Content-Type": "application/fhir+json"},
    )
    assert response.status_code == 202
    status = response.headers["Content-Location"][len("http://gateway.test") :]
    found = ids(exported(web, headers, status))
    assert found == {
        "Patient": [member.split("/")[1]],
        "Condition": searched(web, headers, "Condition", patient=member),
    }
    errors = manifest(web, headers, status)["error"]
    assert [e["type"] for e in errors] == ["OperationOutcome"]
    outcome = orjson.loads(web.get(errors[0]["url"][len("http://gateway.test") :], headers=headers).data)
    assert outcome["issue"] == [
        {
            "severity": "warning",
            "code": "not-supported",
            "diagnostics": "includeAssociatedData is not supported and was ignored",
        }
    ]


def test_a_patient_outside_the_group_is_400(web, system_token, bulk_summary):
    headers = system_token()
    sunrise, lakeside = bulk_summary["practices"]["sunrise"], bulk_summary["practices"]["lakeside"]
    other = web.get(f"/fhir/Group/{lakeside}", headers=headers).get_json()["member"][0]["entity"]["reference"]
    parameters = {
        "resourceType": "Parameters",
        "parameter": [{"name": "patient", "valueReference": {"reference": other}}],
    }
    response = web.post(
        f"/fhir/Group/{sunrise}/$export",
        data=orjson.dumps(parameters),
        headers={**KICKOFF, **headers, "Content-Type": "application/fhir+json"},
    )
    assert response.status_code == 400
    diagnostics = response.get_json()["issue"][0]["diagnostics"]
    assert diagnostics == f"patient names patients this export does not cover: {other.split('/')[1]}"
