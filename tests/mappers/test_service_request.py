import pytest

from mappers import UnmappableValue
from mappers.service_request import RESOURCE, to_fhir

LAB_ORDER = dict(
    uid="ord-1",
    provider_id=2,
    encounter_id=3,
    order_number="ORD000041",
    code_system="loinc",
    code="4548-4",
    description="Hemoglobin A1c",
    category="lab",
    status="completed",
    intent="order",
    priority="routine",
    ordered_at="2025-03-01T16:00:00Z",
    occurrence_at="2025-03-01T16:30:00Z",
    reason_icd10="E119",
    reason_text="Type 2 diabetes mellitus without complications",
)
PROFILE = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-servicerequest"


def test_a_lab_order_carries_every_must_support(chart_row, ctx, validate, assert_searchable):
    order = validate(to_fhir(chart_row("orders", **LAB_ORDER), {**ctx, "links": {"encounter_id": "enc-3"}}))

    assert order == {
        "resourceType": "ServiceRequest",
        "id": "ord-1",
        "meta": {"profile": [PROFILE]},
        "identifier": [
            {
                "use": "usual",
                "type": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                            "code": "PLAC",
                            "display": "Placer Identifier",
                        }
                    ]
                },
                "system": "urn:oid:2.16.840.1.113883.3.4242.1.2",
                "value": "ORD000041",
            }
        ],
        "status": "completed",
        "intent": "order",
        "category": [
            {"coding": [{"system": "http://snomed.info/sct", "code": "108252007", "display": "Laboratory procedure"}]}
        ],
        "priority": "routine",
        "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}], "text": "Hemoglobin A1c"},
        "subject": {"reference": "Patient/pat-7f3a"},
        "encounter": {"reference": "Encounter/enc-3"},
        "occurrenceDateTime": "2025-03-01T16:30:00Z",
        "authoredOn": "2025-03-01T16:00:00Z",
        "requester": {"reference": "Practitioner/prac-9d0e"},
        "reasonCode": [
            {
                "coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "E11.9"}],
                "text": "Type 2 diabetes mellitus without complications",
            }
        ],
    }
    assert_searchable(order, RESOURCE)


def test_a_referral_with_only_what_is_required(chart_row, ctx, validate):
    row = chart_row(
        "orders",
        uid="ord-2",
        code_system="snomed",
        code="467771000124109",
        description="Assistance with application for food pantry program",
        category="sdoh",
        status="active",
    )

    assert validate(to_fhir(row, {**ctx, "provider": None, "mrn_system": None})) == {
        "resourceType": "ServiceRequest",
        "id": "ord-2",
        "meta": {"profile": [PROFILE]},
        "status": "active",
        "intent": "order",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://hl7.org/fhir/us/core/CodeSystem/us-core-category",
                        "code": "sdoh",
                        "display": "SDOH",
                    }
                ]
            }
        ],
        "code": {
            "coding": [{"system": "http://snomed.info/sct", "code": "467771000124109"}],
            "text": "Assistance with application for food pantry program",
        },
        "subject": {"reference": "Patient/pat-7f3a"},
    }


@pytest.mark.parametrize(
    "column, value, message",
    [
        ("status", "sent", "ServiceRequest.status: no FHIR code for chart value 'sent'"),
        ("intent", "wish", "ServiceRequest.intent: no FHIR code for chart value 'wish'"),
        ("category", "misc", "ServiceRequest.category: no FHIR code for chart value 'misc'"),
        ("code_system", "local", "ServiceRequest.code: no FHIR code for chart value 'local'"),
    ],
)
def test_a_chart_value_without_a_fhir_code_is_refused(chart_row, ctx, column, value, message):
    with pytest.raises(UnmappableValue) as raised:
        to_fhir(chart_row("orders", **{**LAB_ORDER, column: value}), ctx)
    assert str(raised.value) == message


def test_an_unknown_priority_is_left_out(chart_row, ctx):
    assert "priority" not in to_fhir(chart_row("orders", **{**LAB_ORDER, "priority": "whenever"}), ctx)
