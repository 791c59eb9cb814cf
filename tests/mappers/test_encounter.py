import pytest

from mappers import UnmappableValue
from mappers.encounter import RESOURCE, to_fhir

STAY = dict(
    uid="enc-1",
    provider_id=2,
    appointment_id=4,
    visit_number="V000123",
    class_code="IMP",
    type_system="snomed",
    type_code="32485007",
    type_text="Hospital admission",
    status="finished",
    start_at="2025-02-01T14:00:00Z",
    end_at="2025-02-04T14:00:00Z",
    reason_icd10="I4891",
    reason_text="Atrial fibrillation",
    reason_diagnosis_id=7,
    location="Mercy General, cardiac unit",
    discharge_disposition="01",
)
LINKS = {"appointment_id": "appt-4", "reason_diagnosis_id": "cond-7"}
STAY_PERIOD = {"start": "2025-02-01T14:00:00Z", "end": "2025-02-04T14:00:00Z"}


def test_a_hospital_stay_carries_every_must_support(chart_row, ctx, validate, assert_searchable):
    encounter = validate(to_fhir(chart_row("encounters", **STAY), {**ctx, "links": LINKS}))

    assert encounter == {
        "resourceType": "Encounter",
        "id": "enc-1",
        "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-encounter"]},
        "identifier": [
            {
                "use": "usual",
                "type": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                            "code": "VN",
                            "display": "Visit number",
                        }
                    ]
                },
                "system": "urn:oid:2.16.840.1.113883.3.4242.1.1",
                "value": "V000123",
            }
        ],
        "status": "finished",
        "class": {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
            "code": "IMP",
            "display": "inpatient encounter",
        },
        "type": [{"coding": [{"system": "http://snomed.info/sct", "code": "32485007"}], "text": "Hospital admission"}],
        "subject": {"reference": "Patient/pat-7f3a"},
        "participant": [
            {
                "type": [
                    {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                "code": "PPRF",
                                "display": "primary performer",
                            }
                        ]
                    }
                ],
                "period": STAY_PERIOD,
                "individual": {"reference": "Practitioner/prac-9d0e"},
            }
        ],
        "appointment": [{"reference": "Appointment/appt-4"}],
        "period": STAY_PERIOD,
        "reasonCode": [
            {
                "coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "I48.91"}],
                "text": "Atrial fibrillation",
            }
        ],
        "reasonReference": [{"reference": "Condition/cond-7"}],
        "hospitalization": {
            "dischargeDisposition": {
                "coding": [
                    {
                        "system": "http://www.nubc.org/patient-discharge",
                        "code": "01",
                        "display": "Discharged to home or self care (routine discharge)",
                    }
                ],
                "text": "Discharged to home or self care (routine discharge)",
            }
        },
        "location": [{"location": {"type": "Location", "display": "Mercy General, cardiac unit"}}],
        "serviceProvider": {"reference": "Organization/org-11c2"},
    }
    # location is a display-only reference until Location is served, so Encounter?location matches nothing.
    assert_searchable(encounter, RESOURCE, unindexed=("location",))


def test_an_uncoded_clinic_visit_keeps_its_one_required_type(chart_row, ctx, validate):
    row = chart_row("encounters", uid="enc-2", start_at="2025-03-01T16:00:00Z")
    encounter = validate(to_fhir(row, {**ctx, "provider": None}))

    assert encounter["class"]["code"] == "AMB"
    assert encounter["status"] == "finished"
    assert encounter["type"] == [{"text": "Visit"}]
    assert encounter["period"] == {"start": "2025-03-01T16:00:00Z"}
    assert "participant" not in encounter and "hospitalization" not in encounter and "identifier" not in encounter


@pytest.mark.parametrize(
    ("column", "value", "element"), [("class_code", "OUTPT", "Encounter.class"), ("status", "done", "Encounter.status")]
)
def test_unknown_class_or_status_is_refused_by_name(chart_row, ctx, column, value, element):
    with pytest.raises(UnmappableValue, match=element):
        to_fhir(chart_row("encounters", uid="enc-3", **{column: value}), ctx)


@pytest.mark.parametrize(
    ("module", "table", "row"),
    [
        ("condition", "diagnoses", dict(uid="c", description="Otitis", category="encounter-diagnosis")),
        ("medication_request", "medications", dict(uid="m", name="Amoxicillin", rxnorm_code="308182")),
        ("procedure", "procedures", dict(uid="p", code_system="cpt", code="69210", description="Ear wax removal")),
    ],
)
def test_rows_charted_at_a_visit_reference_it(chart_row, ctx, validate, module, table, row):
    mapper = __import__(f"mappers.{module}", fromlist=["to_fhir"])
    resource = validate(
        mapper.to_fhir(chart_row(table, encounter_id=5, **row), {**ctx, "links": {"encounter_id": "enc-5"}})
    )
    assert resource["encounter"] == {"reference": "Encounter/enc-5"}
