from mappers.organization import RESOURCE, to_fhir

FULL = dict(
    uid="org-11c2",
    name="Sunrise Family Health",
    npi="1518273645",
    phone="(916) 555-0100",
    email="frontdesk@sunrise.example.org",
    address_line="1200 J St, Suite 300",
    city="Sacramento",
    state="CA",
    postal_code="95814",
    mrn_system="urn:oid:2.16.840.1.113883.3.9999.1",
    updated_at="2024-01-01T00:00:00Z",
)


def test_full_row(chart_row, validate, assert_searchable):
    org = validate(to_fhir(chart_row("practices", **FULL), {"organization": "org-11c2"}))

    assert org["id"] == "org-11c2"
    assert org["meta"]["profile"] == ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-organization"]
    assert org["identifier"] == [{"system": "http://hl7.org/fhir/sid/us-npi", "value": "1518273645"}]
    assert org["active"] is True
    assert org["name"] == "Sunrise Family Health"
    assert org["telecom"] == [
        {"system": "phone", "value": "(916) 555-0100", "use": "work"},
        {"system": "email", "value": "frontdesk@sunrise.example.org", "use": "work"},
    ]
    assert org["address"] == [
        {
            "use": "work",
            "line": ["1200 J St, Suite 300"],
            "city": "Sacramento",
            "state": "CA",
            "postalCode": "95814",
            "country": "US",
        }
    ]
    assert_searchable(org, RESOURCE)


def test_sparse_row(chart_row, validate):
    org = validate(to_fhir(chart_row("practices", uid="org-2", name="Solo Practice", mrn_system="urn:x"), {}))
    assert org == {
        "resourceType": "Organization",
        "id": "org-2",
        "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-organization"]},
        "active": True,
        "name": "Solo Practice",
    }


def test_mrn_system_is_not_disclosed_as_an_identifier(chart_row):
    org = to_fhir(chart_row("practices", **FULL), {})
    assert "urn:oid:2.16.840.1.113883.3.9999.1" not in str(org)
