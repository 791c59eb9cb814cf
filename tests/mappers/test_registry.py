import pytest

import mappers
from mappers import REGISTRY, UnknownResourceType, get

TYPES = list(REGISTRY.values())
PARAMS = [(rt, param) for rt in TYPES for param in rt.search_params]
SEARCH_TYPES = {"token", "date", "string", "reference", "uri"}
PROJECTED_TABLES = {
    "questionnaires",
    "practices",
    "providers",
    "patients",
    "diagnoses",
    "medications",
    "allergies",
    "immunizations",
    "procedures",
    "care_plans",
    "lab_results",
    "lab_observations",
    "appointments",
    "encounters",
    "patient_contacts",
    "care_teams",
    "goals",
    "insurance_policies",
    "vital_signs",
    "orders",
    "specimens",
    "locations",
    "provider_roles",
    "implants",
    "dispenses",
    "social_history",
    "clinical_notes",
    "formulary",
    "clinical_findings",
    "screenings",
    "screening_answers",
}


def test_patient_comes_first_and_every_type_is_registered():
    assert list(REGISTRY) == [
        "Patient",
        "Organization",
        "Practitioner",
        "Location",
        "PractitionerRole",
        "Condition",
        "MedicationRequest",
        "MedicationStatement",
        "MedicationDispense",
        "Medication",
        "AllergyIntolerance",
        "Immunization",
        "Procedure",
        "Device",
        "CarePlan",
        "Observation",
        "QuestionnaireResponse",
        "Questionnaire",
        "DiagnosticReport",
        "DocumentReference",
        "ServiceRequest",
        "Specimen",
        "Encounter",
        "Appointment",
        "CareTeam",
        "RelatedPerson",
        "Goal",
        "Coverage",
    ]


def test_every_chart_table_is_projected():
    assert {table for rt in TYPES for table in rt.tables} == PROJECTED_TABLES


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
    assert param.definition.startswith(
        ("http://hl7.org/fhir/us/core/SearchParameter/us-core-", "http://hl7.org/fhir/SearchParameter/")
    )
    assert param.paths and all(path and " " not in path for path in param.paths)
    assert not param.targets or param.type == "reference"
    # Medication is never served (requests code it inline), yet MedicationRequest?medication=Medication/x is a
    # valid search that finds nothing, so that one target may name it; likewise Endpoint for PractitionerRole.
    unserved = {"medication": {"Medication"}, "endpoint": {"Endpoint"}}.get(param.name, set())
    assert set(param.targets) <= set(REGISTRY) | unserved


@pytest.mark.parametrize("rt", TYPES, ids=lambda rt: rt.name)
def test_includes_name_reference_params(rt):
    references = {param.name for param in rt.search_params if param.type == "reference"}
    for include in rt.includes:
        source, name = include.split(":")
        assert source == rt.name and name in references


def test_only_directory_resources_are_outside_the_patient_compartment():
    # Medication: the practice's formulary, reached through the prescriptions that reference it.
    assert {rt.name for rt in TYPES if not rt.compartment} == {
        "Medication",
        "Organization",
        "Practitioner",
        "Location",
        "PractitionerRole",
        "Questionnaire",
    }


def test_get():
    assert get("Condition") is mappers.condition.RESOURCE
    with pytest.raises(UnknownResourceType):
        get("NutritionOrder")
    with pytest.raises(KeyError):  # UnknownResourceType is a KeyError for callers that expect one
        get("patient")


@pytest.mark.parametrize("rt", TYPES, ids=lambda rt: rt.name)
def test_compartment_params_name_the_patient_of_compartment_types(rt):
    params = [param for param in rt.search_params if param.compartment]
    assert not params or (rt.compartment and rt.name != "Patient")
    patient = [param for param in params if param.name == "patient"]
    assert all(param.type == "reference" and param.targets == ("Patient",) for param in patient)
    if rt.compartment and rt.name != "Patient":
        assert "patient" in rt.compartment_params


def test_compartment_params_are_the_patient_subject_pair_or_patient_alone():
    found = {rt.name: rt.compartment_params for rt in TYPES if rt.compartment_params}
    assert found["Condition"] == ("patient", "subject")
    assert found["Immunization"] == found["AllergyIntolerance"] == found["Appointment"] == ("patient",)
    assert found["RelatedPerson"] == found["Coverage"] == ("patient",)
    assert found["Goal"] == found["CareTeam"] == ("patient", "subject")
    assert found["Device"] == ("patient",)
    assert found["MedicationDispense"] == ("patient", "subject")
    assert found["DocumentReference"] == ("patient", "subject")
    assert found["QuestionnaireResponse"] == ("patient", "subject")
    assert len(found) == 21


@pytest.mark.parametrize("rt", TYPES, ids=lambda rt: rt.name)
def test_every_type_has_plain_words(rt):
    assert rt.words.label and rt.words.label[0].isupper()
    assert rt.words.covers and rt.words.covers[0].islower()


@pytest.mark.parametrize("rt", [rt for rt in TYPES if rt.kinds], ids=lambda rt: rt.name)
def test_kinds_are_categories_the_type_is_searched_by(rt):
    # A consent narrowed to a kind becomes a ?category= scope filter, which search must be able to answer.
    assert "category" in [param.name for param in rt.search_params if param.type == "token"]
    assert len({(kind.system, kind.code) for kind in rt.kinds}) == len(rt.kinds)


@pytest.mark.parametrize("rt", [rt for rt in TYPES if rt.care_date], ids=lambda rt: rt.name)
def test_care_date_is_a_date_search_param(rt):
    assert rt.care_date in [param.name for param in rt.search_params if param.type == "date"]


def test_care_dates():
    assert {rt.name: rt.care_date for rt in TYPES if rt.care_date} == {
        "Condition": "onset-date",
        "MedicationRequest": "authoredon",
        "MedicationStatement": "effective",
        "Immunization": "date",
        "Procedure": "date",
        "CarePlan": "date",
        "QuestionnaireResponse": "authored",
        "Observation": "date",
        "DiagnosticReport": "date",
        "DocumentReference": "date",
        "ServiceRequest": "authored",
        "Specimen": "collected",
        "Encounter": "date",
        "Appointment": "date",
        "Goal": "target-date",
        "MedicationDispense": "whenhandedover",
    }


def test_record_sections_are_distinct_and_show_registered_types():
    sections = [rt.section for rt in TYPES if rt.section]
    assert [s.slug for s in sorted(sections, key=lambda s: s.order)] == [
        "diagnoses",
        "medications",
        "allergies",
        "immunizations",
        "procedures",
        "implants",
        "care-plans",
        "goals",
        "care-team",
        "lab-results",
        "vitals",
        "visits",
        "notes",
        "orders",
        "appointments",
        "insurance",
    ]
    assert len({s.order for s in sections}) == len(sections)
    assert all(t in REGISTRY for s in sections for t in s.also)
