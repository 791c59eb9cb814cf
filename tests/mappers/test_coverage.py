from mappers.coverage import RESOURCE, to_fhir

FULL = dict(
    uid="cov-1",
    payer_name="Blue Valley Health Plan",
    payer_id="60054",
    member_id="BVH123456789",
    group_number="GRP-4417",
    group_name="Sacramento County Employees",
    plan_code="PPO-500",
    plan_name="Blue Valley PPO 500",
    relationship="self",
    payment_type_code="521",
    payment_type_name="Commercial Managed Care - PPO",
    status="active",
    period_start="2024-01-01",
    period_end="2024-12-31",
)


def test_full_row(chart_row, ctx, validate, assert_searchable):
    coverage = validate(to_fhir(chart_row("insurance_policies", **FULL), ctx))

    assert coverage == {
        "resourceType": "Coverage",
        "id": "cov-1",
        "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-coverage"]},
        "identifier": [
            {
                "type": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                            "code": "MB",
                            "display": "Member Number",
                        }
                    ]
                },
                "value": "BVH123456789",
            }
        ],
        "status": "active",
        "type": {
            "coding": [
                {
                    "system": "urn:oid:2.16.840.1.113883.3.221.5",
                    "code": "521",
                    "display": "Commercial Managed Care - PPO",
                }
            ]
        },
        "subscriberId": "BVH123456789",
        "beneficiary": {"reference": "Patient/pat-7f3a"},
        "relationship": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/subscriber-relationship", "code": "self"}]
        },
        "period": {"start": "2024-01-01", "end": "2024-12-31"},
        "payor": [
            {
                "type": "Organization",
                "identifier": {"system": "urn:oid:2.16.840.1.113883.6.300", "value": "60054"},
                "display": "Blue Valley Health Plan",
            }
        ],
        "class": [
            {
                "type": {
                    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/coverage-class", "code": "group"}]
                },
                "value": "GRP-4417",
                "name": "Sacramento County Employees",
            },
            {
                "type": {
                    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/coverage-class", "code": "plan"}]
                },
                "value": "PPO-500",
                "name": "Blue Valley PPO 500",
            },
        ],
    }
    assert_searchable(coverage, RESOURCE)


def test_dependent_on_a_parents_policy(chart_row, ctx, validate):
    row = chart_row(
        "insurance_policies",
        uid="cov-2",
        payer_name="Medi-Cal",
        member_id="9876543210",
        subscriber_id="1234567890",
        relationship="child",
        payment_type_code="2",
        payment_type_name="MEDICAID",
    )
    coverage = validate(to_fhir(row, ctx))
    assert coverage["subscriberId"] == "1234567890"
    assert coverage["relationship"]["coding"][0]["code"] == "child"
    assert coverage["payor"] == [{"type": "Organization", "display": "Medi-Cal"}]
    assert "class" not in coverage and "period" not in coverage
