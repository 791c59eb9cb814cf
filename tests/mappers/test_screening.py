"""Screening instruments as US Core 6.1.0 screening assessment Observations: the panel with its answers as
members, each answer with its LOINC question and LA answer, a total score, the SDOH category where the
instrument screens social needs, and the US Core 6.1.0 profile checker's verdict on each."""

import pytest

from gateway.store.projection import types_of
from mappers import REGISTRY
from mappers.screening import INSTRUMENTS, answer_to_fhir, panel_to_fhir
from tests.profiles.validator import US_CORE as PACKAGES
from tests.profiles.validator import Package, Validator

PROFILE = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-observation-screening-assessment"
LOINC = "http://loinc.org"
SURVEY = {
    "coding": [
        {"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "survey", "display": "Survey"}
    ]
}
SDOH = {
    "coding": [{"system": "http://hl7.org/fhir/us/core/CodeSystem/us-core-category", "code": "sdoh", "display": "SDOH"}]
}


@pytest.fixture(scope="module")
def us_core_6():
    return Validator(Package.load(PACKAGES / "6.1.0"))


def phq9(chart_row, **values):
    values = {"instrument_loinc": "44249-1", "administered_at": "2024-05-02T14:30:00Z", **values}
    return chart_row("screenings", uid="scr-1", provider_id=2, **values)


def answer(chart_row, **values):
    return chart_row("screening_answers", uid=values.pop("uid", "ans-1"), screening_id=1, **values)


def test_the_panel_lists_its_answers_and_comes_from_the_questionnaire_response(chart_row, ctx, validate, us_core_6):
    ctx["answers"] = [{"uid": "ans-1"}, {"uid": "ans-2"}]
    ctx["links"] = {"encounter_id": "enc-4"}
    resource = validate(panel_to_fhir(phq9(chart_row), ctx))
    display = "PHQ-9 quick depression assessment panel [Reported.PHQ]"
    assert resource == {
        "resourceType": "Observation",
        "id": "scr-1",
        "meta": {"profile": [PROFILE]},
        "status": "final",
        "category": [SURVEY],
        "subject": {"reference": "Patient/pat-7f3a"},
        "encounter": {"reference": "Encounter/enc-4"},
        "effectiveDateTime": "2024-05-02T14:30:00Z",
        "performer": [{"reference": "Practitioner/prac-9d0e"}],
        "code": {"coding": [{"system": LOINC, "code": "44249-1", "display": display}], "text": display},
        "hasMember": [{"reference": "Observation/ans-1"}, {"reference": "Observation/ans-2"}],
        "derivedFrom": [{"reference": "QuestionnaireResponse/scr-1"}],
    }
    assert us_core_6.validate(resource, PROFILE) == []


def test_a_panel_without_answers_says_they_were_not_asked(chart_row, ctx, validate, us_core_6):
    resource = validate(panel_to_fhir(phq9(chart_row, status="in-progress"), ctx))
    assert resource["status"] == "preliminary"
    assert "hasMember" not in resource
    assert resource["dataAbsentReason"] == {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
                "code": "not-asked",
                "display": "Not Asked",
            }
        ]
    }
    assert us_core_6.validate(resource, PROFILE) == []


def test_a_coded_answer_is_its_loinc_question_and_la_answer(chart_row, ctx, validate, us_core_6):
    ctx["screening"] = phq9(chart_row)
    row = answer(
        chart_row,
        question_loinc="44250-9",
        question_text="Little interest or pleasure in doing things?",
        answer_code="LA6570-1",
        answer_text="More than half the days",
    )
    resource = validate(answer_to_fhir(row, ctx))
    assert resource == {
        "resourceType": "Observation",
        "id": "ans-1",
        "meta": {"profile": [PROFILE]},
        "status": "final",
        "category": [SURVEY],
        "subject": {"reference": "Patient/pat-7f3a"},
        "effectiveDateTime": "2024-05-02T14:30:00Z",
        "performer": [{"reference": "Practitioner/prac-9d0e"}],
        "code": {
            "coding": [{"system": LOINC, "code": "44250-9", "display": "Little interest or pleasure in doing things?"}],
            "text": "Little interest or pleasure in doing things?",
        },
        "valueCodeableConcept": {
            "coding": [{"system": LOINC, "code": "LA6570-1", "display": "More than half the days"}],
            "text": "More than half the days",
        },
        "derivedFrom": [{"reference": "QuestionnaireResponse/scr-1"}],
    }
    assert us_core_6.validate(resource, PROFILE) == []


def test_the_total_score_is_a_ucum_score_quantity(chart_row, ctx, validate, us_core_6):
    ctx["screening"] = phq9(chart_row)
    row = answer(
        chart_row, question_loinc="44261-6", question_text="PHQ-9 total score", answer_num=12, is_total_score=1
    )
    resource = validate(answer_to_fhir(row, ctx))
    assert resource["valueQuantity"] == {
        "value": 12,
        "unit": "{score}",
        "system": "http://unitsofmeasure.org",
        "code": "{score}",
    }
    assert INSTRUMENTS["44249-1"].score_loinc == "44261-6"
    assert us_core_6.validate(resource, PROFILE) == []


def test_a_social_needs_answer_is_also_sdoh(chart_row, ctx, validate, us_core_6):
    ctx["screening"] = chart_row(
        "screenings", uid="scr-2", instrument_loinc="96777-8", administered_at="2024-05-02T14:30:00Z"
    )
    row = answer(
        chart_row,
        question_loinc="88122-7",
        question_text="Within the past 12 months, you worried that your food would run out",
        answer_code="LA28397-0",
        answer_text="Often true",
    )
    resource = validate(answer_to_fhir(row, ctx))
    assert resource["category"] == [SURVEY, SDOH]
    assert resource["derivedFrom"] == [{"reference": "QuestionnaireResponse/scr-2"}]
    assert us_core_6.validate(resource, PROFILE) == []


@pytest.mark.parametrize(
    ("values", "value"),
    [
        ({"answer_text": "Lives with her sister"}, {"valueString": "Lives with her sister"}),
        ({"answer_num": 3.5}, {"valueQuantity": {"value": 3.5}}),
        (
            {},
            {
                "dataAbsentReason": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
                            "code": "asked-unknown",
                            "display": "Asked But Unknown",
                        }
                    ]
                }
            },
        ),
    ],
)
def test_text_numbers_and_unanswered_questions(chart_row, ctx, validate, us_core_6, values, value):
    ctx["screening"] = phq9(chart_row)
    resource = validate(answer_to_fhir(answer(chart_row, question_loinc="x-1", question_text="Q", **values), ctx))
    assert {k: resource[k] for k in value} == value
    assert us_core_6.validate(resource, PROFILE) == []


def test_an_instrument_outside_the_catalog_keeps_the_chart_name(chart_row, ctx, validate):
    row = chart_row(
        "screenings",
        uid="scr-3",
        instrument_loinc="89204-2",
        instrument_name="Patient-Reported Outcomes Measurement Information System",
        administered_at="2024-05-02",
    )
    resource = validate(panel_to_fhir(row, ctx))
    assert resource["code"]["text"] == "Patient-Reported Outcomes Measurement Information System"
    assert resource["category"] == [SURVEY]


def test_screenings_project_to_a_questionnaire_response_and_observations():
    assert [rt.name for rt in types_of("screenings")] == ["Observation", "QuestionnaireResponse"]
    assert [rt.name for rt in types_of("screening_answers")] == ["Observation"]
    assert PROFILE in REGISTRY["Observation"].profiles
