from mappers.practitioner_role import RESOURCE, to_fhir

ROLE = dict(
    uid="role-1",
    provider_id=2,
    location_id=1,
    role_code="446050000",
    role_name="Primary care physician",
    specialty_code="207Q00000X",
    specialty_name="Family Medicine",
    phone="(916) 555-0111",
    email="apatel@sunrisefamily.example.org",
    active=1,
)


def test_full_role(chart_row, ctx, validate, assert_searchable):
    role = validate(to_fhir(chart_row("provider_roles", **ROLE), {**ctx, "patient": None, "location": "loc-1"}))

    assert role == {
        "resourceType": "PractitionerRole",
        "id": "role-1",
        "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-practitionerrole"]},
        "active": True,
        "practitioner": {"reference": "Practitioner/prac-9d0e"},
        "organization": {"reference": "Organization/org-11c2"},
        "code": [
            {
                "coding": [
                    {"system": "http://snomed.info/sct", "code": "446050000", "display": "Primary care physician"}
                ],
                "text": "Primary care physician",
            }
        ],
        "specialty": [
            {
                "coding": [
                    {"system": "http://nucc.org/provider-taxonomy", "code": "207Q00000X", "display": "Family Medicine"}
                ],
                "text": "Family Medicine",
            }
        ],
        "location": [{"reference": "Location/loc-1"}],
        "telecom": [
            {"system": "phone", "value": "(916) 555-0111", "use": "work"},
            {"system": "email", "value": "apatel@sunrisefamily.example.org", "use": "work"},
        ],
    }
    assert_searchable(role, RESOURCE, unindexed=("endpoint",))


def test_inactive_role_without_a_site(chart_row, validate):
    row = chart_row("provider_roles", uid="role-2", phone="(510) 555-0183", active=0)
    role = validate(to_fhir(row, {"provider": "prac-1", "organization": "org-2"}))
    assert role == {
        "resourceType": "PractitionerRole",
        "id": "role-2",
        "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-practitionerrole"]},
        "active": False,
        "practitioner": {"reference": "Practitioner/prac-1"},
        "organization": {"reference": "Organization/org-2"},
        "telecom": [{"system": "phone", "value": "(510) 555-0183", "use": "work"}],
    }
