"""Provenance (US Core 6.1.0) read by id and as _revinclude, and the includes that answered 400 before.

Against the hand-made chart (tests/chart.py): dx-1 and dx-2 reference Practitioner prac-1, dx-3 references none.
"""

import pytest

from fixtures.demo_practice import uid

FHIR = "/fhir"
BASE = "http://gateway.test/fhir"
AUTHOR = {
    "system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
    "code": "author",
    "display": "Author",
}
TRANSMITTER = {
    "system": "http://hl7.org/fhir/us/core/CodeSystem/us-core-provenance-participant-type",
    "code": "transmitter",
    "display": "Transmitter",
}
PROFILE = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-provenance"


def expected_provenance(target, last_updated, practitioner):
    author = {"type": {"coding": [AUTHOR]}, "who": {"reference": "Organization/org-1"}}
    if practitioner:
        author = {
            "type": {"coding": [AUTHOR]},
            "who": {"reference": f"Practitioner/{practitioner}"},
            "onBehalfOf": {"reference": "Organization/org-1"},
        }
    return {
        "resourceType": "Provenance",
        "id": target.replace("/", "-"),
        "meta": {"versionId": "1", "lastUpdated": last_updated, "profile": [PROFILE]},
        "target": [{"reference": target}],
        "recorded": last_updated,
        "agent": [author, {"type": {"coding": [TRANSMITTER]}, "who": {"reference": "Organization/org-1"}}],
    }


def get(client, headers, path, expect=200):
    response = client.get(f"{FHIR}/{path}", headers=headers)
    assert response.status_code == expect, response.get_json(force=True)
    return response.get_json(force=True)


def test_revinclude_returns_one_provenance_per_match(chart_client, chart_auth):
    bundle = get(
        chart_client, chart_auth("patient/*.rs", "pat-1"), "Condition?patient=pat-1&_revinclude=Provenance:target"
    )
    assert bundle["total"] == 3
    assert [(e["fullUrl"], e["search"]["mode"]) for e in bundle["entry"]] == [
        (f"{BASE}/Condition/dx-1", "match"),
        (f"{BASE}/Condition/dx-2", "match"),
        (f"{BASE}/Condition/dx-3", "match"),
        (f"{BASE}/Provenance/Condition-dx-1", "include"),
        (f"{BASE}/Provenance/Condition-dx-2", "include"),
        (f"{BASE}/Provenance/Condition-dx-3", "include"),
    ]
    stamped = {e["resource"]["id"]: e["resource"]["meta"]["lastUpdated"] for e in bundle["entry"][:3]}
    assert [e["resource"] for e in bundle["entry"][3:]] == [
        expected_provenance("Condition/dx-1", stamped["dx-1"], "prac-1"),
        expected_provenance("Condition/dx-2", stamped["dx-2"], "prac-1"),
        expected_provenance("Condition/dx-3", stamped["dx-3"], None),
    ]


@pytest.mark.parametrize(
    "query, targets",
    [
        ("Patient?_id=pat-1", ["Patient/pat-1"]),
        ("Observation?patient=pat-1&_count=2", ["Observation/obs-1", "Observation/obs-2"]),
        ("DiagnosticReport?patient=pat-1", ["DiagnosticReport/lab-1"]),  # lab-2 is not shared with the patient
        ("Appointment?patient=pat-1", ["Appointment/appt-1", "Appointment/appt-2"]),
    ],
)
def test_revinclude_works_on_every_compartment_type_and_only_for_the_page(chart_client, chart_auth, query, targets):
    bundle = get(chart_client, chart_auth("patient/*.rs", "pat-1"), f"{query}&_revinclude=Provenance:target")
    included = [e["resource"] for e in bundle["entry"] if e["search"]["mode"] == "include"]
    assert [e["search"]["mode"] for e in bundle["entry"]] == ["match"] * len(targets) + ["include"] * len(targets)
    assert [p["target"] for p in included] == [[{"reference": t}] for t in targets]
    assert [p["agent"][0]["who"] for p in included] == [{"reference": "Practitioner/prac-1"}] * len(targets)


def test_provenance_read_by_id_with_etag(chart_client, chart_auth):
    headers = chart_auth("patient/Condition.rs patient/Provenance.rs", "pat-1")
    condition = chart_client.get(f"{FHIR}/Condition/dx-3", headers=headers)
    response = chart_client.get(f"{FHIR}/Provenance/Condition-dx-3", headers=headers)
    assert response.status_code == 200
    assert response.headers["ETag"] == condition.headers["ETag"] == 'W/"1"'
    last_updated = condition.get_json()["meta"]["lastUpdated"]
    assert response.get_json(force=True) == expected_provenance("Condition/dx-3", last_updated, None)


