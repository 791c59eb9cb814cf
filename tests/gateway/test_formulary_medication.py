"""Medication from the practice formulary: a compounded cream Noah's prescription orders, referenced by
MedicationRequest.medicationReference, read through the reference and returned by
_include=MedicationRequest:medication (US Core 6.1.0 CapabilityStatement: Medication read SHALL)."""

import pytest

from fixtures.demo_practice import uid

FHIR = "/fhir"
CREAM = "Hydrocortisone 1% / ketoconazole 2% compounded cream"


def pat(handle):
    return uid("patients", handle)


def ids(bundle, mode="match"):
    return sorted(e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == mode)


@pytest.fixture
def get(client, auth):
    def run(path, scope="system/*.rs", patient=None, expect=200):
        response = client.get(f"{FHIR}/{path}", headers=auth(scope, patient))
        assert response.status_code == expect, response.get_json(force=True)
        return response.get_json(force=True)

    return run


def test_the_compounded_cream_reads_as_us_core_medication(get):
    medication = get(f"Medication/{uid('formulary', 'hc_keto_cream')}", "patient/*.rs", pat("noah"))
    assert medication["meta"]["profile"] == ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-medication"]
    assert medication["code"] == {"text": CREAM}
    assert [i["itemCodeableConcept"]["text"] for i in medication["ingredient"]] == [
        "hydrocortisone 1%",
        "ketoconazole 2%",
        "in a ceramide cream base",
    ]


def test_only_the_patient_whose_prescription_names_it_may_read_it(get):
    cream = uid("formulary", "hc_keto_cream")
    assert get(f"Medication/{cream}", "patient/*.rs", pat("keala"), expect=404)["resourceType"] == "OperationOutcome"
    assert get("Medication", "patient/*.rs", pat("keala"))["total"] == 0
    assert ids(get("Medication", "patient/*.rs", pat("noah"))) == [cream]


def test_include_returns_the_referenced_medication(get):
    bundle = get(
        f"MedicationRequest?patient={pat('noah')}&intent=order&_include=MedicationRequest:medication",
        "patient/*.rs",
        pat("noah"),
    )
    assert ids(bundle) == sorted([uid("medications", "noah:0"), uid("medications", "noah:2")])
    assert ids(bundle, "include") == [uid("formulary", "hc_keto_cream")]
    request = next(e["resource"] for e in bundle["entry"] if e["resource"]["id"] == uid("medications", "noah:2"))
    assert request["medicationReference"] == {
        "reference": f"Medication/{uid('formulary', 'hc_keto_cream')}",
        "display": CREAM,
    }
    # Maria's prescriptions all code their medication: the include adds nothing.
    assert ids(get(f"MedicationRequest?patient={pat('maria')}&_include=MedicationRequest:medication"), "include") == []


def test_the_fill_of_the_cream_references_it_too(get):
    bundle = get(f"MedicationDispense?patient={pat('noah')}&_include=MedicationDispense:medication")
    assert ids(bundle) == sorted([uid("dispenses", "noah:0"), uid("dispenses", "noah:1")])
    assert ids(bundle, "include") == [uid("formulary", "hc_keto_cream")]


def test_the_statement_names_the_cream_for_the_portal(get):
    statement = get(f"MedicationStatement/{uid('medications', 'noah:2')}")
    assert statement["medicationCodeableConcept"] == {"text": CREAM}
