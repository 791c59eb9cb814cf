"""Chart ``encounters`` row (a visit) -> US Core 6.1.0 Encounter."""

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
    period,
    reference,
    subject_params,
    us_core_param,
)

PROFILE = US_CORE_PROFILE + "us-core-encounter"


def to_fhir(row, ctx):
    """Return the Encounter resource for one ``encounters`` row."""
    links = ctx.get("links", {})
    visit = period(row["start_at"], row["end_at"])
    return compact(
        {
            "resourceType": "Encounter",
            "id": row["uid"],
            "meta": meta(PROFILE),
            "identifier": [visit_number(row["visit_number"], ctx["mrn_system"])],
            "status": lookup(codes.ENCOUNTER_STATUS, row["status"], "Encounter.status"),
            "class": encounter_class(row["class_code"]),
            # type is 1..1 in US Core: an uncoded visit keeps its text.
            "type": [visit_type(row) or codeable(text="Visit")],
            "subject": reference("Patient", ctx["patient"]),
            "participant": [participant(ctx.get("provider"), visit)],
            "appointment": [reference("Appointment", links.get("appointment_id"))],
            "period": visit,
            "reasonCode": [
                codeable(coding(codes.ICD10CM, codes.icd10cm(row["reason_icd10"])), text=row["reason_text"])
            ],
            "reasonReference": [reference("Condition", links.get("reason_diagnosis_id"))],
            "hospitalization": {"dischargeDisposition": discharge_disposition(row["discharge_disposition"])},
            "location": [{"location": site(ctx.get("location"), row["location"])}],
            "serviceProvider": reference("Organization", ctx.get("organization")),
        }
    )


def site(location, words):
    """Encounter.location.location: the practice's site (a Location a client can read) named as the visit was,
    or only the words when the visit was elsewhere (a hospital, a video call)."""
    found = reference("Location", location)
    return {**found, "display": words} if found and words else found or display_reference("Location", words)


def visit_number(value, mrn_system):
    """Return the visit number Identifier, in a system beside the practice's MRN system."""
    if not value or not mrn_system:
        return None
    # The practice names one system (its MRNs); visit numbers are a sub-namespace of the same authority.
    system = f"{mrn_system}.1" if mrn_system.startswith("urn:oid:") else f"{mrn_system.rstrip('/')}/visit"
    kind = codeable(coding(codes.IDENTIFIER_TYPE, "VN", "Visit number"))
    return {"use": "usual", "type": kind, "system": system, "value": value}


def encounter_class(code):
    """Return the class Coding (v3 ActCode); an unknown chart class cannot be sent (class is 1..1)."""
    found = lookup(codes.ENCOUNTER_CLASS, code, "Encounter.class")
    return coding(codes.ACT_CODE, *found)


def visit_type(row):
    """Return the coded visit type (CPT or SNOMED CT) with its text, or None when nothing is charted."""
    system = lookup_optional(codes.ENCOUNTER_TYPE_SYSTEM, row["type_system"])
    return codeable(coding(system, row["type_code"]) if system else None, text=row["type_text"])


def participant(provider, visit):
    """Return the provider who saw the patient as the primary performer, for the visit's period."""
    if not provider:
        return None
    kind = codeable(coding(codes.PARTICIPATION_TYPE, "PPRF", "primary performer"))
    return {"type": [kind], "period": visit, "individual": reference("Practitioner", provider)}


def discharge_disposition(code):
    """Return the NUBC discharge disposition, or None (a clinic visit has none)."""
    if not code:
        return None
    display = codes.DISCHARGE_DISPOSITION.get(code.strip())
    return codeable(coding(codes.NUBC_DISCHARGE, code.strip(), display), text=display)


RESOURCE = ResourceType(
    name="Encounter",
    table="encounters",
    to_fhir=to_fhir,
    profiles=(PROFILE,),
    search_params=(
        *subject_params("Encounter"),
        us_core_param("Encounter", "identifier", "token", "identifier"),
        us_core_param("Encounter", "date", "date", "period"),
        us_core_param("Encounter", "class", "token", "class"),
        us_core_param("Encounter", "type", "token", "type"),
        us_core_param("Encounter", "status", "token", "status"),
        us_core_param("Encounter", "discharge-disposition", "token", "hospitalization.dischargeDisposition"),
        us_core_param("Encounter", "location", "reference", "location.location", targets=("Location",)),
        base_param(
            "Encounter-practitioner", "practitioner", "reference", "participant.individual", targets=("Practitioner",)
        ),
    ),
    includes=("Encounter:practitioner",),
    words=Words("Visits", "your visits to the practice: when, with whom and why"),
    care_date="date",
    section=RecordSection(
        "visits",
        "Visits",
        75,
        "46240-8",
        "History of Hospitalizations+Outpatient visits Narrative",
        "No visits are on file.",
        # IPS 1.1 defines no section for encounters (https://hl7.org/fhir/uv/ips/ Composition slices).
        ips=False,
    ),
)
