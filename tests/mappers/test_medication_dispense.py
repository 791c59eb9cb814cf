import pytest

from mappers import UnmappableValue
from mappers.medication_dispense import RESOURCE, to_fhir

FILL = dict(
    uid="disp-1",
    medication_id=4,
    status="filled",
    fill_type="refill",
    quantity=90.0,
    quantity_unit="tablet",
    days_supply=90,
    handed_over_at="2024-05-02T17:30:00Z",
    pharmacy_name="Capitol Pharmacy",
)
PRESCRIPTION = dict(
    uid="medreq-4",
    rxnorm_code="860975",
    name="Metformin ER 500 mg tablet",
    sig="Take 1 tablet by mouth daily with dinner",
    dose_value=1.0,
    dose_unit="tablet",
    route="oral",
    source="prescribed",
    status="active",
)


def test_full_fill(chart_row, ctx, validate, assert_searchable):
    ctx["prescription"] = chart_row("medications", **PRESCRIPTION)
    dispense = validate(to_fhir(chart_row("dispenses", **FILL), ctx))

    assert dispense == {
        "resourceType": "MedicationDispense",
        "id": "disp-1",
        "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-medicationdispense"]},
        "status": "completed",
        "medicationCodeableConcept": {
            "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "860975"}],
            "text": "Metformin ER 500 mg tablet",
        },
        "subject": {"reference": "Patient/pat-7f3a"},
        "performer": [{"actor": {"type": "Organization", "display": "Capitol Pharmacy"}}],
        "authorizingPrescription": [{"reference": "MedicationRequest/medreq-4"}],
        "type": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "RF", "display": "Refill"}
            ],
            "text": "refill",
        },
        "quantity": {"value": 90, "unit": "tablet"},
        "daysSupply": {"value": 90, "unit": "day", "system": "http://unitsofmeasure.org", "code": "d"},
        "whenHandedOver": "2024-05-02T17:30:00Z",
        "dosageInstruction": [
            {
                "text": "Take 1 tablet by mouth daily with dinner",
                "route": {
                    "coding": [{"system": "http://snomed.info/sct", "code": "26643006", "display": "Oral route"}],
                    "text": "oral",
                },
                "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "tablet"}}],
            }
        ],
    }
    assert_searchable(dispense, RESOURCE, unindexed=("medication",))


def test_sparse_fill_in_preparation(chart_row, ctx, validate):
    ctx["prescription"] = chart_row("medications", uid="medreq-5", rxnorm_code="314076", name="Lisinopril 10 mg")
    dispense = validate(to_fhir(chart_row("dispenses", uid="disp-2", medication_id=5, status="preparing"), ctx))
    assert sorted(dispense) == [
        "authorizingPrescription",
        "id",
        "medicationCodeableConcept",
        "meta",
        "resourceType",
        "status",
        "subject",
    ]
    assert dispense["status"] == "preparation"


def test_unknown_status_is_unmappable(chart_row, ctx):
    ctx["prescription"] = chart_row("medications", **PRESCRIPTION)
    with pytest.raises(UnmappableValue, match="MedicationDispense.status"):
        to_fhir(chart_row("dispenses", **{**FILL, "status": "lost"}), ctx)
