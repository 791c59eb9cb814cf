import pytest

from mappers import UnmappableValue
from mappers.related_person import RESOURCE, to_fhir

FULL = dict(
    uid="rp-1",
    first_name="Maria",
    last_name="Garcia",
    relationship_code="MTH",
    phone="(916) 555-0182",
    email="maria@example.org",
    address_line="2417 Alder Creek Way",
    city="Sacramento",
    state="CA",
    postal_code="95823",
    active=1,
)


def test_full_row(chart_row, ctx, validate, assert_searchable):
    person = validate(to_fhir(chart_row("patient_contacts", **FULL), ctx))

    assert person == {
        "resourceType": "RelatedPerson",
        "id": "rp-1",
        "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-relatedperson"]},
        "active": True,
        "patient": {"reference": "Patient/pat-7f3a"},
        "relationship": [
            {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode", "code": "MTH", "display": "mother"}
                ]
            }
        ],
        "name": [{"family": "Garcia", "given": ["Maria"]}],
        "telecom": [{"system": "phone", "value": "(916) 555-0182"}, {"system": "email", "value": "maria@example.org"}],
        "address": [
            {
                "line": ["2417 Alder Creek Way"],
                "city": "Sacramento",
                "state": "CA",
                "postalCode": "95823",
                "country": "US",
            }
        ],
    }
    assert_searchable(person, RESOURCE)


def test_inactive_contact_without_address(chart_row, ctx, validate):
    row = chart_row("patient_contacts", uid="rp-2", last_name="Begay", relationship_code="guard", active=0)
    person = validate(to_fhir(row, ctx))
    assert person["active"] is False
    assert person["relationship"][0]["coding"][0]["code"] == "GUARD"
    assert "address" not in person and "telecom" not in person


def test_unknown_relationship_is_refused(chart_row, ctx):
    row = chart_row("patient_contacts", uid="rp-3", last_name="X", relationship_code="cousin-ish")
    with pytest.raises(UnmappableValue, match="RelatedPerson.relationship"):
        to_fhir(row, ctx)
