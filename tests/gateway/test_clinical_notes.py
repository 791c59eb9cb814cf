"""Clinical notes in the demo: DocumentReference searches, DiagnosticReport notes, and the Binary they share."""

import base64

import pytest

from fixtures.demo_notes import CHEST_XRAY, NOTES, pdf_report
from fixtures.demo_practice import uid
from gateway import store
from smart_auth import accounts
from tests.portal_helpers import EVERYONE, build_portal_db, fhir_ids, login, portal_client, show_record

FHIR = "/fhir"
CLINICAL_NOTE = "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category|clinical-note"


def note(handle, n):
    return uid("clinical_notes", f"{handle}:{n}")


@pytest.fixture
def find(client, auth):
    def run(rtype, query, handle):
        headers = auth(f"patient/{rtype}.rs", patient=uid("patients", handle))
        response = client.get(f"{FHIR}/{rtype}?{query}", headers=headers)
        assert response.status_code == 200, response.get_json()
        return sorted(e["resource"]["id"] for e in response.get_json().get("entry", ()))

    return run


def signed_day(demo, handle, n):
    return store.chart_rows(demo, "clinical_notes", uid=note(handle, n))[0]["signed_at"][:10]


def test_every_shared_note_is_found_by_patient_and_category(find):
    for handle, specs in NOTES.items():
        patient = uid("patients", handle)
        shared = sorted(note(handle, n) for n, spec in enumerate(specs) if spec[-1])
        assert find("DocumentReference", f"patient={patient}", handle) == shared
        assert find("DocumentReference", f"patient=Patient/{patient}&category={CLINICAL_NOTE}", handle) == shared
    assert find("DocumentReference", f"patient={uid('patients', 'linh')}", "linh") == [note("linh", 0)]


def test_searches_by_id_type_status_date_and_period(find, demo):
    patient = uid("patients", "james")
    everything = sorted(note("james", n) for n in range(3))
    assert find("DocumentReference", f"_id={note('james', 1)}", "james") == [note("james", 1)]
    assert find("DocumentReference", f"patient={patient}&type=http://loinc.org|18842-5", "james") == [note("james", 0)]
    assert find("DocumentReference", f"patient={patient}&status=current", "james") == everything
    assert find("DocumentReference", f"patient={patient}&status=superseded", "james") == []
    hospital, ekg = signed_day(demo, "james", 0), signed_day(demo, "james", 2)
    assert hospital < ekg
    query = f"patient={patient}&category=clinical-note&date="
    assert find("DocumentReference", query + f"gt{hospital}", "james") == [note("james", 2)]
    assert find("DocumentReference", query + f"le{hospital}", "james") == sorted([note("james", 0), note("james", 1)])
    assert find("DocumentReference", query + f"ge{ekg}", "james") == [note("james", 2)]
    assert find("DocumentReference", query + f"lt{hospital}", "james") == []
    assert find("DocumentReference", f"patient={patient}&type=18842-5&period=ge{hospital}", "james") == []
    assert find("DocumentReference", f"patient={patient}&type=18842-5&period=le{hospital}", "james") == [
        note("james", 0)
    ]


def test_report_notes_are_diagnostic_reports_by_category(find):
    radiology = find("DiagnosticReport", f"patient={uid('patients', 'thomas')}&category=LP29684-5", "thomas")
    assert radiology == [note("thomas", 1)]
    assert find("DiagnosticReport", f"patient={uid('patients', 'wei')}&category=http://loinc.org|LP7839-6", "wei") == [
        note("wei", 0)
    ]
    assert find("DiagnosticReport", f"patient={uid('patients', 'james')}&category=LP29708-2", "james") == [
        note("james", 2)
    ]


def test_the_report_and_the_document_share_the_binary(client, auth):
    headers = auth("patient/DiagnosticReport.rs patient/DocumentReference.rs", patient=uid("patients", "thomas"))
    report = client.get(f"{FHIR}/DiagnosticReport/{note('thomas', 1)}", headers=headers).get_json()
    doc = client.get(f"{FHIR}/DocumentReference/{note('thomas', 1)}", headers=headers).get_json()
    url = f"Binary/{note('thomas', 1)}"
    assert report["presentedForm"] == [{"contentType": "application/pdf", "url": url, "title": "Chest X-ray, 2 views"}]
    assert doc["content"][0]["attachment"]["url"] == url


def binary(client, auth, handle, n, accept, scope="patient/DocumentReference.rs", reader=None):
    headers = {**auth(scope, patient=uid("patients", reader or handle)), "Accept": accept}
    return client.get(f"{FHIR}/Binary/{note(handle, n)}", headers=headers)


