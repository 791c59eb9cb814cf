"""Chart ``clinical_findings`` row (a clinical test result, exam finding, activity or status) -> US Core 6.1.0
simple Observation.

Not a registered type of its own: mappers.observation lists it as a further ``Source`` of Observation. A finding
whose category the clinical result profile also takes (exam, procedure, activity, therapy, imaging) claims
that profile too, as US Core's own examples of such findings do (Observation-ekg-impression,
Observation-jugular-vein-distension).
"""

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
    quantity,
    reference,
)

PROFILE = US_CORE_PROFILE + "us-core-simple-observation"
PROFILE_CLINICAL_RESULT = US_CORE_PROFILE + "us-core-observation-clinical-result"
PROFILES = (PROFILE,)
# Every category a finding is charted with (codes.FINDING_CATEGORY), in that order: its record section shows them.
SECTION_CATEGORIES = tuple(dict.fromkeys(code for _, code, _ in codes.FINDING_CATEGORY.values()))


def to_fhir(row, ctx):
    """Return the simple Observation for one ``clinical_findings`` row."""
    system, code, display = lookup(codes.FINDING_CATEGORY, row["category"], "Observation.category")
    also = PROFILE_CLINICAL_RESULT if code in codes.CLINICAL_RESULT_CATEGORIES else None
    return compact(
        {
            "resourceType": "Observation",
            "id": row["uid"],
            "meta": meta(PROFILE, *([also] if also else [])),
            "status": lookup(codes.OBSERVATION_STATUS, row["status"], "Observation.status"),
            "category": [codeable(coding(system, code, display))],
            # The code binding is preferred (LOINC, or SNOMED CT findings): charted name as text either way.
            "code": codeable(
                coding(codes.LOINC, row["loinc_code"]), coding(codes.SNOMED, row["snomed_code"]), text=row["name"]
            ),
            "subject": reference("Patient", ctx["patient"]),
            "encounter": encounter_reference(ctx),
            "effectiveDateTime": row["observed_at"],
            "performer": [reference("Practitioner", ctx.get("provider"))],
            **value(row),
            "note": notes(row["note"]),
        }
    )


def value(row):
    """Return value[x] (a Quantity, a SNOMED CT answer or a string), else a dataAbsentReason (clinical result
    us-core-2: a value or a reason why there is none)."""
    if row["value_num"] is not None:
        return {"valueQuantity": quantity(row["value_num"], row["unit"])}
    if row["value_code"]:
        answer = coding(codes.SNOMED, row["value_code"], row["value_text"])
        return {"valueCodeableConcept": codeable(answer, text=row["value_text"])}
    if row["value_text"]:
        return {"valueString": row["value_text"]}
    return {"dataAbsentReason": codeable(coding(codes.DATA_ABSENT_REASON, "unknown", "Unknown"))}
