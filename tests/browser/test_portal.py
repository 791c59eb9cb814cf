"""The portal's record pages in a real browser, as a patient and as a representative: view, download, send,
the access pages, and the phone menu; every page is checked with axe-core and saved as a screenshot."""

import re

import pytest
import responses

from fixtures import demo_clients
from gateway import store
from gateway.record_sections import all_sections
from tests.apps import build_app
from tests.browser.conftest import LiveServer, assert_accessible, shot
from tests.portal_helpers import build_portal_db
from tests.smart_auth.oauth_helpers import MARIA, Flow, bearer

FHIR_SERVER = "https://fhir.example.org/r4"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("portal-live") / "live.db")
    build_portal_db(path)
    demo_clients.load(store.connect(path))
    with LiveServer(path) as server:
        server.path = path
        yield server


def connect_app(live, patient):
    """Maria allows the demo app to read one record (the whole SMART flow, outside the browser); its tokens."""
    flow = Flow(build_app(live.path, TESTING=True).test_client())
    return flow, flow.tokens(who=MARIA, patient=patient)


def log_in(page, live, email="maria.garcia@example.com", password="Portal-Demo-1"):
    page.goto(f"{live.url}/portal/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def visit(page, name, shot_name):
    """Follow a link of the record navigation, check the page and save it."""
    page.locator("nav.sections.wide").get_by_role("link", name=name, exact=True).click()
    assert page.locator("h1").count() == 1
    assert_accessible(page)
    shot(page, shot_name)


def test_patient_views_every_section_and_a_detail_with_codes(page, live):
    log_in(page, live)
    page.goto(f"{live.url}/portal/records/")
    assert_accessible(page)
    shot(page, "portal-overview")
    for section in all_sections():
        visit(page, section.title, f"portal-{section.slug}")
        assert "Maria Garcia" in page.locator(".record-banner").inner_text()
    page.locator("nav.sections.wide").get_by_role("link", name="Diagnoses", exact=True).click()
    page.locator(".item h3 a").first.click()
    assert page.get_by_role("heading", name="Codes").is_visible()
    assert page.locator("table.codes code").count() >= 1
    assert_accessible(page)
    shot(page, "portal-detail")


def test_patient_downloads_a_pdf_named_after_her(page, live):
    log_in(page, live)
    visit(page, "Download", "portal-download")
    page.get_by_label("Printable summary (PDF)").check()
    page.get_by_label("From").fill("2026-01-01")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download", exact=True).click()
    assert re.fullmatch(
        r"Maria-Garcia_summary_2026-01-01-to-\d{4}-\d{2}-\d{2}_\d{4}-\d{2}-\d{2}\.pdf", info.value.suggested_filename
    )
    page.get_by_label("Printable summary (PDF)").check()
    page.get_by_label("From").fill("2026-05-01")
    page.get_by_label("To", exact=True).fill("2026-01-01")
    page.get_by_role("button", name="Download", exact=True).click()
    assert "start date is after the end date" in page.locator("#form-errors").inner_text()
    assert_accessible(page)


@responses.activate
def test_patient_sends_to_a_fhir_server_confirms_sees_a_failure_and_retries(page, live):
    responses.add_passthru(live.url)
    responses.post(
        FHIR_SERVER,
        status=422,
        json={
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "invalid", "diagnostics": "Patient.birthDate is required"}],
        },
    )
    log_in(page, live)
    visit(page, "Send to someone", "portal-send")
    page.get_by_label("Patient summary (International Patient Summary, FHIR JSON)").check()
    page.get_by_label("To a FHIR server (full record or patient summary only)").check()
    page.get_by_label("Email address or FHIR server address").fill(FHIR_SERVER)
    page.get_by_role("button", name="Continue").click()
    assert page.locator("h1").inner_text() == f"Send to {FHIR_SERVER}?"
    assert_accessible(page)
    shot(page, "portal-send-confirm")
    page.get_by_role("button", name=f"Yes, send it to {FHIR_SERVER}").click()
    assert "refused the record (HTTP 422)" in page.get_by_role("alert").inner_text()
    assert "Patient.birthDate is required" in page.get_by_role("alert").inner_text()
    assert_accessible(page)
    shot(page, "portal-send-failed")
    responses.replace(
        responses.POST,
        FHIR_SERVER,
        status=200,
        json={
            "resourceType": "Bundle",
            "type": "transaction-response",
            "entry": [{"response": {"status": "201 Created"}}],
        },
    )
    page.get_by_role("button", name="Try again").click()
    assert "accepted the record (HTTP 200)" in page.get_by_role("status").inner_text()
    shot(page, "portal-send-sent")
    visit(page, "Access history", "portal-history")
    history = page.locator("table.history").inner_text()
    assert f"sent an International Patient Summary to {FHIR_SERVER}" in history
    assert "Failed: The server refused the record" in history


