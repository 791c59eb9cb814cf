"""Chart ``screenings`` and ``screening_answers`` rows -> US Core screening assessment Observations.

Not a registered type of its own: mappers.observation lists both tables as further ``Source``s of
Observation, and mappers.questionnaire_response maps the same ``screenings`` row to the
QuestionnaireResponse the Observations are ``derivedFrom``. As US Core 6.1.0's PHQ-9 and PRAPARE examples
do, the administration is a panel Observation (the instrument's LOINC code) whose ``hasMember`` are one
Observation per answer, and a total score is one more answer (its own LOINC code).
"""

from dataclasses import dataclass

from . import codes
from ._common import (
    US_CORE_PROFILE,
    codeable,
    coding,
    compact,
    encounter_reference,
    lookup,
    meta,
    notes,
    number,
    quantity,
    reference,
)

PROFILE = US_CORE_PROFILE + "us-core-observation-screening-assessment"


@dataclass(frozen=True)
class Instrument:
    """A screening instrument: its LOINC panel display, short name, total score code and US Core category."""

    display: str
    short: str
    score_loinc: str = ""
    category: str = ""  # a us-core-category code (us-core-screening-assessment-observation-category)


INSTRUMENTS = {
    "44249-1": Instrument("PHQ-9 quick depression assessment panel [Reported.PHQ]", "PHQ-9", "44261-6"),
    "55757-9": Instrument("Patient Health Questionnaire 2 item (PHQ-2) [Reported]", "PHQ-2", "55758-7"),
    "69737-5": Instrument("Generalized anxiety disorder 7 item (GAD-7)", "GAD-7", "70274-6"),
    "96777-8": Instrument(
        "Accountable health communities (AHC) health-related social needs screening (HRSN) tool",
        "AHC HRSN",
        category="sdoh",
    ),
    "93025-5": Instrument(
        "Protocol for Responding to and Assessing Patients' Assets, Risks, and Experiences [PRAPARE]",
        "PRAPARE",
        category="sdoh",
    ),
    "88121-9": Instrument("Hunger Vital Sign [HVS]", "Hunger Vital Sign", category="sdoh"),
}
US_CORE_CATEGORY_DISPLAY = {
    "sdoh": "SDOH",
    "functional-status": "Functional Status",
    "disability-status": "Disability Status",
    "cognitive-status": "Cognitive Status",
}
SCORE_UNIT = "{score}"


def instrument(screening):
    """The charted instrument: the catalog's entry, or one named only by the chart's own words."""
    found = INSTRUMENTS.get(screening["instrument_loinc"])
    if found:
        return found
    name = screening["instrument_name"] or screening["instrument_loinc"]
    return Instrument(name, name)


def categories(screening):
    """``survey`` (the profile's required slice), then the instrument's US Core category when it has one."""
    category = instrument(screening).category
    found = [codeable(coding(codes.OBSERVATION_CATEGORY, "survey", "Survey"))]
    if category:
        found.append(codeable(coding(codes.US_CORE_CATEGORY, category, US_CORE_CATEGORY_DISPLAY.get(category))))
    return found


def _common(screening, ctx):
    """The elements a panel and its answers share: status, category, subject, visit, time, performer, source."""
    status = lookup(codes.SCREENING_OBSERVATION_STATUS, screening["status"], "Observation.status")
    return {
        "status": status,
        "category": categories(screening),
        "subject": reference("Patient", ctx["patient"]),
        "encounter": encounter_reference(ctx),
        "effectiveDateTime": screening["administered_at"],
        "performer": [reference("Practitioner", ctx.get("provider"))],
    }


def panel_to_fhir(row, ctx):
    """Return the panel Observation of one ``screenings`` row: the instrument, with its answers as members."""
    found = instrument(row)
    members = [reference("Observation", answer["uid"]) for answer in ctx.get("answers", ())]
    # US Core us-core-2: a panel without members needs a value or a dataAbsentReason.
    absent = None if members else codeable(coding(codes.DATA_ABSENT_REASON, "not-asked", "Not Asked"))
    return compact(
        {
            "resourceType": "Observation",
            "id": row["uid"],
            "meta": meta(PROFILE),
            **_common(row, ctx),
            "code": codeable(coding(codes.LOINC, row["instrument_loinc"], found.display), text=found.display),
            "dataAbsentReason": absent,
            "note": notes(row["note"]),
            "hasMember": members,
            "derivedFrom": [reference("QuestionnaireResponse", row["uid"])],
        }
    )


def answer_to_fhir(row, ctx):
    """Return the Observation of one ``screening_answers`` row: the question and its answer."""
    screening = ctx["screening"]
    return compact(
        {
            "resourceType": "Observation",
            "id": row["uid"],
            "meta": meta(PROFILE),
            **_common(screening, ctx),
            "code": codeable(
                coding(codes.LOINC, row["question_loinc"], row["question_text"]), text=row["question_text"]
            ),
            **answer_value(row),
            "derivedFrom": [reference("QuestionnaireResponse", screening["uid"])],
        }
    )


def answer_value(row):
    """value[x] of an answer: a LOINC answer (LA code), a score or number, or text; else a dataAbsentReason."""
    if row["answer_code"]:
        answer = coding(codes.LOINC, row["answer_code"], row["answer_text"])
        return {"valueCodeableConcept": codeable(answer, text=row["answer_text"])}
    if row["answer_num"] is not None:
        unit = SCORE_UNIT if row["is_total_score"] else None
        return {"valueQuantity": quantity(row["answer_num"], unit) if unit else {"value": number(row["answer_num"])}}
    if row["answer_text"]:
        return {"valueString": row["answer_text"]}
    # US Core us-core-2 (no members): a question left unanswered carries why.
    return {"dataAbsentReason": codeable(coding(codes.DATA_ABSENT_REASON, "asked-unknown", "Asked But Unknown"))}
