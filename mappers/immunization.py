"""Chart ``immunizations`` row -> US Core Immunization."""

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
    display_reference,
    lookup,
    lookup_optional,
    meta,
    patient_param,
    quantity,
    reference,
    us_core_param,
)

PROFILE = US_CORE_PROFILE + "us-core-immunization"


def to_fhir(row, ctx):
    """Return the Immunization resource for one ``immunizations`` row."""
    status = lookup(codes.IMMUNIZATION_STATUS, row["status"], "Immunization.status")
    return compact(
        {
            "resourceType": "Immunization",
            "id": row["uid"],
            "meta": meta(PROFILE),
            "status": status,
            "statusReason": status_reason(row["not_done_reason"]) if status == "not-done" else None,
            "vaccineCode": codeable(coding(codes.CVX, row["cvx_code"]), text=row["vaccine_name"]),
            "patient": reference("Patient", ctx["patient"]),
            "occurrenceDateTime": row["administered_at"],
            "primarySource": bool(row["primary_source"]),
            "manufacturer": manufacturer(row["manufacturer"]),
            "lotNumber": row["lot_number"],
            "expirationDate": row["expiration_date"],
            "site": coded_or_text(codes.IMMUNIZATION_SITE, codes.ACT_SITE, row["site"]),
            "route": coded_or_text(codes.IMMUNIZATION_ROUTE, codes.ROUTE_OF_ADMINISTRATION, row["route"]),
            "doseQuantity": quantity(row["dose_ml"], "mL"),
            "performer": [
                performer(ctx.get("provider")),
                {"actor": reference("Organization", ctx.get("organization"))} if row["administered_in_house"] else None,
            ]
            if status != "not-done"  # no one administered a dose that was not given
            else None,
        }
    )


def status_reason(reason):
    """Return why a vaccine was not given, as a v3-ActReason code when recognised, else as text."""
    known = lookup_optional(codes.IMMUNIZATION_NOT_DONE_REASON, reason)
    if known:  # the text is what a person reads (the charted value may be the bare code, "PATOBJ")
        return codeable(coding(codes.ACT_REASON, *known), text=known[1].capitalize())
    return codeable(None, text=reason)


def coded_or_text(table, system, value):
    """Return a CodeableConcept coded from ``table`` when the charted value is known, else text-only."""
    known = lookup_optional(table, value)
    return codeable(coding(system, *known) if known else None, text=value)


def manufacturer(name):
    """Return the manufacturer Reference: an MVX identifier when charted as an MVX code, else text."""
    if not name:
        return None
    known = lookup_optional(codes.MANUFACTURER, name)
    if known:
        mvx = {"system": codes.MVX, "value": name.strip().upper()}
        return {"type": "Organization", "identifier": mvx, "display": known}
    return display_reference("Organization", name)


def performer(provider):
    """Return the administering provider performer entry, or None."""
    actor = reference("Practitioner", provider)
    if not actor:
        return None
    role = codeable(coding(codes.PERFORMER_FUNCTION, "AP", "Administering Provider"))
    return {"function": role, "actor": actor}


RESOURCE = ResourceType(
    name="Immunization",
    table="immunizations",
    to_fhir=to_fhir,
    profiles=(PROFILE,),
    search_params=(
        patient_param("Immunization", "patient"),
        us_core_param("Immunization", "date", "date", "occurrenceDateTime"),
        us_core_param("Immunization", "status", "token", "status"),
        base_param("Immunization-vaccine-code", "vaccine-code", "token", "vaccineCode"),
    ),
    words=Words("Vaccinations", "vaccines given or declined"),
    care_date="date",
    section=RecordSection(
        "immunizations",
        "Immunizations",
        40,
        "11369-6",
        "History of Immunization Narrative",
        "No immunizations are on file.",
    ),
)
