"""Chart ``allergies`` row -> US Core AllergyIntolerance."""

from . import codes
from ._common import (
    US_CORE_PROFILE,
    RecordSection,
    ResourceType,
    Words,
    base_param,
    codeable,
    coding,
    compact,
    lookup,
    lookup_optional,
    meta,
    patient_param,
    reference,
    us_core_param,
)

PROFILE = US_CORE_PROFILE + "us-core-allergyintolerance"


def to_fhir(row, ctx):
    """Return the AllergyIntolerance resource for one ``allergies`` row."""
    verification = lookup(
        codes.ALLERGY_VERIFICATION_STATUS, row["verification"], "AllergyIntolerance.verificationStatus"
    )
    category = lookup_optional(codes.ALLERGY_CATEGORY, row["category"])
    return compact(
        {
            "resourceType": "AllergyIntolerance",
            "id": row["uid"],
            "meta": meta(PROFILE),
            "clinicalStatus": clinical_status(row["status"], verification[0]),
            "verificationStatus": codeable(coding(codes.ALLERGY_VERIFICATION, *verification)),
            "type": "allergy",
            "category": [category],
            "criticality": lookup_optional(codes.ALLERGY_CRITICALITY, row["criticality"]),
            "code": substance(row),
            "patient": reference("Patient", ctx["patient"]),
            "onsetDateTime": row["onset_date"],
            "recordedDate": row["recorded_at"],
            "recorder": reference("Practitioner", ctx.get("provider")),
            "reaction": [reaction(row)],
        }
    )


def clinical_status(status, verification):
    """Return the clinicalStatus CodeableConcept, or None when the entry is entered-in-error."""
    # R4 ait-2 forbids clinicalStatus when verificationStatus is entered-in-error, and ait-1 requires
    # it otherwise (refuted included), so only entered-in-error drops it.
    if verification == "entered-in-error":
        return None
    found = lookup(codes.ALLERGY_CLINICAL_STATUS, status, "AllergyIntolerance.clinicalStatus")
    return codeable(coding(codes.ALLERGY_CLINICAL, *found))


def substance(row):
    """Return the substance code in its charted system (RxNorm, SNOMED CT, UNII or NDF-RT) with text."""
    system = lookup(codes.ALLERGY_SUBSTANCE_SYSTEM, row["substance_system"], "AllergyIntolerance.code")
    return codeable(coding(system, row["substance_code"]), text=row["substance_name"])


def reaction(row):
    """Return the reaction (SNOMED CT manifestation and severity), or None when none is charted."""
    manifestation = codeable(coding(codes.SNOMED, row["reaction_snomed"]), text=row["reaction_name"])
    # reaction.manifestation is 1..*: a charted severity without a manifestation cannot be sent.
    if not manifestation:
        return None
    return {
        "manifestation": [manifestation],
        "severity": lookup_optional(codes.REACTION_SEVERITY, row["severity"]),
    }


RESOURCE = ResourceType(
    name="AllergyIntolerance",
    table="allergies",
    to_fhir=to_fhir,
    profiles=(PROFILE,),
    search_params=(
        patient_param("AllergyIntolerance", "patient"),
        us_core_param("AllergyIntolerance", "clinical-status", "token", "clinicalStatus"),
        base_param("AllergyIntolerance-verification-status", "verification-status", "token", "verificationStatus"),
        base_param("clinical-code", "code", "token", "code"),
        base_param("AllergyIntolerance-category", "category", "token", "category"),
        base_param("AllergyIntolerance-criticality", "criticality", "token", "criticality"),
    ),
    words=Words("Allergies", "allergies and intolerances"),
    section=RecordSection(
        "allergies",
        "Allergies",
        30,
        "48765-2",
        "Allergies and adverse reactions Document",
        "No allergies are on file.",
    ),
)
