"""Chart ``orders`` row (an order or referral) -> US Core 6.1.0 ServiceRequest."""

from . import codes
from ._common import (
    US_CORE_PROFILE,
    RecordSection,
    ResourceType,
    Words,
    codeable,
    coding,
    compact,
    encounter_reference,
    lookup,
    lookup_optional,
    meta,
    reference,
    subject_params,
    us_core_param,
)

PROFILE = US_CORE_PROFILE + "us-core-servicerequest"


def to_fhir(row, ctx):
    """Return the ServiceRequest resource for one ``orders`` row, or None when its results are withheld."""
    if ctx.get("withheld"):
        return None
    system = lookup(codes.ORDER_CODE_SYSTEM, row["code_system"], "ServiceRequest.code")
    category = lookup(codes.ORDER_CATEGORY, row["category"], "ServiceRequest.category")
    reason = codeable(coding(codes.ICD10CM, codes.icd10cm(row["reason_icd10"])), text=row["reason_text"])
    return compact(
        {
            "resourceType": "ServiceRequest",
            "id": row["uid"],
            "meta": meta(PROFILE),
            "identifier": [order_number(row["order_number"], ctx["mrn_system"])],
            "status": lookup(codes.ORDER_STATUS, row["status"], "ServiceRequest.status"),
            "intent": lookup(codes.ORDER_INTENT, row["intent"], "ServiceRequest.intent"),
            "category": [codeable(coding(*category))],
            "priority": lookup_optional(codes.ORDER_PRIORITY, row["priority"]),
            "code": codeable(coding(system, row["code"]), text=row["description"]),
            "subject": reference("Patient", ctx["patient"]),
            "encounter": encounter_reference(ctx),
            "occurrenceDateTime": row["occurrence_at"],
            "authoredOn": row["ordered_at"],
            "requester": reference("Practitioner", ctx.get("provider")),
            "reasonCode": [reason],
        }
    )


def order_number(value, mrn_system):
    """Return the placer order number Identifier, in a system beside the practice's MRN system."""
    if not value or not mrn_system:
        return None
    # As with visit numbers (mappers.encounter): a sub-namespace of the practice's own authority.
    system = f"{mrn_system}.2" if mrn_system.startswith("urn:oid:") else f"{mrn_system.rstrip('/')}/order"
    kind = codeable(coding(codes.IDENTIFIER_TYPE, "PLAC", "Placer Identifier"))
    return {"use": "usual", "type": kind, "system": system, "value": value}


RESOURCE = ResourceType(
    name="ServiceRequest",
    table="orders",
    to_fhir=to_fhir,
    profiles=(PROFILE,),
    search_params=(
        *subject_params("ServiceRequest"),
        us_core_param("ServiceRequest", "category", "token", "category"),
        us_core_param("ServiceRequest", "code", "token", "code"),
        us_core_param("ServiceRequest", "authored", "date", "authoredOn"),
        us_core_param("ServiceRequest", "status", "token", "status"),
    ),
    words=Words("Orders and referrals", "tests, procedures and referrals your providers ordered"),
    care_date="authored",
    section=RecordSection(
        "orders",
        "Referrals and orders",
        77,
        "18776-5",
        "Plan of care note",
        "No orders or referrals are on file.",
        ips=False,
    ),
)
