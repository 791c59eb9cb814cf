"""Chart ``dispenses`` row (a pharmacy's fill of a prescription) -> US Core MedicationDispense (6.1.0).

``ctx["prescription"]`` is the filled ``medications`` row: its RxNorm code and sig are what was dispensed
and how to take it, and its ``uid`` is the MedicationRequest the fill is authorized by.
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
    display_reference,
    lookup,
    lookup_optional,
    meta,
    quantity,
    reference,
    subject_params,
    us_core_param,
)
from .medication_request import dosage, medication

PROFILE = US_CORE_PROFILE + "us-core-medicationdispense"


def to_fhir(row, ctx):
    """Return the MedicationDispense resource for one ``dispenses`` row."""
    prescription = ctx["prescription"]
    fill_type = lookup_optional(codes.DISPENSE_TYPE, row["fill_type"])
    return compact(
        {
            "resourceType": "MedicationDispense",
            "id": row["uid"],
            "meta": meta(PROFILE),
            "status": lookup(codes.DISPENSE_STATUS, row["status"], "MedicationDispense.status"),
            **medication(prescription, ctx),
            "subject": reference("Patient", ctx["patient"]),
            # The pharmacy is charted by name only: a display reference, as Appointment does for its place.
            "performer": [{"actor": display_reference("Organization", row["pharmacy_name"])}],
            "authorizingPrescription": [reference("MedicationRequest", prescription["uid"])],
            "type": codeable(coding(codes.ACT_CODE, *fill_type) if fill_type else None, text=row["fill_type"]),
            "quantity": quantity(row["quantity"], row["quantity_unit"]),
            "daysSupply": days(row["days_supply"]),
            "whenHandedOver": row["handed_over_at"],
            "dosageInstruction": [dosage(prescription)],
        }
    )


def days(count):
    """Return the days supply as a UCUM Quantity, or None."""
    if count is None:
        return None
    return {"value": count, "unit": "day", "system": codes.UCUM, "code": "d"}


RESOURCE = ResourceType(
    name="MedicationDispense",
    table="dispenses",
    to_fhir=to_fhir,
    profiles=(PROFILE,),
    search_params=(
        *subject_params("MedicationDispense"),
        us_core_param("MedicationDispense", "status", "token", "status"),
        us_core_param("MedicationDispense", "type", "token", "type"),
        base_param("MedicationDispense-whenhandedover", "whenhandedover", "date", "whenHandedOver"),
        base_param("medications-code", "code", "token", "medicationCodeableConcept"),
        base_param(
            "MedicationDispense-prescription",
            "prescription",
            "reference",
            "authorizingPrescription",
            targets=("MedicationRequest",),
        ),
        # A fill of a formulary item references its Medication, as its prescription does.
        base_param("medications-medication", "medication", "reference", "medicationReference", targets=("Medication",)),
    ),
    includes=("MedicationDispense:medication", "MedicationDispense:prescription"),
    words=Words("Pharmacy fills", "medicines the pharmacy handed over"),
    care_date="whenhandedover",
)
