"""Chart ``patient_contacts`` row -> US Core RelatedPerson (a guardian, parent, spouse or caregiver)."""

from . import codes
from ._common import (
    US_CORE_PROFILE,
    ResourceType,
    SearchParam,
    Words,
    codeable,
    coding,
    compact,
    lookup,
    meta,
    patient_param,
    reference,
    us_core_param,
)

PROFILE = US_CORE_PROFILE + "us-core-relatedperson"


def to_fhir(row, ctx):
    """Return the RelatedPerson resource for one ``patient_contacts`` row."""
    code, display = lookup(codes.CONTACT_RELATIONSHIP, row["relationship_code"], "RelatedPerson.relationship")
    return compact(
        {
            "resourceType": "RelatedPerson",
            "id": row["uid"],
            "meta": meta(PROFILE),
            "active": bool(row["active"]),
            "patient": reference("Patient", ctx["patient"]),
            "relationship": [codeable(coding(codes.V3_ROLE_CODE, code, display))],
            "name": [{"family": row["last_name"], "given": [row["first_name"]]}],
            "telecom": [
                {"system": "phone", "value": row["phone"]} if row["phone"] else None,
                {"system": "email", "value": row["email"]} if row["email"] else None,
            ],
            "address": [address(row)],
        }
    )


def address(row):
    """Return the contact's Address, or None when no part of it is charted."""
    parts = {
        "line": [row["address_line"]],
        "city": row["city"],
        "state": row["state"],
        "postalCode": row["postal_code"],
    }
    return {**parts, "country": "US"} if compact(parts) else None


RESOURCE = ResourceType(
    name="RelatedPerson",
    table="patient_contacts",
    to_fhir=to_fhir,
    profiles=(PROFILE,),
    search_params=(
        patient_param("RelatedPerson", "patient"),
        us_core_param("RelatedPerson", "name", "string", "name"),
        SearchParam(
            "relationship", "token", ("relationship",), "http://hl7.org/fhir/SearchParameter/RelatedPerson-relationship"
        ),
    ),
    words=Words("Contacts", "the family members, guardians and caregivers on file"),
)
