"""Chart ``insurance_policies`` row -> US Core Coverage (a health insurance policy on file)."""

from . import codes
from ._common import (
    US_CORE_PROFILE,
    Entry,
    RecordSection,
    ResourceType,
    Words,
    codeable,
    coding,
    compact,
    lookup,
    meta,
    patient_param,
    period,
    reference,
)

PROFILE = US_CORE_PROFILE + "us-core-coverage"
PAYER_ID_SYSTEM = "urn:oid:2.16.840.1.113883.6.300"  # NAIC company codes


def to_fhir(row, ctx):
    """Return the Coverage resource for one ``insurance_policies`` row."""
    relationship = lookup(codes.COVERAGE_RELATIONSHIP, row["relationship"], "Coverage.relationship")
    return compact(
        {
            "resourceType": "Coverage",
            "id": row["uid"],
            "meta": meta(PROFILE),
            "identifier": [member_id(row["member_id"])],
            "status": lookup(codes.COVERAGE_STATUS, row["status"], "Coverage.status"),
            "type": codeable(
                coding(codes.PAYMENT_TYPOLOGY, row["payment_type_code"], row["payment_type_name"]),
            ),
            "subscriberId": row["subscriber_id"] or (row["member_id"] if relationship == "self" else None),
            "beneficiary": reference("Patient", ctx["patient"]),
            "relationship": codeable(coding(codes.SUBSCRIBER_RELATIONSHIP, relationship)),
            "period": period(row["period_start"], row["period_end"]),
            # The payer is a logical reference (identifier and name): the chart keeps no payer directory,
            # and Reference.identifier is allowed wherever a literal reference is (FHIR R4 §2.3.0.1).
            "payor": [payor(row)],
            "class": [
                coverage_class("group", row["group_number"], row["group_name"]),
                coverage_class("plan", row["plan_code"], row["plan_name"]),
            ],
        }
    )


def member_id(value):
    """Return the member-id Identifier US Core slices on (type MB)."""
    if not value:
        return None
    kind = codeable(coding(codes.V2_IDENTIFIER_TYPE, "MB", "Member Number"))
    return {"type": kind, "value": value}


def payor(row):
    """Return the payer as a display reference to an Organization, with its payer id when charted."""
    identifier = {"system": PAYER_ID_SYSTEM, "value": row["payer_id"]} if row["payer_id"] else None
    return {"type": "Organization", "identifier": identifier, "display": row["payer_name"]}


def coverage_class(kind, value, name):
    """Return a Coverage.class entry (group or plan), or None when the chart has no value."""
    if not value:
        return None
    return {"type": codeable(coding(codes.COVERAGE_CLASS, kind)), "value": value, "name": name}


RESOURCE = ResourceType(
    name="Coverage",
    table="insurance_policies",
    to_fhir=to_fhir,
    profiles=(PROFILE,),
    search_params=(patient_param("Coverage", "beneficiary"),),
    words=Words("Insurance", "the health insurance on file"),
    care_date=None,
    section=RecordSection(
        "insurance",
        "Insurance",
        95,
        "48768-6",
        "Payment sources",
        "No insurance is on file.",
        entry=Entry("payor.display", "status", "period.start"),
    ),
)