@pytest.mark.parametrize(
    "scope, patient, path, status",
    [
        # Not the token's patient, an unknown target, a type with no Provenance, no such id: all "not there".
        ("patient/*.rs", "pat-2", "Provenance/Condition-dx-1", 404),
        ("patient/*.rs", "pat-1", "Provenance/Condition-dx-404", 404),
        ("patient/*.rs", "pat-1", "Provenance/Practitioner-prac-1", 404),
        ("patient/*.rs", "pat-1", "Provenance/dx-1", 404),
        # A Provenance scope without the target's type: the target cannot be read, so neither can its Provenance.
        ("patient/Provenance.rs", "pat-1", "Provenance/Condition-dx-1", 404),
        # Without a Provenance scope: refused, as any read of a type the token does not cover.
        ("patient/Condition.rs", "pat-1", "Provenance/Condition-dx-1", 403),
    ],
)
def test_provenance_read_is_held_to_the_token(chart_client, chart_auth, scope, patient, path, status):
    body = get(chart_client, chart_auth(scope, patient), path, expect=status)
    assert body["resourceType"] == "OperationOutcome"


def test_revinclude_respects_the_scopes(chart_client, chart_auth):
    # SMART App Launch 2.0.0 (Scopes for requesting FHIR resources): a token is granted only the types its
    # scopes name, so an app without a Provenance scope gets its matches and no Provenance.
    query = "Condition?patient=pat-1&_revinclude=Provenance:target"
    without = get(chart_client, chart_auth("patient/Condition.rs", "pat-1"), query)
    assert [e["search"]["mode"] for e in without["entry"]] == ["match"] * 3
    granular = get(chart_client, chart_auth("patient/Condition.rs patient/Provenance.rs?target=x", "pat-1"), query)
    assert [e["search"]["mode"] for e in granular["entry"]] == ["match"] * 3
    system = get(chart_client, chart_auth("system/Condition.rs system/Provenance.rs"), query)
    assert [e["search"]["mode"] for e in system["entry"]] == ["match"] * 3 + ["include"] * 3


@pytest.mark.parametrize(
    "query, message",
    [
        ("Condition?_revinclude=Provenance:agent", "_revinclude=Provenance:agent: use ResourceType:parameter"),
        ("Condition?_revinclude=Provenance:target:Condition:x", "use ResourceType:parameter"),
        ("Practitioner?_revinclude=Provenance:target", "_revinclude=Provenance:target does not point at Practitioner"),
        ("Condition?_include=Provenance:target", "_include=Provenance:target: use ResourceType:parameter"),
        ("MedicationRequest?_include=MedicationRequest:dose", "dose is not a reference parameter of MedicationRequest"),
        (
            "Provenance?target=Condition/dx-1",
            "Provenance is read by id or asked for with _revinclude=Provenance:target",
        ),
    ],
)
def test_unknown_includes_are_400_naming_them(chart_client, chart_auth, query, message):
    body = get(chart_client, chart_auth("system/*.rs"), query, expect=400)
    assert body["resourceType"] == "OperationOutcome" and body["issue"][0]["code"] == "invalid"
    assert message in body["issue"][0]["diagnostics"]


def test_medication_include_adds_only_the_formulary_medication(client, auth):
    headers = auth("system/*.rs")
    plain = get(client, headers, "MedicationRequest?_count=1000")
    included = get(client, headers, "MedicationRequest?_count=1000&_include=MedicationRequest:medication")
    assert plain["total"] > 0
    matches = [e["fullUrl"] for e in included["entry"] if e["search"]["mode"] == "match"]
    assert matches == [e["fullUrl"] for e in plain["entry"]]
    # Only Noah's compounded cream is ordered from the formulary; every other request codes its medication.
    cream = uid("formulary", "hc_keto_cream")
    assert [e["resource"]["id"] for e in included["entry"] if e["search"]["mode"] == "include"] == [cream]
    assert get(client, headers, "MedicationRequest?medication=Medication/x")["total"] == 0
    assert get(client, headers, f"MedicationRequest?medication=Medication/{cream}")["total"] == 1
