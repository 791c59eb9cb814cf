"""Chart ``locations`` row (one of a practice's sites) -> US Core Location."""

from . import codes
from ._common import (
    US_CORE_PROFILE,
    ResourceType,
    Words,
    codeable,
    coding,
    compact,
    lookup,
    meta,
    reference,
    us_core_param,
)

PROFILE = US_CORE_PROFILE + "us-core-location"


def to_fhir(row, ctx):
    """Return the Location resource for one ``locations`` row."""
    return compact(
        {
            "resourceType": "Location",
            "id": row["uid"],
            "meta": meta(PROFILE),
            "status": lookup(codes.LOCATION_STATUS, row["status"], "Location.status"),
            "name": row["name"],
            "mode": "instance",
            # HL7 v3 ServiceDeliveryLocationRoleType, the base Location.type binding (extensible).
            "type": [codeable(coding(codes.ROLE_CODE, row["site_type_code"], row["site_type"]), text=row["site_type"])],
            "telecom": [
                {"system": "phone", "value": row["phone"], "use": "work"} if row["phone"] else None,
                {"system": "email", "value": row["email"], "use": "work"} if row["email"] else None,
            ],
            "address": address(row),
            "managingOrganization": reference("Organization", ctx["organization"]),
        }
    )


def address(row):
    """Return the site's work Address, or None when no part of it is charted."""
    parts = {
        "line": [row["address_line"]],
        "city": row["city"],
        "state": row["state"],
        "postalCode": row["postal_code"],
    }
    if not compact(parts):
        return None
    return {"use": "work", "type": "physical", **parts, "country": "US"}


RESOURCE = ResourceType(
    name="Location",
    table="locations",
    to_fhir=to_fhir,
    profiles=(PROFILE,),
    search_params=(
        us_core_param("Location", "name", "string", "name", "alias"),
        us_core_param("Location", "address", "string", "address"),
        us_core_param("Location", "address-city", "string", "address.city"),
        us_core_param("Location", "address-state", "string", "address.state"),
        us_core_param("Location", "address-postalcode", "string", "address.postalCode"),
    ),
    compartment=False,
    practice_directory=True,
    words=Words("Practice sites", "names, addresses and phone numbers of clinic sites"),
)
