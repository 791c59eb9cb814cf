"""Chart ``providers`` row -> US Core Practitioner."""

from . import codes
from ._common import (
    US_CORE_PROFILE,
    ResourceType,
    Words,
    base_param,
    codeable,
    compact,
    data_absent,
    meta,
    us_core_param,
)

PROFILE = US_CORE_PROFILE + "us-core-practitioner"


def to_fhir(row, ctx):
    """Return the Practitioner resource for one ``providers`` row."""
    credentials = split_credentials(row["credentials"])
    return compact(
        {
            "resourceType": "Practitioner",
            "id": row["uid"],
            "meta": meta(PROFILE),
            "identifier": [npi(row["npi"])],
            "name": [
                {
                    "use": "official",
                    "family": row["last_name"],
                    "given": [row["first_name"]],
                    "prefix": [row["prefix"]],
                    "suffix": credentials,
                }
            ],
            "telecom": [
                {"system": "phone", "value": row["phone"], "use": "work"} if row["phone"] else None,
                {"system": "email", "value": row["email"], "use": "work"} if row["email"] else None,
            ],
            "qualification": [{"code": codeable(text=credential)} for credential in credentials],
        }
    )


def npi(value):
    """Return the NPI Identifier; US Core 3.1.1 requires one, so a missing NPI is marked absent."""
    if value:
        return {"system": codes.NPI, "value": value}
    # Practitioner.identifier is 1..* with system and value 1..1 in US Core 3.1.1 (Missing Data).
    return {"system": codes.NPI, "_value": data_absent()}


def split_credentials(credentials):
    """Return charted credentials ('MD, FACP') as a list of suffixes (['MD', 'FACP'])."""
    if not credentials:
        return []
    return [part.strip() for part in credentials.replace(";", ",").split(",") if part.strip()]


RESOURCE = ResourceType(
    name="Practitioner",
    table="providers",
    to_fhir=to_fhir,
    profiles=(PROFILE,),
    search_params=(
        us_core_param("Practitioner", "name", "string", "name"),
        us_core_param("Practitioner", "identifier", "token", "identifier"),
        base_param("individual-family", "family", "string", "name.family"),
        base_param("individual-given", "given", "string", "name.given"),
    ),
    compartment=False,
    words=Words("Care team", "names and contact details of clinicians"),
)