def test_representative_sees_the_childs_record_and_the_view_is_logged(page, live):
    log_in(page, live)
    page.get_by_label("Switch record").select_option(label="Sofia Garcia · Sunrise Family Medicine (parent)")
    page.get_by_role("button", name="Show").click()
    page.goto(f"{live.url}/portal/records/")
    assert "you are their parent" in page.locator(".record-banner").inner_text()
    assert page.locator("nav.sections.wide").get_by_role("link", name="Representatives").count() == 0
    visit(page, "Allergies", "portal-rep-allergies")
    assert "Peanut" in page.locator("main").inner_text()
    visit(page, "Download", "portal-rep-download")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download", exact=True).click()
    assert info.value.suggested_filename.startswith("Sofia-Garcia_summary_")
    visit(page, "Access history", "portal-rep-history")
    history = page.locator("table.history").inner_text()
    assert "viewed the record" in history and "downloaded a PDF summary" in history


def test_adult_patient_sees_her_representatives(page, live):
    log_in(page, live, "david.thompson@example.net", "Portal-Demo-2")
    visit(page, "Representatives", "portal-people")
    assert page.locator("h1").inner_text() == "Who else can see your record"
    visit(page, "Connected apps", "portal-apps-empty")


def test_phone_menu_opens_without_javascript(browser, phone, live):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, java_script_enabled=False)
    no_js = context.new_page()
    log_in(no_js, live)
    no_js.goto(f"{live.url}/portal/records/lab-results")
    assert not no_js.locator("nav.sections.wide").is_visible()
    menu = no_js.locator("nav.sections.narrow summary")
    assert menu.is_visible() and not no_js.locator("nav.sections.narrow a", has_text="Medications").is_visible()
    menu.click()
    no_js.locator("nav.sections.narrow").get_by_role("link", name="Medications").click()
    assert no_js.locator("h1").inner_text() == "Medications"
    context.close()
    # axe-core runs as a script, so the same pages are checked in a phone context with JavaScript on.
    log_in(phone, live)
    phone.goto(f"{live.url}/portal/records/lab-results")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # wide tables scroll inside the page
    assert_accessible(phone)
    shot(phone, "portal-phone-labs")
    phone.locator("nav.sections.narrow summary").click()
    assert_accessible(phone)
    shot(phone, "portal-phone-menu")


@pytest.mark.parametrize(
    "patient,label", [("Maria", None), ("Sofia", "Sofia Garcia · Sunrise Family Medicine (parent)")]
)
def test_revoking_an_app_ends_its_access(page, live, patient, label):
    flow, tokens = connect_app(live, patient)
    headers = bearer(tokens["access_token"])
    assert flow.client.get(f"/fhir/Patient/{tokens['patient']}", headers=headers).status_code == 200
    log_in(page, live)
    if label:
        page.get_by_label("Switch record").select_option(label=label)
        page.get_by_role("button", name="Show").click()
    visit(page, "Connected apps", f"portal-apps-{patient.lower()}")
    app = page.locator(".apps .item").first
    assert "Last used" in app.inner_text()
    app.get_by_role("button", name=re.compile("^Revoke")).click()
    assert "can no longer read this record" in page.get_by_role("status").inner_text()
    assert_accessible(page)
    shot(page, f"portal-apps-{patient.lower()}-revoked")
    assert flow.client.get(f"/fhir/Patient/{tokens['patient']}", headers=headers).status_code == 401
    again = flow.client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "client_id": flow.client_id, "refresh_token": tokens["refresh_token"]},
    )
    assert (again.status_code, again.get_json()) == (400, {"error": "invalid_grant"})
