from mappers.location import RESOURCE, to_fhir

SITE = dict(
    uid="loc-1",
    name="Sunrise Family Medicine - Midtown",
    status="active",
    site_type_code="FMC",
    site_type="Family medicine clinic",
    phone="(916) 555-0190",
    email="midtown@sunrisefamily.example.org",
    address_line="2600 Capitol Ave",
    city="Sacramento",
    state="CA",
    postal_code="95816",
)


def test_full_site(chart_row, ctx, validate, assert_searchable):
    location = validate(to_fhir(chart_row("locations", **SITE), {**ctx, "patient": None}))

    assert location == {
        "resourceType": "Location",
        "id": "loc-1",
        "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-location"]},
        "status": "active",
        "name": "Sunrise Family Medicine - Midtown",
        "mode": "instance",
        "type": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
                        "code": "FMC",
                        "display": "Family medicine clinic",
                    }
                ],
                "text": "Family medicine clinic",
            }
        ],
        "telecom": [
            {"system": "phone", "value": "(916) 555-0190", "use": "work"},
            {"system": "email", "value": "midtown@sunrisefamily.example.org", "use": "work"},
        ],
        "address": {
            "use": "work",
            "type": "physical",
            "line": ["2600 Capitol Ave"],
            "city": "Sacramento",
            "state": "CA",
            "postalCode": "95816",
            "country": "US",
        },
        "managingOrganization": {"reference": "Organization/org-11c2"},
    }
    assert_searchable(location, RESOURCE)


def test_closed_site_with_a_name_only(chart_row, validate):
    location = validate(
        to_fhir(chart_row("locations", uid="loc-2", name="Old annex", status="closed"), {"organization": "org-1"})
    )
    assert location == {
        "resourceType": "Location",
        "id": "loc-2",
        "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-location"]},
        "status": "inactive",
        "name": "Old annex",
        "mode": "instance",
        "managingOrganization": {"reference": "Organization/org-1"},
    }
