"""Chart ``lab_observations`` row -> US Core Laboratory Result Observation; vitals come from a second source.

Observation is kept in six chart tables: lab results here, the vitals flowsheet (``vital_signs``,
mapped by mappers.vital_signs), the social history form (``social_history``, mapped by
mappers.social_history), other findings (``clinical_findings``, mapped by mappers.simple_observation) and
screening instruments with their answers (``screenings`` and ``screening_answers``, mapped by
mappers.screening), the type's further ``Source``s.
"""

from . import codes, screening, simple_observation, social_history, vital_signs
from ._common import (
    US_CORE_PROFILE,
    Kind,
    RecordSection,
    ResourceType,
    Source,
    Words,
    codeable,
    coding,
    compact,
    display_reference,
    encounter_reference,
    lookup,
    meta,
    notes,
    number,
    order_reference,
    quantity,
    reference,
    specimen_reference,
    subject_params,
    us_core_param,
)

PROFILE_LAB = US_CORE_PROFILE + "us-core-observation-lab"
PROFILE_CLINICAL_RESULT = US_CORE_PROFILE + "us-core-observation-clinical-result"
# The kinds a consent may narrow Observations to, by category.
OBSERVATION_KINDS = (
    Kind(codes.OBSERVATION_CATEGORY, "laboratory", "Lab results"),
    Kind(codes.OBSERVATION_CATEGORY, "vital-signs", "Vital signs"),
    Kind(codes.OBSERVATION_CATEGORY, "social-history", "Social history (such as smoking)"),
    Kind(codes.OBSERVATION_CATEGORY, "survey", "Questionnaire answers"),
    Kind(codes.US_CORE_CATEGORY, "sdoh", "Social needs"),
)


def to_fhir(row, ctx):
    """Return the Observation for one ``lab_observations`` row, or None if its report is not shared."""
    report = ctx["report"]
    if not report["shared_with_patient"]:
        return None
    status = lookup(codes.OBSERVATION_STATUS, row["status"], "Observation.status")
    return compact(
        {
            "resourceType": "Observation",
            "id": row["uid"],
            "meta": meta(PROFILE_LAB, PROFILE_CLINICAL_RESULT),
            "basedOn": order_reference(ctx),
            "status": status,
            "category": [codeable(coding(codes.OBSERVATION_CATEGORY, "laboratory", "Laboratory"))],
            "code": codeable(coding(codes.LOINC, row["loinc_code"]), text=row["name"]),
            "subject": reference("Patient", ctx["patient"]),
            "encounter": encounter_reference(ctx),
            "effectiveDateTime": report["collected_at"],
            "issued": report.get("reported_at"),
            "performer": [
                reference("Practitioner", ctx.get("provider")),
                display_reference("Organization", report.get("performing_lab")),
            ],
            **value(row, status),
            "interpretation": [interpretation(row["interpretation"])],
            "note": notes(row["note"]),
            "specimen": specimen_reference(ctx),
            "referenceRange": [reference_range(row)],
        }
    )


def value(row, status):
    """Return value[x] (a Quantity, a SNOMED CT answer or a string), or a dataAbsentReason when none is charted."""
    if row["value_num"] is not None:
        return {"valueQuantity": quantity(row["value_num"], row["unit"])}
    if row["value_code"]:
        answer = coding(codes.SNOMED, row["value_code"], row["value_text"])
        return {"valueCodeableConcept": codeable(answer, text=row["value_text"])}
    if row["value_text"]:
        return {"valueString": row["value_text"]}
    # US Core us-core-2: without a value (and no components or members) a dataAbsentReason SHALL be
    # present; R4 obs-6 forbids both together.
    reason = "not-performed" if status == "cancelled" else "unknown"
    display = "Not Performed" if reason == "not-performed" else "Unknown"
    return {"dataAbsentReason": codeable(coding(codes.DATA_ABSENT_REASON, reason, display))}


