"""Chart ``medications`` row -> FHIR R4 MedicationStatement (US Core 3.1.1 and 6.1 define no profile)."""

from . import codes
from ._common import (
    BASE_PROFILE,
    RecordSection,
    ResourceType,
    Words,
    base_param,
    compact,
    lookup,
    meta,
    period,
    reference,
    subject_params,
)
from .medication_request import dosage, medication_code, reasons

PROFILE = BASE_PROFILE + "MedicationStatement"


def to_fhir(row, ctx):
    """Return the MedicationStatement resource for one ``medications`` row."""
    prescribed = row["source"] == "prescribed"
    return compact(
        {
            "resourceType": "MedicationStatement",
            "id": row["uid"],
            "meta": meta(PROFILE),
            # The MedicationRequest projected from the same row shares its id.
            "basedOn": [reference("MedicationRequest", row["uid"])] if prescribed else None,
            "status": lookup(codes.MEDICATION_STATEMENT_STATUS, row["status"], "MedicationStatement.status"),
            "medicationCodeableConcept": medication_code(row, ctx),
            "subject": reference("Patient", ctx["patient"]),
            # A statement covers a span of use; a start date alone opens a period rather than naming
            # the one moment the medication was taken (which effectiveDateTime would claim).
            "effectivePeriod": period(row["start_date"], row["end_date"]),
            "dateAsserted": row["updated_at"],
            "informationSource": information_source(row, ctx),
            "reasonCode": reasons(row),
            "dosage": [dosage(row)],
        }
    )


def information_source(row, ctx):
    """Return who the statement comes from: the prescriber, or the patient for reported meds."""
    if row["source"] == "reported":
        return reference("Patient", ctx["patient"])
    return reference("Practitioner", ctx.get("provider"))


RESOURCE = ResourceType(
    name="MedicationStatement",
    table="medications",
    to_fhir=to_fhir,
    profiles=(PROFILE,),
    search_params=(
        *subject_params("MedicationStatement", "clinical-patient"),
        base_param("medications-status", "status", "token", "status"),
        base_param("MedicationStatement-effective", "effective", "date", "effectiveDateTime", "effectivePeriod"),
        base_param("clinical-code", "code", "token", "medicationCodeableConcept"),
    ),
    words=Words("Medicines", "medicines taken"),
    care_date="effective",
    section=RecordSection(
        "medications",
        "Medications",
        20,
        "10160-0",
        "History of Medication use Narrative",
        "No medications are on file.",
    ),
)
