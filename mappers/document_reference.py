"""Chart ``clinical_notes`` row -> US Core DocumentReference (clinical notes, US Core 6.1.0).

Every signed note or narrative report becomes a DocumentReference whose one attachment is the note's document,
served as ``Binary/<note uid>`` (the same id as the DocumentReference; see gateway.fhir.binary). Report kinds
(cardiology, pathology, radiology) are also DiagnosticReport notes (mappers.report_note) that point at the very
same Binary, as US Core's Clinical Notes guidance asks ("the same attachment" in both).
"""

from . import codes
from ._common import (
    US_CORE_PROFILE,
    Kind,
    RecordSection,
    ResourceType,
    UnmappableValue,
    Words,
    codeable,
    coding,
    compact,
    confidentiality,
    encounter_reference,
    lookup,
    meta,
    period,
    reference,
    subject_params,
    us_core_param,
)

PROFILE = US_CORE_PROFILE + "us-core-documentreference"
DOCREF_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category"
FORMAT_CODE = "http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode"
# IHE's format code for a document whose MIME type says all a reader needs (plain text, HTML, PDF).
MIME_TYPE_SUFFICIENT = ("urn:ihe:iti:xds:2017:mimeTypeSufficient", "mimeType Sufficient")
# The five note types of US Core's Clinical Notes guidance (LOINC), by the note_loinc the chart keeps.
NOTE_TYPES = {
    "11488-4": "Consult note",
    "18842-5": "Discharge summary",
    "34117-2": "History and physical note",
    "28570-0": "Procedure note",
    "11506-3": "Progress note",
}
# The three report kinds (LOINC part codes, US Core DiagnosticReport category) a narrative report may be.
# Keys are lower case, as lookup() folds the chart value.
REPORT_KINDS = {"lp29708-2": "Cardiology", "lp7839-6": "Pathology", "lp29684-5": "Radiology"}
CONTENT_TYPES = ("text/plain", "text/html", "application/pdf")
MAX_BODY_BYTES = 5 * 2**20  # a note's document is at most 5 MiB (the chart refuses larger ones)
# chart status -> (DocumentReference.status, docStatus)
NOTE_STATUS = {
    "signed": ("current", "final"),
    "preliminary": ("current", "preliminary"),
    "amended": ("current", "amended"),
    "superseded": ("superseded", "final"),
    "entered in error": ("entered-in-error", None),
}


def binary_url(row):
    """The attachment URL of a note's document: ``Binary/<note uid>`` (relative to the FHIR base)."""
    return f"Binary/{row['uid']}"


def note_type(row):
    """The LOINC CodeableConcept of a note's type (its report LOINC for a narrative report)."""
    loinc = row["note_loinc"]
    return codeable(coding(codes.LOINC, loinc, NOTE_TYPES.get(loinc)), text=row["title"])


def to_fhir(row, ctx):
    """Return the DocumentReference for one ``clinical_notes`` row, or None when not shared with the patient."""
    if not row["shared_with_patient"]:
        return None
    status, doc_status = lookup(NOTE_STATUS, row["status"], "DocumentReference.status")
    content_type = row["content_type"]
    if content_type not in CONTENT_TYPES:
        lookup({}, content_type, "DocumentReference.content.attachment.contentType")
    size = len(row["body"].encode() if isinstance(row["body"], str) else row["body"])
    if size > MAX_BODY_BYTES:
        raise UnmappableValue(f"DocumentReference.content.attachment: {size} bytes, over the {MAX_BODY_BYTES} cap")
    return compact(
        {
            "resourceType": "DocumentReference",
            "id": row["uid"],
            # A note the clinician marked confidential carries it (a representative's limited record leaves it out).
            "meta": {**(meta(PROFILE) or {}), "security": confidentiality(row.get("confidentiality"))},
            "identifier": [{"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{row['uid']}"}],
            "status": status,
            "docStatus": doc_status,
            "type": note_type(row),
            "category": [codeable(coding(DOCREF_CATEGORY, "clinical-note", "Clinical Note"))],
            "subject": reference("Patient", ctx["patient"]),
            "date": row["signed_at"],
            "author": [reference("Practitioner", ctx.get("provider"))],
            "custodian": reference("Organization", ctx.get("organization")),
            "description": row["title"],
            "content": [
                {
                    "attachment": {"contentType": content_type, "url": binary_url(row), "title": row["title"]},
                    "format": coding(FORMAT_CODE, *MIME_TYPE_SUFFICIENT),
                }
            ],
            "context": {
                "encounter": [encounter_reference(ctx)],
                "period": period(row["service_start"], row["service_end"]),
            },
        }
    )


RESOURCE = ResourceType(
    name="DocumentReference",
    table="clinical_notes",
    to_fhir=to_fhir,
    profiles=(PROFILE,),
    search_params=(
        *subject_params("DocumentReference"),
        us_core_param("DocumentReference", "category", "token", "category"),
        us_core_param("DocumentReference", "date", "date", "date"),
        us_core_param("DocumentReference", "period", "date", "context.period"),
        us_core_param("DocumentReference", "status", "token", "status"),
        us_core_param("DocumentReference", "type", "token", "type"),
    ),
    words=Words("Visit notes", "your clinicians' notes and reports, with their documents"),
    kinds=(Kind(DOCREF_CATEGORY, "clinical-note", "Clinical notes"),),
    care_date="date",
    section=RecordSection(
        "notes",
        "Visit notes",
        76,
        "11506-3",
        "Progress note",
        "No visit notes have been shared with you yet.",
        ips=False,
    ),
)
