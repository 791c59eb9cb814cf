import pytest

from mappers import UnmappableValue
from mappers.specimen import RESOURCE, to_fhir

SERUM = dict(
    uid="spec-1",
    accession_number="A25-000123",
    type_code="119364003",
    type_text="Serum specimen",
    collected_at="2025-03-01T16:30:00Z",
    received_at="2025-03-01T18:05:00Z",
    body_site_code="368208006",
    body_site_text="Left upper arm",
    condition="room",
)


def test_a_serum_specimen_carries_every_must_support(chart_row, ctx, validate, assert_searchable):
    specimen = validate(to_fhir(chart_row("specimens", **SERUM), ctx))

    assert specimen == {
        "resourceType": "Specimen",
        "id": "spec-1",
        "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-specimen"]},
        "accessionIdentifier": {
            "type": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                        "code": "ACSN",
                        "display": "Accession ID",
                    }
                ]
            },
            "system": "urn:oid:2.16.840.1.113883.3.4242.1.3",
            "value": "A25-000123",
        },
        "type": {"coding": [{"system": "http://snomed.info/sct", "code": "119364003"}], "text": "Serum specimen"},
        "subject": {"reference": "Patient/pat-7f3a"},
        "receivedTime": "2025-03-01T18:05:00Z",
        "collection": {
            "collectedDateTime": "2025-03-01T16:30:00Z",
            "bodySite": {
                "coding": [{"system": "http://snomed.info/sct", "code": "368208006"}],
                "text": "Left upper arm",
            },
        },
        "condition": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v2-0493",
                        "code": "ROOM",
                        "display": "Room temperature",
                    }
                ]
            }
        ],
    }
    assert_searchable(specimen, RESOURCE)


def test_an_uncoded_specimen_keeps_its_type_text(chart_row, ctx, validate):
    row = chart_row("specimens", uid="spec-2", type_text="Swab")

    assert validate(to_fhir(row, ctx)) == {
        "resourceType": "Specimen",
        "id": "spec-2",
        "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-specimen"]},
        "type": {"text": "Swab"},
        "subject": {"reference": "Patient/pat-7f3a"},
    }


def test_an_unknown_condition_is_refused(chart_row, ctx):
    with pytest.raises(UnmappableValue) as raised:
        to_fhir(chart_row("specimens", **{**SERUM, "condition": "warm"}), ctx)
    assert str(raised.value) == "Specimen.condition: no FHIR code for chart value 'warm'"
