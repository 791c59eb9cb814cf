import pytest

import mappers
from mappers import REGISTRY, UnknownResourceType, get

TYPES = list(REGISTRY.values())
PARAMS = [(rt, param) for rt in TYPES for param in rt.search_params]
SEARCH_TYPES = {"token", "date", "string", "reference"}
CHART_TABLES = {"practices", "providers", "patients", "diagnoses", "medications", "allergies", "immunizations",
                "procedures", "care_plans", "lab_results", "lab_observations", "appointments"}


def test_patient_comes_first_and_every_type_is_registered():
    assert list(REGISTRY) == [
        "Patient", "Organization", "Practitioner", "Condition", "MedicationRequest", "MedicationStatement",
        "AllergyIntolerance", "Immunization", "Procedure", "CarePlan", "Observation", "DiagnosticReport",
        "Appointment",
    ]


def test_every_chart_table_is_projected():
    assert {rt.table for rt in TYPES} == CHART_TABLES


@pytest.mark.parametrize("rt", TYPES, ids=lambda rt: rt.name)
def test_every_type_has_profiles_and_a_patient_link(rt):
    assert rt.profiles
    assert all(url.startswith("http://hl7.org/fhir/") and "/StructureDefinition/" in url for url in rt.profiles)
    names = [param.name for param in rt.search_params]
    assert len(names) == len(set(names)), f"duplicate search parameter names on {rt.name}"
    if rt.compartment and rt.name != "Patient":
        assert "patient" in names


@pytest.mark.parametrize("rt, param", PARAMS, ids=lambda x: getattr(x, "name", ""))
def test_search_params_are_well_formed(rt, param):
    assert param.type in SEARCH_TYPES
    assert param.definition.startswith(("http://hl7.org/fhir/us/core/SearchParameter/us-core-",
                                        "http://hl7.org/fhir/SearchParameter/"))
    assert param.paths and all(path and " " not in path for path in param.paths)
    assert not param.targets or param.type == "reference"
    assert set(param.targets) <= set(REGISTRY)


@pytest.mark.parametrize("rt", TYPES, ids=lambda rt: rt.name)
def test_includes_name_reference_params(rt):
    references = {param.name for param in rt.search_params if param.type == "reference"}
    for include in rt.includes:
        source, name = include.split(":")
        assert source == rt.name and name in references


def test_only_directory_resources_are_outside_the_patient_compartment():
    assert {rt.name for rt in TYPES if not rt.compartment} == {"Organization", "Practitioner"}


def test_get():
    assert get("Condition") is mappers.condition.RESOURCE
    with pytest.raises(UnknownResourceType):
        get("Encounter")
    with pytest.raises(KeyError):  # UnknownResourceType is a KeyError for callers that expect one
        get("patient")
