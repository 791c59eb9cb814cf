import pytest

from mappers import UnmappableValue
from mappers.observation import RESOURCE
from mappers.simple_observation import to_fhir

CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
ECG = dict(
    uid="find-1",
    observed_at="2025-01-10T17:20:00Z",
    category="clinical test",
    loinc_code="8601-7",
    name="EKG impression",
    value_code="49436004",
    value_text="Atrial fibrillation",
    provider_id=1,
    note="Rate controlled, 74/min.",
)


def test_ecg_interpretation_is_a_procedure_clinical_result(chart_row, ctx, validate, assert_searchable):
    ctx["links"] = {"encounter_id": "enc-5"}
    observation = validate(to_fhir(chart_row("clinical_findings", **ECG), ctx))

    assert observation == {
        "resourceType": "Observation",
        "id": "find-1",
        # US Core's own EKG impression example (Observation-ekg-impression) is a clinical result in category
        # procedure; the simple observation profile allows the same category.
        "meta": {"profile": [CORE + "us-core-simple-observation", CORE + "us-core-observation-clinical-result"]},
        "status": "final",
        "category": [{"coding": [{"system": OBS_CATEGORY, "code": "procedure", "display": "Procedure"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "8601-7"}], "text": "EKG impression"},
        "subject": {"reference": "Patient/pat-7f3a"},
        "encounter": {"reference": "Encounter/enc-5"},
        "effectiveDateTime": "2025-01-10T17:20:00Z",
        "performer": [{"reference": "Practitioner/prac-9d0e"}],
        "valueCodeableConcept": {
            "coding": [{"system": "http://snomed.info/sct", "code": "49436004", "display": "Atrial fibrillation"}],
            "text": "Atrial fibrillation",
        },
        "note": [{"text": "Rate controlled, 74/min."}],
    }
    assert_searchable(observation, RESOURCE)


def test_functional_status_is_simple_only_with_a_quantity(chart_row, ctx, validate):
    row = chart_row(
        "clinical_findings",
        uid="find-2",
        observed_at="2025-01-10T17:20:00Z",
        category="functional status",
        snomed_code="129006008",
        name="Walking",
        value_num=6500,
        unit="/d",
    )
    observation = validate(to_fhir(row, ctx))
    assert observation["meta"] == {"profile": [CORE + "us-core-simple-observation"]}
    assert observation["category"] == [
        {
            "coding": [
                {
                    "system": "http://hl7.org/fhir/us/core/CodeSystem/us-core-category",
                    "code": "functional-status",
                    "display": "Functional Status",
                }
            ]
        }
    ]
    assert observation["code"] == {
        "coding": [{"system": "http://snomed.info/sct", "code": "129006008"}],
        "text": "Walking",
    }
    assert observation["valueQuantity"] == {
        "value": 6500,
        "unit": "/d",
        "system": "http://unitsofmeasure.org",
        "code": "/d",
    }


def test_a_finding_without_a_value_says_why(chart_row, ctx, validate):
    row = chart_row("clinical_findings", uid="find-3", observed_at="2025-01-10", category="exam", name="Foot exam")
    observation = validate(to_fhir(row, ctx))
    assert observation["dataAbsentReason"] == {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
                "code": "unknown",
                "display": "Unknown",
            }
        ]
    }
    assert observation["code"] == {"text": "Foot exam"}


def test_an_unknown_category_is_refused(chart_row, ctx):
    row = chart_row("clinical_findings", uid="find-4", observed_at="2025-01-10", category="gossip", name="x")
    with pytest.raises(UnmappableValue, match="Observation.category"):
        to_fhir(row, ctx)


def test_observation_is_also_projected_from_clinical_findings():
    assert "clinical_findings" in RESOURCE.tables
    assert CORE + "us-core-simple-observation" in RESOURCE.profiles
