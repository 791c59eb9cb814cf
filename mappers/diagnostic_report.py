"""Chart ``lab_results`` row -> US Core DiagnosticReport for Laboratory Results Reporting."""

from . import codes, report_note
from ._common import (
    US_CORE_PROFILE,
    RecordSection,
    ResourceType,
    Source,
    Words,
    base_param,
    codeable,
    coding,
    compact,
    data_absent,
    display_reference,
    encounter_reference,
    lookup,
    meta,
    order_reference,
    reference,
    specimen_reference,
    subject_params,
    us_core_param,
)

PROFILE = US_CORE_PROFILE + "us-core-diagnosticreport-lab"


def to_fhir(row, ctx):
    """Return the DiagnosticReport for one ``lab_results`` row, or None if not shared with the patient."""
    if not row["shared_with_patient"]:
        return None
    return compact(
        {
            "resourceType": "DiagnosticReport",
            "id": row["uid"],
            "meta": meta(PROFILE),
            "basedOn": order_reference(ctx),
            "status": lookup(codes.REPORT_STATUS, row["status"], "DiagnosticReport.status"),
            "category": [codeable(coding(codes.DIAGNOSTIC_SERVICE, "LAB", "Laboratory"))],
            "code": codeable(coding(codes.LOINC, row["panel_loinc"]), text=row["panel_name"]),
            "subject": reference("Patient", ctx["patient"]),
            "encounter": encounter_reference(ctx),
            "effectiveDateTime": row["collected_at"],
            # US Core 3.1.1 makes issued 1..1 (6.1: Must Support); Missing Data asks for an absent reason.
            "issued": row["reported_at"],
            "_issued": None if row["reported_at"] else data_absent(),
            "performer": [
                reference("Practitioner", ctx.get("provider")),
                performing_lab(row, ctx),
            ],
            "specimen": [specimen_reference(ctx)],
            "result": [reference("Observation", result_id) for result_id in ctx.get("result_ids") or ()],
            "conclusion": row["conclusion"],
        }
    )


def performing_lab(row, ctx):
    """Return the performing lab: the practice's Organization when its own lab ran it, else a name only."""
    practice = reference("Organization", ctx.get("organization"))
    if row["performed_in_house"] and practice:
        return {**practice, "display": row["performing_lab"]}
    return display_reference("Organization", row["performing_lab"])


RESOURCE = ResourceType(
    name="DiagnosticReport",
    table="lab_results",
    to_fhir=to_fhir,
    sources=(Source("clinical_notes", report_note.to_fhir),),
    profiles=(PROFILE, report_note.PROFILE),
    search_params=(
        *subject_params("DiagnosticReport"),
        us_core_param("DiagnosticReport", "category", "token", "category"),
        us_core_param("DiagnosticReport", "code", "token", "code"),
        us_core_param("DiagnosticReport", "date", "date", "effectiveDateTime", "effectivePeriod"),
        us_core_param("DiagnosticReport", "status", "token", "status"),
        base_param("DiagnosticReport-result", "result", "reference", "result", targets=("Observation",)),
    ),
    includes=("DiagnosticReport:result",),
    words=Words("Lab reports", "lab panels and their conclusions"),
    care_date="date",
    section=RecordSection(
        "lab-results",
        "Lab results",
        70,
        "30954-2",
        "Relevant diagnostic tests/laboratory data Narrative",
        "No lab results have been shared with you yet.",
        also=("Observation",),
    ),
)
