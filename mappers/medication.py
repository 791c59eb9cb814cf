"""Chart ``formulary`` row (a medicine in the practice's formulary) -> US Core Medication (6.1.0).

Prescriptions that order a formulary item (``medications.formulary_id``) reference it as
``MedicationRequest.medicationReference``; the Medication is outside the patient compartment and a patient
reads it through that reference (US Core 6.1.0 CapabilityStatement: Medication SHALL read, search MAY).
"""

from . import codes
from ._common import (
    US_CORE_PROFILE,
    ResourceType,
    Words,
    base_param,
    codeable,
    coding,
    compact,
    lookup,
    meta,
)

PROFILE = US_CORE_PROFILE + "us-core-medication"


def to_fhir(row, ctx):
    """Return the Medication resource for one ``formulary`` row."""
    form = codeable(coding(codes.SNOMED, row["dose_form_code"], row["dose_form"]), text=row["dose_form"])
    return compact(
        {
            "resourceType": "Medication",
            "id": row["uid"],
            "meta": meta(PROFILE),
            "code": medication_code(row),
            "status": lookup(codes.FORMULARY_STATUS, row["status"], "Medication.status"),
            "form": form,
            "ingredient": [{"itemCodeableConcept": {"text": line.strip()}} for line in ingredient_lines(row)],
        }
    )


def medication_code(row):
    """Return the item's code: its RxNorm coding when it has one, and its formulary name as text.

    US Core binds Medication.code extensibly to the RxNorm clinical drugs: a compounded product that no
    RxNorm concept names is sent with text only.
    """
    return codeable(coding(codes.RXNORM, row["rxnorm_code"]), text=row["name"])


def ingredient_lines(row):
    """The formulary's ingredient list, one ingredient a line (blank lines skipped)."""
    return [line for line in (row["ingredients"] or "").splitlines() if line.strip()]


RESOURCE = ResourceType(
    name="Medication",
    table="formulary",
    to_fhir=to_fhir,
    profiles=(PROFILE,),
    search_params=(base_param("Medication-code", "code", "token", "code"),),
    compartment=False,
    words=Words("Medicine details", "what a prescribed medicine is and what it is made of"),
)
