"""Chart ``screenings`` row (one administration of a screening instrument) -> US Core QuestionnaireResponse.

The answers are the administration's ``screening_answers`` rows (``ctx["answers"]``, in position order); the
same rows are served one Observation each (mappers.screening), ``derivedFrom`` this response.
"""

from . import codes
from ._common import (
    US_CORE_PROFILE,
    ResourceType,
    Words,
    coding,
    compact,
    lookup,
    meta,
    number,
    reference,
    subject_params,
    us_core_param,
)
from .screening import instrument

PROFILE = US_CORE_PROFILE + "us-core-questionnaireresponse"


def to_fhir(row, ctx):
    """Return the QuestionnaireResponse for one ``screenings`` row and its answers."""
    found = instrument(row)
    return compact(
        {
            "resourceType": "QuestionnaireResponse",
            "id": row["uid"],
            "meta": meta(PROFILE),
            "questionnaire": codes.LOINC_QUESTIONNAIRE + row["instrument_loinc"],
            # us-core-questionnaireresponse: questionnaire.extension:questionnaireDisplay (must support) names it
            # for a client that cannot resolve the canonical.
            "_questionnaire": {"extension": [{"url": codes.EXT_DISPLAY, "valueString": found.display}]},
            "status": lookup(codes.SCREENING_STATUS, row["status"], "QuestionnaireResponse.status"),
            "subject": reference("Patient", ctx["patient"]),
            "encounter": reference("Encounter", ctx.get("links", {}).get("encounter_id")),
            "authored": row["administered_at"],
            "author": reference("Practitioner", ctx.get("provider")),
            "item": [item(answer) for answer in ctx.get("answers", ())],
        }
    )


def item(answer):
    """One question and its answer; the linkId is the question's LOINC code, as LOINC's own forms name items."""
    return {
        "linkId": "/" + answer["question_loinc"],
        "text": answer["question_text"],
        "answer": [answer_value(answer)],
    }


def answer_value(answer):
    """answer.value[x]: the LOINC answer as a Coding, a number, or text (None when unanswered)."""
    if answer["answer_code"]:
        return {"valueCoding": coding(codes.LOINC, answer["answer_code"], answer["answer_text"])}
    value = number(answer["answer_num"])
    if isinstance(value, int):
        return {"valueInteger": value}
    if value is not None:
        return {"valueDecimal": value}
    return {"valueString": answer["answer_text"]} if answer["answer_text"] else None


RESOURCE = ResourceType(
    name="QuestionnaireResponse",
    table="screenings",
    to_fhir=to_fhir,
    profiles=(PROFILE,),
    search_params=(
        *subject_params("QuestionnaireResponse"),
        us_core_param("QuestionnaireResponse", "status", "token", "status"),
        us_core_param("QuestionnaireResponse", "authored", "date", "authored"),
        us_core_param(
            "QuestionnaireResponse",
            "questionnaire",
            "reference",
            "questionnaire",
            targets=("Questionnaire",),
            canonical=True,
        ),
    ),
    words=Words("Questionnaires", "your answers to screening questionnaires"),
    care_date="authored",
    # Shown in the Screenings section, which Observation's screening source declares (with the answers' category).
)
