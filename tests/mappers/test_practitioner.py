import pytest

from mappers.practitioner import RESOURCE, split_credentials, to_fhir

DAR = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
FULL = dict(
    uid="prac-9d0e",
    npi="1502938479",
    prefix="Dr.",
    first_name="Anita",
    last_name="Patel",
    credentials="MD, FACP",
    specialty_code="207Q00000X",
    specialty_name="Family Medicine",
    phone="(916) 555-0111",
    email="apatel@sunrise.example.org",
    updated_at="2024-01-01T00:00:00Z",
)


def test_full_row(chart_row, validate, assert_searchable):
    practitioner = validate(to_fhir(chart_row("providers", **FULL), {"organization": "org-11c2"}))

    assert practitioner["id"] == "prac-9d0e"
    assert practitioner["meta"]["profile"] == ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-practitioner"]
    assert practitioner["identifier"] == [{"system": "http://hl7.org/fhir/sid/us-npi", "value": "1502938479"}]
    assert practitioner["name"] == [
        {"use": "official", "family": "Patel", "given": ["Anita"], "prefix": ["Dr."], "suffix": ["MD", "FACP"]}
    ]
    assert practitioner["telecom"] == [
        {"system": "phone", "value": "(916) 555-0111", "use": "work"},
        {"system": "email", "value": "apatel@sunrise.example.org", "use": "work"},
    ]
    assert practitioner["qualification"] == [{"code": {"text": "MD"}}, {"code": {"text": "FACP"}}]
    assert_searchable(practitioner, RESOURCE)


def test_sparse_row_marks_the_required_npi_absent(chart_row, validate):
    practitioner = validate(to_fhir(chart_row("providers", uid="prac-2", first_name="Rosa", last_name="Delgado"), {}))

    assert practitioner["identifier"] == [
        {
            "system": "http://hl7.org/fhir/sid/us-npi",
            "_value": {"extension": [{"url": DAR, "valueCode": "unknown"}]},
        }
    ]
    assert practitioner["name"] == [{"use": "official", "family": "Delgado", "given": ["Rosa"]}]
    for absent in ("telecom", "qualification"):
        assert absent not in practitioner


@pytest.mark.parametrize(
    "credentials, suffixes",
    [
        ("MD", ["MD"]),
        ("FNP-C", ["FNP-C"]),
        ("MD, PhD", ["MD", "PhD"]),
        ("DO; FAAFP ", ["DO", "FAAFP"]),
        ("", []),
        (None, []),
    ],
)
def test_credentials_become_suffixes(credentials, suffixes):
    assert split_credentials(credentials) == suffixes
