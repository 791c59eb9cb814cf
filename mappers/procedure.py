"""Chart ``procedures`` row -> US Core Procedure."""

from . import codes
from ._common import (
    US_CORE_PROFILE,
    RecordSection,
    ResourceType,
    Words,
    codeable,
    coding,
    compact,
    data_absent,
    encounter_reference,
    lookup,
    meta,
    order_reference,
    period,
    reference,
    subject_params,
    us_core_param,
)

PROFILE = US_CORE_PROFILE + "us-core-procedure"


def to_fhir(row, ctx):
    """Return the Procedure resource for one ``procedures`` row."""
    system = lookup(codes.PROCEDURE_CODE_SYSTEM, row["code_system"], "Procedure.code")
    reason = codeable(coding(codes.ICD10CM, codes.icd10cm(row["reason_icd10"])), text=row["reason_text"])
    return compact(
        {
            "resourceType": "Procedure",
            "id": row["uid"],
            "meta": meta(PROFILE),
            "basedOn": order_reference(ctx),
            "status": lookup(codes.PROCEDURE_STATUS, row["status"], "Procedure.status"),
            "code": codeable(coding(system, row["code"]), text=row["description"]),
            "subject": reference("Patient", ctx["patient"]),
            "encounter": encounter_reference(ctx),
            **performed(row["performed_at"], row["performed_end"]),
            "performer": [{"actor": reference("Practitioner", ctx.get("provider"))}],
            "reasonCode": [reason],
        }
    )


def performed(start, end):
    """Return the performed[x] element: a Period when an end is charted, else a dateTime."""
    if end:
        return {"performedPeriod": period(start, end)}
    if start:
        return {"performedDateTime": start}
    # US Core 3.1.1 makes performed[x] 1..1; its Missing Data rule asks for a data-absent-reason.
    return {"_performedDateTime": data_absent()}


RESOURCE = ResourceType(
    name="Procedure",
    table="procedures",
    to_fhir=to_fhir,
    profiles=(PROFILE,),
    search_params=(
        *subject_params("Procedure"),
        us_core_param("Procedure", "date", "date", "performedDateTime", "performedPeriod"),
        us_core_param("Procedure", "status", "token", "status"),
        us_core_param("Procedure", "code", "token", "code"),
    ),
    words=Words("Procedures", "operations and other procedures"),
    care_date="date",
    section=RecordSection(
        "procedures",
        "Procedures",
        50,
        "47519-4",
        "History of Procedures Document",
        "No procedures are on file.",
    ),
)
