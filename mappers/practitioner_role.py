"""Chart ``provider_roles`` row (a clinician's role at one of the practice's sites) -> US Core PractitionerRole."""

from . import codes
from ._common import (
    US_CORE_PROFILE,
    ResourceType,
    Words,
    base_param,
    codeable,
    coding,
    compact,
    meta,
    reference,
    us_core_param,
)

PROFILE = US_CORE_PROFILE + "us-core-practitionerrole"


def to_fhir(row, ctx):
    """Return the PractitionerRole resource for one ``provider_roles`` row."""
    return compact(
        {
            "resourceType": "PractitionerRole",
            "id": row["uid"],
            "meta": meta(PROFILE),
            "active": bool(row["active"]),
            "practitioner": reference("Practitioner", ctx.get("provider")),
            "organization": reference("Organization", ctx["organization"]),
            # SNOMED CT care team member functions (US Core 6.1.0 binds VSAC 2.16.840.1.113762.1.4.1099.30).
            "code": [codeable(coding(codes.SNOMED, row["role_code"], row["role_name"]), text=row["role_name"])],
            # NUCC provider taxonomy (US Core binds VSAC 2.16.840.1.114222.4.11.1066, the NUCC codes).
            "specialty": [
                codeable(
                    coding(codes.NUCC_TAXONOMY, row["specialty_code"], row["specialty_name"]),
                    text=row["specialty_name"],
                )
            ],
            "location": [reference("Location", ctx.get("location"))],
            # pd-1 (US Core 3.1.1 and 6.1.0): SHALL have contact information or a reference to an Endpoint.
            "telecom": [
                {"system": "phone", "value": row["phone"], "use": "work"} if row["phone"] else None,
                {"system": "email", "value": row["email"], "use": "work"} if row["email"] else None,
            ],
        }
    )


RESOURCE = ResourceType(
    name="PractitionerRole",
    table="provider_roles",
    to_fhir=to_fhir,
    profiles=(PROFILE,),
    search_params=(
        us_core_param("PractitionerRole", "specialty", "token", "specialty"),
        us_core_param("PractitionerRole", "practitioner", "reference", "practitioner", targets=("Practitioner",)),
        base_param("PractitionerRole-location", "location", "reference", "location", targets=("Location",)),
        base_param(
            "PractitionerRole-organization", "organization", "reference", "organization", targets=("Organization",)
        ),
        # No Endpoints are served, so _include=PractitionerRole:endpoint (SHOULD in 6.1.0) adds nothing.
        base_param("PractitionerRole-endpoint", "endpoint", "reference", "endpoint", targets=("Endpoint",)),
    ),
    includes=("PractitionerRole:practitioner", "PractitionerRole:endpoint", "PractitionerRole:location"),
    compartment=False,
    practice_directory=True,
    words=Words("Clinician roles", "clinicians' specialties, sites and contact details"),
)
