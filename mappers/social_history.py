"""Chart ``social_history`` row (the EHR's social history form) -> US Core social-history Observation.

Not a registered type of its own: mappers.observation lists it as a further ``Source`` of Observation.
Each ``kind`` of question is one US Core 6.1.0 profile, whose fixed LOINC code is below as its
StructureDefinition fixes it: smoking status (72166-2, also US Core 3.1.1's us-core-smokingstatus),
pregnancy status (82810-3), pregnancy intent (86645-9), occupation (11341-5, with the industry as a
86188-0 component) and sexual orientation (76690-7).
"""

from dataclasses import dataclass

from . import codes
from ._common import (
    US_CORE_PROFILE,
    UnmappableValue,
    codeable,
    coding,
    compact,
    encounter_reference,
    lookup,
    meta,
    notes,
    period,
    reference,
)


@dataclass(frozen=True)
class Question:
    """One social history question: its US Core profile, LOINC code and display, and its answers' system."""

    profile: str
    loinc: str
    display: str
    answers: str = codes.SNOMED
    value_required: bool = True  # the profile's value[x] is 1..1 (sexual orientation's is 0..1)


QUESTIONS = {
    "tobacco": Question("us-core-smokingstatus", "72166-2", "Tobacco smoking status"),
    "pregnancy_status": Question("us-core-observation-pregnancystatus", "82810-3", "Pregnancy status"),
    "pregnancy_intent": Question(
        "us-core-observation-pregnancyintent", "86645-9", "Pregnancy intention in the next year - Reported"
    ),
    "occupation": Question("us-core-observation-occupation", "11341-5", "History of Occupation", codes.ODH),
    "sexual_orientation": Question(
        "us-core-observation-sexual-orientation", "76690-7", "Sexual orientation", value_required=False
    ),
}
PROFILES = tuple(US_CORE_PROFILE + question.profile for question in QUESTIONS.values())
INDUSTRY = ("86188-0", "History of Occupation industry")
# The value sets' v3 NullFlavor answers (us-core-pregnancy-status, -intent and -sexual-orientation).
NULL_FLAVORS = {"UNK": "Unknown", "ASKU": "Asked but no answer", "OTH": "Other"}
# us-core-smokingstatus binds status (required) to us-core-observation-smoking-status-status.
SMOKING_STATUS = {"final": "final", "entered-in-error": "entered-in-error"}
# The form's words for a question not answered -> data-absent-reason code.
ABSENT = {"declined": "asked-declined", "unknown": "unknown"}
ABSENT_DISPLAY = {"asked-declined": "Asked But Declined", "unknown": "Unknown"}


def to_fhir(row, ctx):
    """Return the social-history Observation for one ``social_history`` row."""
    question = QUESTIONS.get(row["kind"])
    if question is None:
        raise UnmappableValue(f"Observation.code: {row['kind']!r} is not a social history question")
    statuses = SMOKING_STATUS if row["kind"] == "tobacco" else codes.OBSERVATION_STATUS
    status = lookup(statuses, row["status"], "Observation.status")
    held = period(row["period_start"], row["period_end"]) if row["kind"] == "occupation" else None
    return compact(
        {
            "resourceType": "Observation",
            "id": row["uid"],
            "meta": meta(US_CORE_PROFILE + question.profile),
            "status": status,
            "category": [codeable(coding(codes.OBSERVATION_CATEGORY, "social-history", "Social History"))],
            "code": codeable(coding(codes.LOINC, question.loinc, question.display), text=question.display),
            "subject": reference("Patient", ctx["patient"]),
            "encounter": encounter_reference(ctx),
            "effectiveDateTime": None if held else row["recorded_at"],
            "effectivePeriod": held,
            # US Core 3.1.1's smoking status requires issued (6.1.0 requires effectiveDateTime instead).
            "issued": row["recorded_at"] if row["kind"] == "tobacco" else None,
            "performer": [reference("Practitioner", ctx.get("provider"))],
            **_value(row, question),
            "note": notes(row["note"]),
            "component": [_industry(row)] if row["kind"] == "occupation" else None,
        }
    )


def _answer(system, code, text):
    """A coded answer; the v3 NullFlavor codes the value sets allow keep their own system."""
    if code in NULL_FLAVORS:
        return codeable(coding(codes.NULL_FLAVOR, code, NULL_FLAVORS[code]), text=text or NULL_FLAVORS[code])
    return codeable(coding(system, code, text), text=text)


def _value(row, question):
    if row["answer_code"] or row["answer_text"]:
        return {"valueCodeableConcept": _answer(question.answers, row["answer_code"], row["answer_text"])}
    if question.value_required:
        raise UnmappableValue(f"Observation.value[x]: a {row['kind']} row needs an answer")
    # R4 obs-6: dataAbsentReason only when there is no value (sexual orientation's value is 0..1).
    reason = lookup(ABSENT, row["absent_reason"] or "unknown", "Observation.dataAbsentReason")
    return {"dataAbsentReason": codeable(coding(codes.DATA_ABSENT_REASON, reason, ABSENT_DISPLAY[reason]))}


def _industry(row):
    """The occupation's industry component (us-core-observation-occupation's ``industry`` slice), or None."""
    value = codeable(coding(codes.ODH, row["industry_code"], row["industry_text"]), text=row["industry_text"])
    if value is None:
        return None
    return {"code": codeable(coding(codes.LOINC, *INDUSTRY), text=INDUSTRY[1]), "valueCodeableConcept": value}
