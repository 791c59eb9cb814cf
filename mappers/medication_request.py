"""Chart ``medications`` row -> US Core MedicationRequest (prescribed orders and reported meds)."""

from . import codes
from ._common import (
    US_CORE_PROFILE,
    ResourceType,
    Words,
    base_param,
    codeable,
    coding,
    compact,
    data_absent,
    encounter_reference,
    lookup,
    lookup_optional,
    meta,
    number,
    quantity,
    reference,
    subject_params,
    us_core_param,
)

PROFILE = US_CORE_PROFILE + "us-core-medicationrequest"


def to_fhir(row, ctx):
    """Return the MedicationRequest resource for one ``medications`` row."""
    intent = lookup(codes.MEDICATION_INTENT, row["source"], "MedicationRequest.intent")
    requester = reference("Practitioner", ctx.get("provider"))
    return compact(
        {
            "resourceType": "MedicationRequest",
            "id": row["uid"],
            "meta": meta(PROFILE),
            "status": lookup(codes.MEDICATION_REQUEST_STATUS, row["status"], "MedicationRequest.status"),
            "intent": intent,
            "category": [codeable(coding(codes.MEDREQUEST_CATEGORY, "community", "Community"))],
            "reportedBoolean": intent == "plan",
            **medication(row, ctx),
            "subject": reference("Patient", ctx["patient"]),
            "encounter": encounter_reference(ctx),
            # US Core 3.1.1 makes authoredOn and requester 1..1 (6.1 relaxes both to Must Support);
            # when the chart lacks them, its Missing Data rule asks for a data-absent-reason instead.
            "authoredOn": row["prescribed_at"],
            "_authoredOn": None if row["prescribed_at"] else data_absent(),
            "requester": requester or data_absent(),
            "reasonCode": reasons(row),
            "dosageInstruction": [dosage(row)],
            "dispenseRequest": dispense_request(row),
        }
    )


def medication(row, ctx):
    """Return medication[x]: a Reference to the formulary item the row orders, else the coded medication."""
    item = ctx.get("formulary")
    if item:
        return {"medicationReference": reference("Medication", item["uid"], item["name"])}
    return {"medicationCodeableConcept": medication_code(row, ctx)}


def medication_code(row, ctx=None):
    """Return the medication as a CodeableConcept: the RxNorm coding and the name (the formulary item's, if any)."""
    item = (ctx or {}).get("formulary") or row
    return codeable(coding(codes.RXNORM, item["rxnorm_code"]), text=item["name"])


def dosage(row):
    """Return the Dosage (sig text, route, dose) for a medication row, or None when nothing is charted."""
    dose = quantity(row["dose_value"], row["dose_unit"])
    found = {
        "text": row["sig"],
        "timing": timing(row["sig_frequency"]),
        "route": route(row["route"]),
        "doseAndRate": [{"doseQuantity": dose}] if dose else None,
    }
    return found if compact(found) else None


def timing(frequency):
    """Return the Timing for a coded SIG frequency (repeat and its TimingAbbreviation code), or None."""
    if not frequency:
        return None
    repeat = {**lookup(codes.SIG_TIMING, frequency, "dosageInstruction.timing")}
    return {"repeat": repeat, "code": codeable(coding(codes.GTS_ABBREVIATION, frequency.strip().upper()))}


def route(text):
    """Return the route as SNOMED CT when the charted route is a known one, else as text."""
    known = lookup_optional(codes.ROUTE, text)
    return codeable(coding(codes.SNOMED, *known) if known else None, text=text)


def reasons(row):
    """Return the reasonCode list (ICD-10-CM and/or text), or None."""
    reason = codeable(coding(codes.ICD10CM, codes.icd10cm(row["reason_icd10"])), text=row["reason_text"])
    return [reason] if reason else None


def dispense_request(row):
    """Return the dispenseRequest (quantity and refills) for prescribed rows, or None."""
    if row["source"] != "prescribed":
        return None
    refills = row["refills"]
    return {
        "quantity": quantity(row["dispense_quantity"], row["dispense_unit"]),
        "numberOfRepeatsAllowed": number(refills) if refills is not None else None,
    }


RESOURCE = ResourceType(
    name="MedicationRequest",
    table="medications",
    to_fhir=to_fhir,
    profiles=(PROFILE,),
    search_params=(
        *subject_params("MedicationRequest"),
        us_core_param("MedicationRequest", "intent", "token", "intent"),
        us_core_param("MedicationRequest", "status", "token", "status"),
        us_core_param("MedicationRequest", "authoredon", "date", "authoredOn"),
        us_core_param("MedicationRequest", "encounter", "reference", "encounter", targets=("Encounter",)),
        base_param("clinical-code", "code", "token", "medicationCodeableConcept"),
        base_param("MedicationRequest-requester", "requester", "reference", "requester", targets=("Practitioner",)),
        # A request for a formulary item references its Medication (_include=MedicationRequest:medication,
        # SHOULD in US Core 6.1.0); the others code their medication inline and include nothing.
        base_param("medications-medication", "medication", "reference", "medicationReference", targets=("Medication",)),
    ),
    includes=("MedicationRequest:requester", "MedicationRequest:medication"),
    words=Words("Prescriptions", "medicines prescribed"),
    care_date="authoredon",
)
