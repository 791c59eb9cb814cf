"""A screening administration as the US Core 6.1.0 QuestionnaireResponse: the LOINC form's canonical with its
display, one item per answer (LOINC question code as linkId), author, authored and subject, and the US Core
profile checker's verdict."""

import pytest

from mappers import REGISTRY
from mappers.questionnaire_response import to_fhir
from tests.mappers.conftest import assert_searchable
from tests.profiles.validator import US_CORE as PACKAGES
from tests.profiles.validator import Package, Validator

PROFILE = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-questionnaireresponse"
LOINC = "http://loinc.org"


def answers(chart_row):
    rows = [
        dict(
            question_loinc="44250-9",
            question_text="Little interest or pleasure in doing things?",
            answer_code="LA6570-1",
            answer_text="More than half the days",
        ),
        dict(question_loinc="44261-6", question_text="PHQ-9 total score", answer_num=12, is_total_score=1),
        dict(question_loinc="x-1", question_text="Comments", answer_text="Sleeping badly"),
        dict(question_loinc="x-2", question_text="Weight", answer_num=61.5),
        dict(question_loinc="x-3", question_text="Skipped"),
    ]
    return [chart_row("screening_answers", uid=f"ans-{i}", **row) for i, row in enumerate(rows)]


def test_the_administration_is_a_questionnaire_response(chart_row, ctx, validate):
    row = chart_row(
        "screenings", uid="scr-1", provider_id=2, instrument_loinc="44249-1", administered_at="2024-05-02T14:30:00Z"
    )
    ctx["answers"] = answers(chart_row)
    ctx["links"] = {"encounter_id": "enc-4"}
    resource = validate(to_fhir(row, ctx))
    assert resource == {
        "resourceType": "QuestionnaireResponse",
        "id": "scr-1",
        "meta": {"profile": [PROFILE]},
        "questionnaire": "http://loinc.org/q/44249-1",
        "_questionnaire": {
            "extension": [
                {
                    "url": "http://hl7.org/fhir/StructureDefinition/display",
                    "valueString": "PHQ-9 quick depression assessment panel [Reported.PHQ]",
                }
            ]
        },
        "status": "completed",
        "subject": {"reference": "Patient/pat-7f3a"},
        "encounter": {"reference": "Encounter/enc-4"},
        "authored": "2024-05-02T14:30:00Z",
        "author": {"reference": "Practitioner/prac-9d0e"},
        "item": [
            {
                "linkId": "/44250-9",
                "text": "Little interest or pleasure in doing things?",
                "answer": [
                    {"valueCoding": {"system": LOINC, "code": "LA6570-1", "display": "More than half the days"}}
                ],
            },
            {"linkId": "/44261-6", "text": "PHQ-9 total score", "answer": [{"valueInteger": 12}]},
            {"linkId": "/x-1", "text": "Comments", "answer": [{"valueString": "Sleeping badly"}]},
            {"linkId": "/x-2", "text": "Weight", "answer": [{"valueDecimal": 61.5}]},
            {"linkId": "/x-3", "text": "Skipped"},
        ],
    }
    assert Validator(Package.load(PACKAGES / "6.1.0")).validate(resource, PROFILE) == []
    assert_searchable(resource, REGISTRY["QuestionnaireResponse"], unindexed=("patient", "subject", "questionnaire"))


@pytest.mark.parametrize(
    ("chart", "fhir"),
    [("completed", "completed"), ("in-progress", "in-progress"), ("amended", "amended"), ("stopped", "stopped")],
)
def test_status(chart_row, ctx, validate, chart, fhir):
    row = chart_row("screenings", uid="s", instrument_loinc="88121-9", administered_at="2024-05-02", status=chart)
    assert validate(to_fhir(row, ctx))["status"] == fhir


def test_a_status_fhir_has_no_code_for_is_refused(chart_row, ctx):
    from mappers import UnmappableValue

    row = chart_row("screenings", uid="s", instrument_loinc="88121-9", administered_at="2024-05-02", status="paused")
    with pytest.raises(UnmappableValue, match="QuestionnaireResponse.status: no FHIR code for chart value 'paused'"):
        to_fhir(row, ctx)