def interpretation(code):
    """Return the v3 ObservationInterpretation CodeableConcept for a charted flag, or None."""
    if not code:
        return None
    return codeable(coding(codes.INTERPRETATION, code, codes.INTERPRETATION_DISPLAY.get(code)))


def reference_range(row):
    """Return the referenceRange (low/high Quantities in the result's unit and text), or None."""
    found = {
        "low": quantity(row["ref_low"], row["unit"]),
        "high": quantity(row["ref_high"], row["unit"]),
        "text": row["ref_text"],
    }
    # R4 obs-3: a reference range needs at least a low, a high or a text.
    if not compact(found):
        return None
    # The lab's range is for an age band and sometimes one sex (R4 Observation.referenceRange.age, a Range in
    # UCUM years, and .appliesTo from the referencerange-appliesto value set): say for whom it holds.
    age = {"low": _years(row.get("ref_age_low")), "high": _years(row.get("ref_age_high"))}
    sex = codes.REFERENCE_RANGE_SEX.get(row.get("ref_sex") or "")
    return {**found, "age": age, "appliesTo": [codeable(coding(codes.SNOMED, *sex), text=sex[1])] if sex else None}


def _years(value):
    return None if value is None else {"value": number(value), "unit": "years", "system": codes.UCUM, "code": "a"}


RESOURCE = ResourceType(
    name="Observation",
    table="lab_observations",
    to_fhir=to_fhir,
    sources=(
        Source("vital_signs", vital_signs.to_fhir),
        # IPS "Social History" section: LOINC 29762-2 (https://hl7.org/fhir/uv/ips/, sectionSocialHistory).
        Source(
            "social_history",
            social_history.to_fhir,
            RecordSection(
                "social-history",
                "Social history",
                73,
                "29762-2",
                "Social history Narrative",
                "No social history is on file.",
                category="social-history",
            ),
        ),
        # The simple observations (clinical tests, exam findings, activity, functional and cognitive status): a portal
        # section of their own, coded as C-CDA's Physical findings section. IPS 1.1 defines no section for them.
        Source(
            "clinical_findings",
            simple_observation.to_fhir,
            RecordSection(
                "findings",
                "Other findings",
                74.5,  # after the screenings, before the visits (75)
                "29545-1",
                "Physical findings Narrative",
                "No other findings are on file.",
                ips=False,
                category=",".join(simple_observation.SECTION_CATEGORIES),
            ),
        ),
        # Screening instruments: the administration as a panel, each answer as its member (see mappers.screening).
        Source(
            "screenings",
            screening.panel_to_fhir,
            # One entry per administration (its QuestionnaireResponse); the survey Observations stay out of the
            # other sections (lab results). The IPS has no section for screenings.
            RecordSection(
                "screenings",
                "Screenings",
                74,
                "47420-5",
                "Functional status assessment note",
                "No screenings are on file.",
                also=("QuestionnaireResponse",),
                ips=False,
                category="survey",
            ),
        ),
        Source("screening_answers", screening.answer_to_fhir),
    ),
    profiles=(
        PROFILE_LAB,
        PROFILE_CLINICAL_RESULT,
        *vital_signs.PROFILES,
        *social_history.PROFILES,
        *simple_observation.PROFILES,
        screening.PROFILE,
    ),
    search_params=(
        *subject_params("Observation"),
        us_core_param("Observation", "category", "token", "category"),
        us_core_param("Observation", "code", "token", "code"),
        us_core_param("Observation", "date", "date", "effectiveDateTime", "effectivePeriod"),
        us_core_param("Observation", "status", "token", "status"),
    ),
    words=Words("Results", "lab results and other measurements"),
    kinds=OBSERVATION_KINDS,
    care_date="date",
    # Lab results show inside the DiagnosticReport section; vital signs have one of their own (IPS 8716-3).
    section=RecordSection(
        "vitals",
        "Vitals",
        72,
        "8716-3",
        "Vital signs",
        "No vital signs are on file.",
        category="vital-signs",
    ),
)
