"""Chart ``diagnoses`` row -> US Core Condition (3.1.1 us-core-condition; 6.1 profile by category)."""

from . import codes
from ._common import (
    US_CORE_PROFILE,
    Kind,
    RecordSection,
    ResourceType,
    Words,
    base_param,
    codeable,
    coding,
    compact,
    encounter_reference,
    lookup,
    meta,
    notes,
    reference,
    subject_params,
    us_core_param,
)

PROFILE_3_1_1 = US_CORE_PROFILE + "us-core-condition"
PROFILE_PROBLEMS = US_CORE_PROFILE + "us-core-condition-problems-health-concerns"
PROFILE_ENCOUNTER = US_CORE_PROFILE + "us-core-condition-encounter-diagnosis"
# The kinds a consent may narrow Conditions to, by category.
CONDITION_KINDS = (
    Kind(codes.CONDITION_CATEGORY, "problem-list-item", "Problem list"),
    Kind(codes.CONDITION_CATEGORY, "encounter-diagnosis", "Diagnoses made at visits"),
    Kind(codes.US_CORE_CONDITION_CATEGORY, "health-concern", "Health concerns"),
)
# Condition con-4: an abatement implies the condition is no longer active.
ABATED_STATUSES = {"inactive", "remission", "resolved"}


def to_fhir(row, ctx):
    """Return the Condition resource for one ``diagnoses`` row."""
    category = lookup(codes.CONDITION_CATEGORIES, row["category"], "Condition.category")
    verification = lookup(codes.CONDITION_VERIFICATION_STATUS, row["verification"], "Condition.verificationStatus")
    clinical = clinical_status(row["status"], verification[0])
    practitioner = reference("Practitioner", ctx.get("provider"))
    return compact(
        {
            "resourceType": "Condition",
            "id": row["uid"],
            "meta": meta(PROFILE_3_1_1, profile_for(category[1])),
            "clinicalStatus": codeable(coding(codes.CONDITION_CLINICAL, *clinical)) if clinical else None,
            "verificationStatus": codeable(coding(codes.CONDITION_VERIFICATION, *verification)),
            "category": [codeable(coding(*category)), assessment_category(row)],
            "code": condition_code(row),
            "subject": reference("Patient", ctx["patient"]),
            "encounter": encounter_reference(ctx),
            "onsetDateTime": row["onset_date"],
            "abatementDateTime": row["resolved_date"] if clinical and clinical[0] in ABATED_STATUSES else None,
            "recordedDate": row["recorded_at"],
            "recorder": practitioner,
            "asserter": practitioner,
            "note": notes(row["note"]),
            "evidence": screening_evidence(ctx),
        }
    )


def assessment_category(row):
    """The screening-assessment category slice (6.1.0), e.g. ``sdoh`` for a social need, or None."""
    if not row["assessment_category"]:
        return None
    return codeable(coding(*lookup(codes.ASSESSMENT_CATEGORIES, row["assessment_category"], "Condition.category")))


def screening_evidence(ctx):
    """``evidence.detail``: the screening answer (Observation) that found the concern, or None."""
    answer = reference("Observation", ctx.get("links", {}).get("screening_answer_id"))
    return [{"detail": [answer]}] if answer else None


def clinical_status(status, verification):
    """Return the (code, display) clinical status, or None when the entry is entered-in-error."""
    # Condition con-5: clinicalStatus SHALL NOT be present if verificationStatus is entered-in-error.
    if verification == "entered-in-error":
        return None
    return lookup(codes.CONDITION_CLINICAL_STATUS, status, "Condition.clinicalStatus")


def condition_code(row):
    """Return the Condition code: ICD-10-CM and SNOMED CT codings with the charted description."""
    return codeable(
        coding(codes.ICD10CM, codes.icd10cm(row["icd10_code"])),
        coding(codes.SNOMED, row["snomed_code"]),
        text=row["description"],
    )


def profile_for(category):
    """Return the US Core 6.1 Condition profile that fits a category code."""
    return PROFILE_ENCOUNTER if category == "encounter-diagnosis" else PROFILE_PROBLEMS


RESOURCE = ResourceType(
    name="Condition",
    table="diagnoses",
    to_fhir=to_fhir,
    profiles=(PROFILE_3_1_1, PROFILE_PROBLEMS, PROFILE_ENCOUNTER),
    search_params=(
        *subject_params("Condition"),
        us_core_param("Condition", "category", "token", "category"),
        us_core_param("Condition", "clinical-status", "token", "clinicalStatus"),
        base_param("Condition-verification-status", "verification-status", "token", "verificationStatus"),
        us_core_param("Condition", "code", "token", "code"),
        us_core_param("Condition", "onset-date", "date", "onsetDateTime", "onsetPeriod"),
        us_core_param("Condition", "abatement-date", "date", "abatementDateTime", "abatementPeriod"),
        us_core_param("Condition", "recorded-date", "date", "recordedDate"),
        us_core_param("Condition", "encounter", "reference", "encounter", targets=("Encounter",)),
    ),
    words=Words("Health problems", "conditions and diagnoses"),
    kinds=CONDITION_KINDS,
    care_date="onset-date",
    section=RecordSection(
        "diagnoses",
        "Diagnoses",
        10,
        "11450-4",
        "Problem list - Reported",
        "No diagnoses are on file.",
    ),
)
