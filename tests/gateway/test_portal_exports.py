"""Downloads: every format validates, matches what the FHIR API returns, is named after the person and the
day, honours the date range exactly, and is logged in the access history."""

import io
import re

import orjson
import pytest
from fhir.resources.R4B.bundle import Bundle
from pypdf import PdfReader

from gateway.record_sections import all_sections
from tests.portal_helpers import bearer, build_portal_db, login, portal_client, show_record


@pytest.fixture(scope="module")
def portal(module_db_path):
    path = module_db_path("exports")
    db, summary = build_portal_db(path)
    return path, db, summary


@pytest.fixture
def maria(portal):
    client = portal_client(portal[0])
    token = login(client, "maria.garcia@example.com", "Portal-Demo-1")
    return client, token


def download(client, token, fmt, start="", end="", status=200):
    response = client.post("/portal/download", data={"format": fmt, "start": start, "end": end, "csrf_token": token})
    assert response.status_code == status, response.get_data(as_text=True)[-500:]
    return response


def ids_of(bundle):
    return [f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle["entry"]]


def test_fhir_download_is_the_everything_output(maria, portal):
    client, token = maria
    _, db, summary = portal
    patient = summary["patients"]["maria"]
    response = download(client, token, "fhir", "2026-01-01", "2026-10-31")
    assert response.mimetype == "application/fhir+json"
    body = orjson.loads(response.data)
    Bundle.model_validate(body)
    api = client.get(
        f"/fhir/Patient/{patient}/$everything?start=2026-01-01&end=2026-10-31", headers=bearer(db, patient)
    ).get_json(force=True)
    assert ids_of(body) == ids_of(api) and body["total"] == api["total"]
    assert re.fullmatch(
        r'attachment; filename="Maria-Garcia_health-record_2026-01-01-to-2026-10-31_'
        r'\d{4}-\d{2}-\d{2}\.json"',
        response.headers["Content-Disposition"],
    )


def test_ips_download_validates_and_has_a_section_per_record_section(maria):
    client, token = maria
    response = download(client, token, "ips")
    body = orjson.loads(response.data)
    Bundle.model_validate(body)
    assert body["type"] == "document"
    titles = [s["title"] for s in body["entry"][0]["resource"]["section"]]
    assert titles == [s.title for s in all_sections() if s.ips]  # Visits: no IPS section defines encounters
    assert "Visits" in [s.title for s in all_sections()] and "Visits" not in titles
    assert 'filename="Maria-Garcia_patient-summary_' in response.headers["Content-Disposition"]


def test_pdf_opens_and_names_the_patient_and_every_section(maria):
    client, token = maria
    response = download(client, token, "pdf")
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Health summary of Maria Garcia" in text
    for section in all_sections():
        assert section.title in text, section.title
    assert "Glucose" in text and "Penicillin" in text


def test_printable_html_names_the_patient_and_every_section(maria):
    client, token = maria
    response = download(client, token, "html")
    html = response.get_data(as_text=True)
    assert "<title>Health summary of Maria Garcia</title>" in html
    for section in all_sections():
        assert f">{section.title}</h2>" in html
    viewed = client.post("/portal/download", data={"format": "html", "view": "1", "csrf_token": token})
    assert viewed.headers["Content-Disposition"].startswith("inline;")


def _tables(html):
    return "".join(re.findall(r"<table.*?</table>", html, re.S))


def test_a_date_range_narrows_the_printable_summary_exactly(maria):
    client, token = maria
    # Only the tables count: the "Made ..." line carries a clock time whose digits ("07:01:17.677Z") can hold "7.6".
    whole = download(client, token, "html").get_data(as_text=True)
    part = download(client, token, "html", "2026-10-01", "2026-10-31").get_data(as_text=True)
    # Maria's October labs (collected 40 days before the demo's today, 2026-11-25) are in; older ones are not.
    assert "Care from" in part and "Whole record" in whole
    assert "8.1" in _tables(part) and "7.6" in _tables(whole) and "7.6" not in _tables(part)


@pytest.mark.parametrize(
    "fmt,start,end,message",
    [
        ("zip", "", "", "Choose what to download"),
        ("pdf", "2026-05-01", "2026-01-01", "start date is after the end date"),
        ("pdf", "yesterday", "", "is not a date"),
    ],
)
def test_bad_requests_are_explained_on_the_form(maria, fmt, start, end, message):
    client, token = maria
    response = download(client, token, fmt, start, end, status=400)
    assert message in response.get_data(as_text=True)


def test_downloads_are_logged_and_a_representatives_too(portal):
    path, _, _ = portal
    client = portal_client(path)
    token = login(client, "maria.garcia@example.com", "Portal-Demo-1")
    links = re.findall(r'<option value="(\d+)"[^>]*>([^<]+)</option>', client.get("/portal/").get_data(as_text=True))
    sofia = next(link_id for link_id, label in links if label.startswith("Sofia"))
    show_record(client, token, sofia)
    download(client, token, "pdf", "2025-01-01", "")
    client.get("/portal/records/diagnoses")
    history = client.get("/portal/history").get_data(as_text=True)
    assert "downloaded a PDF summary" in history and "You" in history
    assert "viewed the record" in history


@pytest.mark.parametrize("fmt", ["fhir", "ips", "pdf", "html"])
def test_every_download_is_no_store(maria, fmt):
    client, token = maria
    assert download(client, token, fmt).headers["Cache-Control"] == "no-store"


def test_the_viewed_summary_may_use_its_own_inline_style_sheet_and_nothing_else(maria):
    import base64
    import hashlib

    client, token = maria
    viewed = client.post("/portal/download", data={"format": "html", "view": "1", "csrf_token": token})
    [style] = re.findall(r"<style>(.*?)</style>", viewed.get_data(as_text=True), re.S)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    policy = viewed.headers["Content-Security-Policy"]
    assert f"style-src 'self' 'sha256-{digest}';" in policy
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy
