"""Chart ``specimens`` row (a lab accession) -> US Core 6.1.0 Specimen."""

from . import codes
from ._common import (
    US_CORE_PROFILE,
    ResourceType,
    Words,
    base_param,
    codeable,
    coding,
    compact,
    lookup,
    meta,
    reference,
    subject_params,
)

PROFILE = US_CORE_PROFILE + "us-core-specimen"


def to_fhir(row, ctx):
    """Return the Specimen resource for one ``specimens`` row, or None when its results are withheld."""
    if ctx.get("withheld"):
        return None
    return compact(
        {
            "resourceType": "Specimen",
            "id": row["uid"],
            "meta": meta(PROFILE),
            "accessionIdentifier": accession(row["accession_number"], ctx["mrn_system"]),
            # type is 1..1 in US Core 6.1.0 (SNOMED CT specimen types, extensible): an uncoded type keeps its text.
            "type": codeable(
                coding(codes.SNOMED, row["type_code"]) if row["type_code"] else None, text=row["type_text"]
            ),
            "subject": reference("Patient", ctx["patient"]),
            "receivedTime": row["received_at"],
            "collection": {
                "collectedDateTime": row["collected_at"],
                "bodySite": codeable(
                    coding(codes.SNOMED, row["body_site_code"]) if row["body_site_code"] else None,
                    text=row["body_site_text"],
                ),
            },
            "condition": [condition(row["condition"])],
        }
    )


def accession(value, mrn_system):
    """Return the accession number Identifier, in a system beside the practice's MRN system."""
    if not value or not mrn_system:
        return None
    system = f"{mrn_system}.3" if mrn_system.startswith("urn:oid:") else f"{mrn_system.rstrip('/')}/accession"
    kind = codeable(coding(codes.IDENTIFIER_TYPE, "ACSN", "Accession ID"))
    return {"type": kind, "system": system, "value": value}


def condition(value):
    """Return the specimen's condition on receipt (v2-0493), or None."""
    if not value:
        return None
    code, display = lookup(codes.SPECIMEN_CONDITION, value, "Specimen.condition")
    return codeable(coding(codes.SPECIMEN_CONDITION_SYSTEM, code, display))


RESOURCE = ResourceType(
    name="Specimen",
    table="specimens",
    to_fhir=to_fhir,
    profiles=(PROFILE,),
    # US Core 6.1.0: _id SHALL, patient SHOULD (CapabilityStatement us-core-server).
    search_params=(
        *subject_params("Specimen"),
        base_param("Specimen-collected", "collected", "date", "collection.collectedDateTime"),
    ),
    words=Words("Specimens", "the samples your lab tests were run on"),
    care_date="collected",
)
