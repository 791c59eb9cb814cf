"""Scope x resource type x patient: one patient's token never sees another's data.

What each token should see is worked out here from the resources' own references (fetched with a
system token), independently of the store's compartment columns.
"""

import pytest

from mappers import REGISTRY

FHIR = "/fhir"
LAB = "http://terminology.hl7.org/CodeSystem/observation-category|laboratory"
# scope -> {resource type: (may read, may search)}; types not named may do neither.
SCOPES = {
    "patient/*.rs": {t: (True, True) for t in REGISTRY},
    "patient/*.read": {t: (True, True) for t in REGISTRY},
    "patient/Condition.rs patient/Patient.r": {"Condition": (True, True), "Patient": (True, False)},
    f"patient/Observation.rs?category={LAB}": {"Observation": (True, True)},
}


@pytest.fixture(scope="module")
def everything_by_system(make_app, demo_db_path):
    """Every resource in the demo, as the system sees it: {(type, id): resource}."""
    from gateway import store
    from tests.conftest import Tokens

    client = make_app().test_client()
    headers = Tokens(store.connect(demo_db_path))("system/*.rs")
    found = {}
    for rtype in REGISTRY:
        bundle = client.get(f"{FHIR}/{rtype}?_count=1000", headers=headers).get_json(force=True)
        assert bundle["total"] == len(bundle.get("entry", []))
        for entry in bundle.get("entry", []):
            found[(rtype, entry["resource"]["id"])] = entry["resource"]
    return found


def references(resource):
    if isinstance(resource, dict):
        for key, value in resource.items():
            if key == "reference" and isinstance(value, str):
                yield value
            else:
                yield from references(value)
    elif isinstance(resource, list):
        for item in resource:
            yield from references(item)


def visible_to(patient_id, everything, directory=True):
    """The (type, id) keys a token for ``patient_id`` may see: its compartment and what that references, and
    (``directory``) the practice's directory, which $everything leaves out unless referenced."""
    own = {
        key
        for key, res in everything.items()
        if key == ("Patient", patient_id)
        or f"Patient/{patient_id}" in set(references(res))
        and REGISTRY[key[0]].compartment
    }
    referenced = {tuple(ref.split("/", 1)) for key in own for ref in references(everything[key])}
    # The practice's directory (its sites, its clinicians' roles): whatever references the patient's practice.
    practices = {ref for ref in references(everything[("Patient", patient_id)]) if ref.startswith("Organization/")}
    listed = {
        key
        for key, res in everything.items()
        if directory and REGISTRY[key[0]].practice_directory and practices & set(references(res))
    }
    # Definitions (the screening forms) are everyone's, no patient's data: read and searched, not in $everything.
    forms = {key for key in everything if directory and REGISTRY[key[0]].definitional}
    return own | listed | forms | {key for key in referenced if key in everything and not REGISTRY[key[0]].compartment}


@pytest.mark.parametrize("scope", list(SCOPES))
@pytest.mark.parametrize("rtype", list(REGISTRY))
def test_patient_tokens_see_only_their_compartment(client, auth, demo, everything_by_system, scope, rtype):
    may_read, may_search = SCOPES[scope].get(rtype, (False, False))
    patients = sorted(rid for t, rid in everything_by_system if t == "Patient")
    assert len(patients) >= 8
    for patient in patients:
        headers = auth(scope, patient)
        expected = {key for key in visible_to(patient, everything_by_system) if key[0] == rtype}
        if rtype == "Observation" and "category=" in scope:
            expected = {
                k
                for k in expected
                if any(
                    c.get("code") == "laboratory"
                    for cat in everything_by_system[k].get("category", [])
                    for c in cat.get("coding", [])
                )
            }
        response = client.get(f"{FHIR}/{rtype}?_count=1000", headers=headers)
        if not may_search:
            assert response.status_code == 403
        else:
            bundle = response.get_json(force=True)
            assert {(rtype, e["resource"]["id"]) for e in bundle.get("entry", [])} == expected
        for key in [k for k in everything_by_system if k[0] == rtype]:
            status = client.get(f"{FHIR}/{rtype}/{key[1]}", headers=headers).status_code
            assert status == (403 if not may_read else 200 if key in expected else 404), (patient, key)


def test_searching_for_another_patient_returns_nothing(client, auth, everything_by_system):
    patients = sorted(rid for t, rid in everything_by_system if t == "Patient")
    mine, other = patients[0], patients[1]
    bundle = client.get(f"{FHIR}/Condition?patient={other}", headers=auth("patient/*.rs", mine)).get_json(force=True)
    assert bundle["total"] == 0


def test_everything_is_the_compartment_plus_what_it_references(client, auth, everything_by_system):
    for patient in sorted(rid for t, rid in everything_by_system if t == "Patient"):
        response = client.get(f"{FHIR}/Patient/{patient}/$everything", headers=auth("patient/*.rs", patient))
        assert response.status_code == 200
        bundle = response.get_json(force=True)
        got = {(e["resource"]["resourceType"], e["resource"]["id"]) for e in bundle["entry"]}
        assert got == visible_to(patient, everything_by_system, directory=False)
        assert bundle["total"] == len(got)
        assert bundle["entry"][0]["resource"]["resourceType"] == "Patient"


def test_everything_respects_scopes_and_type_filter(client, auth, everything_by_system):
    patient = sorted(rid for t, rid in everything_by_system if t == "Patient")[0]
    headers = auth("patient/Patient.rs patient/Condition.rs", patient)
    bundle = client.get(f"{FHIR}/Patient/{patient}/$everything", headers=headers).get_json(force=True)
    assert {e["resource"]["resourceType"] for e in bundle["entry"]} <= {"Patient", "Condition"}
    only = client.get(f"{FHIR}/Patient/{patient}/$everything?_type=Condition", headers=headers).get_json(force=True)
    assert {e["resource"]["resourceType"] for e in only["entry"]} == {"Condition"}
    bad = client.get(f"{FHIR}/Patient/{patient}/$everything?_type=Nope", headers=headers)
    assert bad.status_code == 400
    other = sorted(rid for t, rid in everything_by_system if t == "Patient")[1]
    assert client.get(f"{FHIR}/Patient/{other}/$everything", headers=headers).status_code == 404
