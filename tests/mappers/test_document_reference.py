import pytest

from mappers import UnmappableValue
from mappers.diagnostic_report import RESOURCE as REPORT
from mappers.document_reference import RESOURCE, to_fhir
from mappers.report_note import to_fhir as report_to_fhir

PROGRESS = dict(
    uid="note-1",
    note_loinc="11506-3",
    status="signed",
    signed_at="2024-03-05T10:40:00Z",
    service_start="2024-03-05T10:00:00Z",
    service_end="2024-03-05T10:30:00Z",
    title="Diabetes follow-up",
    content_type="text/plain",
    body=b"A1c improved to 7.1%.",
)
RADIOLOGY = dict(
    uid="note-2",
    note_loinc="18748-4",
    report_kind="LP29684-5",
    report_loinc="36643-5",
    status="signed",
    signed_at="2024-04-02T15:00:00Z",
    service_start="2024-04-02T14:10:00Z",
    title="Chest X-ray, 2 views",
    content_type="application/pdf",
    body=b"%PDF-1.4",
)


def test_progress_note_is_a_us_core_document_reference(chart_row, ctx, validate, assert_searchable):
    ctx["links"] = {"encounter_id": "enc-5"}
    doc = validate(to_fhir(chart_row("clinical_notes", **PROGRESS), ctx))

    assert doc == {
        "resourceType": "DocumentReference",
        "id": "note-1",
        "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-documentreference"]},
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": "urn:uuid:note-1"}],
        "status": "current",
        "docStatus": "final",
        "type": {
            "coding": [{"system": "http://loinc.org", "code": "11506-3", "display": "Progress note"}],
            "text": "Diabetes follow-up",
        },
        "category": [
            {
                "coding": [
                    {
                        "system": "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category",
                        "code": "clinical-note",
                        "display": "Clinical Note",
                    }
                ]
            }
        ],
        "subject": {"reference": "Patient/pat-7f3a"},
        "date": "2024-03-05T10:40:00Z",
        "author": [{"reference": "Practitioner/prac-9d0e"}],
        "custodian": {"reference": "Organization/org-11c2"},
        "description": "Diabetes follow-up",
        "content": [
            {
                "attachment": {"contentType": "text/plain", "url": "Binary/note-1", "title": "Diabetes follow-up"},
                "format": {
                    "system": "http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode",
                    "code": "urn:ihe:iti:xds:2017:mimeTypeSufficient",
                    "display": "mimeType Sufficient",
                },
            }
        ],
        "context": {
            "encounter": [{"reference": "Encounter/enc-5"}],
            "period": {"start": "2024-03-05T10:00:00Z", "end": "2024-03-05T10:30:00Z"},
        },
    }
    assert_searchable(doc, RESOURCE)
    assert report_to_fhir(chart_row("clinical_notes", **PROGRESS), ctx) is None


def test_radiology_report_is_also_a_diagnostic_report_note_sharing_the_binary(chart_row, ctx, validate):
    row = chart_row("clinical_notes", **RADIOLOGY)
    doc = validate(to_fhir(row, ctx))
    report = validate(report_to_fhir(row, ctx))

    assert report == {
        "resourceType": "DiagnosticReport",
        "id": "note-2",
        "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-diagnosticreport-note"]},
        "status": "final",
        "category": [{"coding": [{"system": "http://loinc.org", "code": "LP29684-5", "display": "Radiology"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "36643-5"}], "text": "Chest X-ray, 2 views"},
        "subject": {"reference": "Patient/pat-7f3a"},
        "effectiveDateTime": "2024-04-02T14:10:00Z",
        "issued": "2024-04-02T15:00:00Z",
        "performer": [{"reference": "Practitioner/prac-9d0e"}],
        "presentedForm": [{"contentType": "application/pdf", "url": "Binary/note-2", "title": "Chest X-ray, 2 views"}],
    }
    assert doc["content"][0]["attachment"]["url"] == report["presentedForm"][0]["url"]
    assert REPORT.mapper("clinical_notes") is report_to_fhir


@pytest.mark.parametrize(
    ("status", "expected"),
    [("preliminary", ("current", "preliminary")), ("entered in error", ("entered-in-error", None))],
)
def test_status_and_doc_status(chart_row, ctx, status, expected):
    doc = to_fhir(chart_row("clinical_notes", **{**PROGRESS, "status": status}), ctx)
    assert (doc["status"], doc.get("docStatus")) == expected


def test_unshared_note_is_not_projected(chart_row, ctx):
    row = chart_row("clinical_notes", **{**RADIOLOGY, "shared_with_patient": 0})
    assert (to_fhir(row, ctx), report_to_fhir(row, ctx)) == (None, None)


def test_unknown_content_type_and_status_name_the_element(chart_row, ctx):
    with pytest.raises(UnmappableValue, match=r"attachment.contentType: no FHIR code for chart value 'image/tiff'"):
        to_fhir(chart_row("clinical_notes", **{**PROGRESS, "content_type": "image/tiff"}), ctx)
    with pytest.raises(UnmappableValue, match=r"DocumentReference.status: no FHIR code for chart value 'draft'"):
        to_fhir(chart_row("clinical_notes", **{**PROGRESS, "status": "draft"}), ctx)


def test_a_document_over_five_mib_is_refused_when_charted(chart_row, ctx):
    big = chart_row("clinical_notes", **{**PROGRESS, "body": b"x" * (5 * 2**20 + 1)})
    with pytest.raises(UnmappableValue, match=r"attachment: 5242881 bytes, over the 5242880 cap"):
        to_fhir(big, ctx)
    assert to_fhir({**big, "body": b"x" * 5 * 2**20}, ctx)["id"] == "note-1"
