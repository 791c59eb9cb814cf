"""Chart ``practices`` row -> US Core Organization."""

from . import codes
from ._common import (
    US_CORE_PROFILE,
    ResourceType,
    Words,
    base_param,
    compact,
    meta,
    us_core_param,
)

PROFILE = US_CORE_PROFILE + "us-core-organization"


def to_fhir(row, ctx):
    """Return the Organization resource for one ``practices`` row."""
    return compact(
        {
            "resourceType": "Organization",
            "id": row["uid"],
            "meta": meta(PROFILE),
            "identifier": [npi(row["npi"])],
            # A practice in the chart is a practice the gateway serves; the schema has no inactive flag.
            "active": True,
            "name": row["name"],
            "telecom": [
                {"system": "phone", "value": row["phone"], "use": "work"} if row["phone"] else None,
                {"system": "email", "value": row["email"], "use": "work"} if row["email"] else None,
            ],
            "address": [work_address(row)],
        }
    )


def npi(value):
    """Return the National Provider Identifier, or None."""
    return {"system": codes.NPI, "value": value} if value else None


def work_address(row):
    """Return the work Address, or None when no part of it is charted."""
    parts = {
        "line": [row["address_line"]],
        "city": row["city"],
        "state": row["state"],
        "postalCode": row["postal_code"],
    }
    if not compact(parts):
        return None
    return {"use": "work", **parts, "country": "US"}


RESOURCE = ResourceType(
    name="Organization",
    table="practices",
    to_fhir=to_fhir,
    profiles=(PROFILE,),
    search_params=(
        us_core_param("Organization", "name", "string", "name"),
        us_core_param("Organization", "address", "string", "address"),
        base_param("Organization-identifier", "identifier", "token", "identifier"),
    ),
    compartment=False,
    words=Words("Practices", "names and addresses of practices"),
)
