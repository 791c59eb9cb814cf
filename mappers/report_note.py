"""Chart ``clinical_notes`` row of a report kind -> US Core DiagnosticReport Profile for Report and Note Exchange.

Not a registered type of its own: mappers.diagnostic_report lists it as a second ``Source`` of DiagnosticReport.
Only notes with a ``report_kind`` (cardiology, pathology, radiology) are reports; the rest map to None. The
report's presentedForm is the same ``Binary/<note uid>`` as its DocumentReference's attachment (US Core 6.1.0
Clinical Notes: "the same Binary resource ... referenced by both").
"""

from . import codes
from ._common import (
    US_CORE_PROFILE,
    codeable,
    coding,
    compact,
    confidentiality,
    encounter_reference,
    lookup,
    meta,
    reference,
)
from .document_reference import REPORT_KINDS, binary_url

PROFILE = US_CORE_PROFILE + "us-core-diagnosticreport-note"
# chart note status -> DiagnosticReport.status
REPORT_NOTE_STATUS = {
    "signed": "final",
    "preliminary": "preliminary",
    "amended": "amended",
    "superseded": "final",
    "entered in error": "entered-in-error",
}


def to_fhir(row, ctx):
    """Return the DiagnosticReport note of a report-kind ``clinical_notes`` row, or None for other rows."""
    kind = row["report_kind"]
    if not kind or not row["shared_with_patient"]:
        return None
    category = coding(codes.LOINC, kind, lookup(REPORT_KINDS, kind.lower(), "DiagnosticReport.category"))
    return compact(
        {
            "resourceType": "DiagnosticReport",
            "id": row["uid"],
            # A note the clinician marked confidential carries it (a representative's limited record leaves it out).
            "meta": {**(meta(PROFILE) or {}), "security": confidentiality(row.get("confidentiality"))},
            "status": lookup(REPORT_NOTE_STATUS, row["status"], "DiagnosticReport.status"),
            "category": [codeable(category)],
            "code": codeable(coding(codes.LOINC, row["report_loinc"]), text=row["title"]),
            "subject": reference("Patient", ctx["patient"]),
            "encounter": encounter_reference(ctx),
            "effectiveDateTime": row["service_start"] or row["signed_at"],
            "issued": row["signed_at"],
            "performer": [reference("Practitioner", ctx.get("provider"))],
            "presentedForm": [{"contentType": row["content_type"], "url": binary_url(row), "title": row["title"]}],
        }
    )