def test_binary_is_the_document_in_its_own_type(client, auth):
    plain = binary(client, auth, "maria", 0, "text/plain")
    assert plain.status_code == 200
    assert plain.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert plain.data == NOTES["maria"][0][5].encode()
    html = binary(client, auth, "maria", 1, "*/*")
    assert html.headers["Content-Type"] == "text/html; charset=utf-8"
    assert html.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert html.data == NOTES["maria"][1][5].encode()
    pdf = binary(client, auth, "thomas", 1, "application/pdf")
    assert (pdf.status_code, pdf.headers["Content-Type"]) == (200, "application/pdf")
    assert pdf.data == pdf_report(CHEST_XRAY)
    assert pdf.data.startswith(b"%PDF-")


def test_binary_as_fhir_json_with_the_same_token(client, auth):
    response = binary(client, auth, "maria", 0, "application/fhir+json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/fhir+json; charset=utf-8"
    assert response.get_json() == {
        "resourceType": "Binary",
        "id": note("maria", 0),
        "contentType": "text/plain",
        "securityContext": {"reference": f"DocumentReference/{note('maria', 0)}"},
        "data": base64.b64encode(NOTES["maria"][0][5].encode()).decode(),
    }


def test_another_patients_binary_is_not_found(client, auth):
    response = binary(client, auth, "maria", 0, "text/plain", reader="sofia")
    assert response.status_code == 404
    assert response.get_json()["issue"][0]["code"] == "not-found"
    unshared = binary(client, auth, "linh", 1, "text/plain")
    assert unshared.status_code == 404


def test_binary_needs_the_document_reference_scope(client, auth):
    response = binary(client, auth, "maria", 0, "text/plain", scope="patient/Observation.rs")
    assert response.status_code == 403
    assert response.get_json()["issue"][0]["diagnostics"] == (
        "The token's scopes do not allow read on DocumentReference"
    )


def test_binary_refuses_a_format_it_cannot_give(client, auth):
    response = binary(client, auth, "maria", 0, "image/png")
    assert response.status_code == 406
    assert response.get_json()["issue"][0]["diagnostics"] == (
        "This document is text/plain; ask for it (or */*) or for application/fhir+json"
    )
    assert client.get(f"{FHIR}/Binary/{note('maria', 0)}", headers={"Accept": "text/plain"}).status_code == 401


@pytest.fixture(scope="module")
def everyone(module_db_path):
    """A portal client logged in as the account linked to every demo chart, and its link ids by handle."""
    path = module_db_path("notes-portal")
    db, summary = build_portal_db(path)
    web = portal_client(path)
    token = login(web, *EVERYONE)
    account = db.execute("SELECT id FROM accounts WHERE email = ?", (EVERYONE[0],)).fetchone()[0]
    by_patient = {link["patient_id"]: link["id"] for link in accounts.linked_records(db, account)}
    return web, token, {handle: by_patient[pid] for handle, pid in summary["patient_ids"].items()}


def test_the_portal_shows_visit_notes_as_text_and_never_the_notes_markup(everyone):
    web, token, links = everyone
    show_record(web, token, links["maria"])
    page = web.get("/portal/records/notes").get_data(as_text=True)
    assert fhir_ids(page) == [f"DocumentReference/{note('maria', 0)}", f"DocumentReference/{note('maria', 1)}"]
    assert '<div class="note-text">A1c 7.4% (goal &lt;7%), down from 8.1%.' in page
    assert '<div class="note-text">Consult\nType 2 diabetes, improving. Diet reviewed.</div>' in page
    assert "<script>" not in page and "alert(1)" not in page and "<b>improving" not in page
    assert "Download the document" not in page


def test_the_portal_offers_a_pdf_note_as_a_download_of_the_patients_own_document(everyone):
    web, token, links = everyone
    show_record(web, token, links["thomas"])
    page = web.get("/portal/records/notes").get_data(as_text=True)
    link = f'<a href="/portal/records/notes/{note("thomas", 1)}/document">Download the document (PDF)</a>'
    assert link in page
    download = web.get(f"/portal/records/notes/{note('thomas', 1)}/document")
    assert (download.status_code, download.headers["Content-Type"]) == (200, "application/pdf")
    assert download.headers["Content-Disposition"] == f'attachment; filename="note-{note("thomas", 1)}.pdf"'
    assert download.data == pdf_report(CHEST_XRAY)
    assert web.get(f"/portal/records/notes/{note('maria', 0)}/document").status_code == 404  # not on screen
    labs = web.get("/portal/records/lab-results").get_data(as_text=True)
    assert f"DiagnosticReport/{note('thomas', 1)}" not in fhir_ids(labs)
