"""The demo charts serve US Core 6.1.0 must-support elements: demographics, coded and unknown lab values."""

from fixtures.demo_practice import uid

THOMAS, MARIA, JAMES = uid("patients", "thomas"), uid("patients", "maria"), uid("patients", "james")
TRIBAL = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-tribal-affiliation"


def read_patient(client, auth, patient):
    response = client.get(f"/fhir/Patient/{patient}", headers=auth("patient/Patient.rs", patient))
    assert response.status_code == 200
    return response.get_json()


def test_thomas_is_served_with_his_tribe_and_recorded_sex(client, auth):
    patient = read_patient(client, auth, THOMAS)
    extensions = {ext["url"].rsplit("/", 1)[1]: ext for ext in patient["extension"]}
    assert sorted(extensions) == [
        "us-core-birthsex",
        "us-core-ethnicity",
        "us-core-race",
        "us-core-sex",
        "us-core-tribal-affiliation",
    ]
    assert extensions["us-core-tribal-affiliation"] == {
        "url": TRIBAL,
        "extension": [
            {
                "url": "tribalAffiliation",
                "valueCodeableConcept": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v3-TribalEntityUS",
                            "code": "170",
                            "display": "Navajo Nation, Arizona, New Mexico & Utah",
                        }
                    ],
                    "text": "Navajo Nation, Arizona, New Mexico & Utah",
                },
            },
            {"url": "isEnrolled", "valueBoolean": True},
        ],
    }
    assert extensions["us-core-sex"]["valueCode"] == "248153007"
    assert extensions["us-core-birthsex"]["valueCode"] == "M"


def test_maria_is_served_with_her_previous_address(client, auth):
    patient = read_patient(client, auth, MARIA)
    assert [address["use"] for address in patient["address"]] == ["home", "old"]
    old = patient["address"][1]
    assert (old["line"], old["city"], old["postalCode"]) == (["1180 Florin Rd"], "Sacramento", "95831")
    assert sorted(old["period"]) == ["end", "start"]
    assert old["period"]["start"] < old["period"]["end"]


def lab_value(client, auth, loinc):
    url = f"/fhir/Observation?patient={JAMES}&code=http://loinc.org|{loinc}"
    response = client.get(url, headers=auth("patient/Observation.rs", JAMES))
    assert response.status_code == 200
    (entry,) = response.get_json()["entry"]
    resource = entry["resource"]
    return {key: resource[key] for key in ("valueCodeableConcept", "dataAbsentReason") if key in resource}


def test_a_coded_lab_value_is_served_as_snomed(client, auth):
    assert lab_value(client, auth, "20454-5") == {
        "valueCodeableConcept": {
            "coding": [{"system": "http://snomed.info/sct", "code": "10828004", "display": "Positive"}],
            "text": "Positive",
        }
    }


def test_a_lab_value_not_read_is_served_as_unknown(client, auth):
    assert lab_value(client, auth, "5794-3") == {
        "dataAbsentReason": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
                    "code": "unknown",
                    "display": "Unknown",
                }
            ]
        }
    }


def test_prescriptions_are_served_with_their_timing(client, auth):
    url = f"/fhir/MedicationRequest?patient={MARIA}&intent=order"
    response = client.get(url, headers=auth("patient/MedicationRequest.rs", MARIA))
    assert response.status_code == 200
    served = {
        entry["resource"]["medicationCodeableConcept"]["coding"][0]["code"]: entry["resource"]["dosageInstruction"][0][
            "timing"
        ]
        for entry in response.get_json()["entry"]
        if entry["resource"]["resourceType"] == "MedicationRequest"
        and entry["resource"]["medicationCodeableConcept"]["text"].startswith("simvastatin")
    }
    assert list(served.values()) == [
        {
            "repeat": {"frequency": 1, "period": 1, "periodUnit": "d", "when": ["HS"]},
            "code": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation", "code": "BED"}]},
        }
    ]


def test_report_and_dose_performers_resolve_to_a_readable_organization(client, auth):
    headers = auth("patient/DiagnosticReport.rs patient/Immunization.rs patient/Organization.rs", MARIA)
    reports = client.get(f"/fhir/DiagnosticReport?patient={MARIA}", headers=headers).get_json()["entry"]
    doses = client.get(f"/fhir/Immunization?patient={MARIA}", headers=headers).get_json()["entry"]
    found = {
        performer["reference"]
        for entry in reports
        for performer in entry["resource"].get("performer", [])
        if performer.get("reference", "").startswith("Organization/")
    } | {
        performer["actor"]["reference"]
        for entry in doses
        for performer in entry["resource"].get("performer", [])
        if performer["actor"]["reference"].startswith("Organization/")
    }
    assert found == {f"Organization/{uid('practices', 'sunrise')}"}
    (organization,) = found
    response = client.get(f"/fhir/{organization}", headers=headers)
    assert response.status_code == 200
    assert response.get_json()["name"] == "Sunrise Family Medicine"


def test_keala_is_served_with_two_races_and_a_detailed_one(client, auth):
    keala = uid("patients", "keala")
    patient = read_patient(client, auth, keala)
    race = [e for e in patient["extension"] if e["url"].endswith("/us-core-race")]
    cdc = "urn:oid:2.16.840.1.113883.6.238"
    assert race == [
        {
            "url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race",
            "extension": [
                {
                    "url": "ombCategory",
                    "valueCoding": {
                        "system": cdc,
                        "code": "2076-8",
                        "display": "Native Hawaiian or Other Pacific Islander",
                    },
                },
                {"url": "ombCategory", "valueCoding": {"system": cdc, "code": "2028-9", "display": "Asian"}},
                {"url": "detailed", "valueCoding": {"system": cdc, "code": "2079-3", "display": "Native Hawaiian"}},
                {"url": "text", "valueString": "Native Hawaiian or Other Pacific Islander, Asian, Native Hawaiian"},
            ],
        }
    ]
